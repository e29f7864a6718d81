# derivc: Packer template of acme-os 2.1.0_rc1: a raw disk for QEMU, from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "qemu" "iso" {
  iso_url          = "../../acme-live.iso"
  iso_checksum     = "file:../../acme-live.iso.sha256"
  output_directory = "output-qemu"
  vm_name          = "acme-os-2.1.0_rc1.raw"
  format           = "raw"
  accelerator      = "kvm"
  cpus             = 4
  memory           = 4096
  disk_size        = "20480M"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  headless         = false
  qemuargs         = [["-bios", "/usr/share/ovmf/OVMF.fd"]]
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
