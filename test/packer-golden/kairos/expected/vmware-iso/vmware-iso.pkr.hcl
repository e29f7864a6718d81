# derivc: Packer template of edge 3.7.2: a VMware VM (VMX), installed from the live ISO (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

source "vmware-iso" "iso" {
  iso_url           = "../../edge-3.7.2.iso"
  iso_checksum      = "file:../../edge-3.7.2.iso.sha256"
  output_directory  = "output-vmware-iso"
  vm_name           = "edge-3.7.2"
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
  shutdown_command  = "if [ \"$(id -u)\" -eq 0 ]; then poweroff; else sudo -n poweroff; fi"
}

build {
  name    = "vmware-iso"
  sources = ["source.vmware-iso.iso"]

  provisioner "shell" {
    environment_vars = ["DERIVC_INSTALL_DEVICE=${var.install_device}"]
    execute_command  = "chmod +x '{{ .Path }}'; if [ \"$(id -u)\" -eq 0 ]; then {{ .Vars }} '{{ .Path }}'; else sudo -n env {{ .Vars }} '{{ .Path }}'; fi"
    inline           = ["mkdir -p /tmp/derivc-install", "printf '%s\\n' '#cloud-config' install: '  nousers: true' '  partitions:' '    oem:' '      label: \"COS_OEM\"' '    recovery:' '      label: \"COS_RECOVERY\"' '    state:' '      label: \"COS_STATE\"' '    persistent:' '      label: \"COS_PERSISTENT\"' '  system:' '    label: \"COS_ACTIVE\"' '  recovery-system:' '    label: \"COS_SYSTEM\"' > /tmp/derivc-install/config.yaml", "kairos-agent manual-install --device \"$DERIVC_INSTALL_DEVICE\" /tmp/derivc-install/config.yaml"]
  }
}
