# derivc: Packer template of derivc-debian 12.0.1: a qcow2 disk for QEMU, from the raw disk (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "qemu" "disk" {
  iso_url          = "../../derivc-debian-12.0.1.raw"
  iso_checksum     = "none"
  disk_image       = true
  output_directory = "output-qemu"
  vm_name          = "derivc-debian-12.0.1.qcow2"
  format           = "qcow2"
  cpus             = 2
  memory           = 2048
  disk_size        = "3072M"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  headless         = true
  communicator     = "ssh"
  ssh_username     = var.ssh_username
  ssh_password     = var.ssh_password
  ssh_timeout      = "20m"
  shutdown_command = "if [ \"$(id -u)\" -eq 0 ]; then poweroff; else sudo -n poweroff; fi"
}

build {
  name    = "qemu"
  sources = ["source.qemu.disk"]
}
