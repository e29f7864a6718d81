# derivc: Packer variables of acme 1.0 (generated from derivative.yaml; edit the manifest instead)
# No credential or site setting has a value here: pass each at build time with -var, a -var-file kept out of
# version control, or PKR_VAR_<name> in the environment. Credentials are sensitive: Packer masks them in its output.

variable "aws_access_key" {
  type        = string
  description = "AWS access key id (empty: Packer's default chain of environment, shared profile, instance role)."
  sensitive   = true
}

variable "aws_secret_key" {
  type        = string
  description = "AWS secret access key (empty: the default chain)."
  sensitive   = true
}

variable "aws_s3_bucket" {
  type        = string
  description = "S3 bucket, in the build's region, that VM Import reads the disk from."
}
