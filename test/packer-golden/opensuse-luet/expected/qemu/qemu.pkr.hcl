# derivc: Packer template of acme-os 1.4.0: a qcow2 disk for QEMU, installed from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "qemu" "iso" {
  iso_url          = "../../acme-os-1.4.0.iso"
  iso_checksum     = "file:../../acme-os-1.4.0.iso.sha256"
  output_directory = "output-qemu"
  vm_name          = "acme-os-1.4.0.qcow2"
  format           = "qcow2"
  accelerator      = "kvm"
  cpus             = 2
  memory           = 2048
  disk_size        = "20480M"
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
  sources = ["source.qemu.iso"]

  provisioner "shell" {
    environment_vars = ["DERIVC_INSTALL_DEVICE=${var.install_device}"]
    execute_command  = "chmod +x '{{ .Path }}'; if [ \"$(id -u)\" -eq 0 ]; then {{ .Vars }} '{{ .Path }}'; else sudo -n env {{ .Vars }} '{{ .Path }}'; fi"
    inline           = ["mkdir -p /tmp/derivc-install", "printf '%s\\n' install: '  partitions:' '    oem:' '      label: \"ACME_OEM\"' '    recovery:' '      label: \"ACME_RECOVERY\"' '    state:' '      label: \"ACME_STATE\"' '    persistent:' '      label: \"ACME_PERSISTENT\"' '  system:' '    label: \"ACME_ACTIVE\"' '  recovery-system:' '    label: \"ACME_SYSTEM\"' > /tmp/derivc-install/config.yaml", "cos-installer --config-dir /tmp/derivc-install \"$DERIVC_INSTALL_DEVICE\""]
  }
}
