# derivc: Packer template of acme-os 2.1.0_rc1: a VirtualBox VM (OVF), from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "virtualbox-iso" "iso" {
  iso_url              = "../../acme-live.iso"
  iso_checksum         = "file:../../acme-live.iso.sha256"
  output_directory     = "output-virtualbox-iso"
  vm_name              = "acme-os-2.1.0_rc1"
  guest_os_type        = "OpenSUSE_64"
  cpus                 = 2
  memory               = 3072
  disk_size            = 20480
  hard_drive_interface = "sata"
  headless             = true
  guest_additions_mode = "disable"
  vboxmanage           = [["modifyvm", "{{ .Name }}", "--firmware", "efi"]]
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
