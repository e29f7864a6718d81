# derivc: Packer variables of acme 1.0 (generated from derivative.yaml; edit the manifest instead)
# No credential or site setting has a value here: pass each at build time with -var, a -var-file kept out of
# version control, or PKR_VAR_<name> in the environment. Credentials are sensitive: Packer masks them in its output.

variable "ssh_username" {
  type        = string
  description = "User Packer logs in as over SSH (the live system must allow it). Not sensitive: Packer would mask a name like root in every line it prints."
}

variable "ssh_password" {
  type        = string
  description = "Password of ssh_username on the live system."
  sensitive   = true
}

variable "install_device" {
  type        = string
  description = "The VM's disk as the live system names it: where the installer installs."
  default     = "/dev/sda"
}
