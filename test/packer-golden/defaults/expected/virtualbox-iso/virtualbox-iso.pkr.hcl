# derivc: Packer template of acme 1.0: a VirtualBox VM (OVF), from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "virtualbox-iso" "iso" {
  iso_url              = "../../acme-1.0.iso"
  iso_checksum         = "file:../../acme-1.0.iso.sha256"
  output_directory     = "output-virtualbox-iso"
  vm_name              = "acme-1.0"
  guest_os_type        = "Linux_64"
  cpus                 = 2
  memory               = 2048
  disk_size            = 8192
  hard_drive_interface = "sata"
  headless             = true
  guest_additions_mode = "disable"
  communicator         = "ssh"
  ssh_username         = var.ssh_username
  ssh_password         = var.ssh_password
  ssh_timeout          = "20m"
  shutdown_command     = "poweroff"
}

build {
  name    = "virtualbox-iso"
  sources = ["source.virtualbox-iso.iso"]
}
