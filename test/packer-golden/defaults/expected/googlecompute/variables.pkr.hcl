# derivc: Packer variables of acme 1.0 (generated from derivative.yaml; edit the manifest instead)
# No credential or site setting has a value here: pass each at build time with -var, a -var-file kept out of
# version control, or PKR_VAR_<name> in the environment. Credentials are sensitive: Packer masks them in its output.

variable "gcp_account_file" {
  type        = string
  description = "Service-account key: a JSON file path or its content (empty: application default credentials)."
  sensitive   = true
}

variable "gcp_project_id" {
  type        = string
  description = "Google Cloud project the image is made in."
}

variable "gcp_bucket" {
  type        = string
  description = "Cloud Storage bucket the disk is uploaded to for the image import."
}
