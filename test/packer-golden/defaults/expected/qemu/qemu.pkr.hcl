# derivc: Packer template of acme 1.0: a qcow2 disk for QEMU, from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "qemu" "iso" {
  iso_url          = "../../acme-1.0.iso"
  iso_checksum     = "file:../../acme-1.0.iso.sha256"
  output_directory = "output-qemu"
  vm_name          = "acme-1.0.qcow2"
  format           = "qcow2"
  cpus             = 2
  memory           = 2048
  disk_size        = "8192M"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  headless         = true
  communicator     = "ssh"
  ssh_username     = var.ssh_username
  ssh_password     = var.ssh_password
  ssh_timeout      = "20m"
  shutdown_command = "poweroff"
}

build {
  name    = "qemu"
  sources = ["source.qemu.iso"]
}
