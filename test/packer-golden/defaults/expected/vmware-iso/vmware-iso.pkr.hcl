# derivc: Packer template of acme 1.0: a VMware VM (VMX), from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "vmware-iso" "iso" {
  iso_url           = "../../acme-1.0.iso"
  iso_checksum      = "file:../../acme-1.0.iso.sha256"
  output_directory  = "output-vmware-iso"
  vm_name           = "acme-1.0"
  guest_os_type     = "otherlinux-64"
  cpus              = 2
  memory            = 2048
  disk_size         = 8192
  disk_adapter_type = "sata"
  headless          = true
  communicator      = "ssh"
  ssh_username      = var.ssh_username
  ssh_password      = var.ssh_password
  ssh_timeout       = "20m"
  shutdown_command  = "poweroff"
}

build {
  name    = "vmware-iso"
  sources = ["source.vmware-iso.iso"]
}
