# derivc: Packer variables of acme 1.0 (generated from derivative.yaml; edit the manifest instead)
# No credential or site setting has a value here: pass each at build time with -var, a -var-file kept out of
# version control, or PKR_VAR_<name> in the environment. Credentials are sensitive: Packer masks them in its output.

variable "azure_client_id" {
  type        = string
  description = "Azure service principal: application (client) id."
  sensitive   = true
}

variable "azure_client_secret" {
  type        = string
  description = "Azure service principal: client secret."
  sensitive   = true
}

variable "azure_subscription_id" {
  type        = string
  description = "Azure subscription id."
  sensitive   = true
}

variable "azure_tenant_id" {
  type        = string
  description = "Azure tenant (directory) id."
  sensitive   = true
}

variable "azure_resource_group" {
  type        = string
  description = "Azure resource group of the imported and the built managed image."
}
