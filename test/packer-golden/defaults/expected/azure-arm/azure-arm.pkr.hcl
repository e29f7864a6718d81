# derivc: Packer template of acme 1.0: an Azure managed image in eastus, from the raw disk (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

# Step 1: packer build -only='azure-vhd.*' .  — ../../acme-1.0.raw as a fixed VHD; upload it and make the image with az (../README.md).
source "null" "azure-disk" {
  communicator = "none"
}

build {
  name    = "azure-vhd"
  sources = ["source.null.azure-disk"]

  post-processor "shell-local" {
    inline = ["mkdir -p output-azure-vhd", "qemu-img convert -f raw -O vpc -o subformat=fixed,force_size ../../acme-1.0.raw output-azure-vhd/acme-1.0.vhd"]
  }
}

# Step 2: packer build -only='azure-arm.*' .  — the imported image booted as the manifest says, captured.
source "azure-arm" "imported" {
  client_id                                = var.azure_client_id
  client_secret                            = var.azure_client_secret
  subscription_id                          = var.azure_subscription_id
  tenant_id                                = var.azure_tenant_id
  location                                 = "eastus"
  vm_size                                  = "Standard_D2s_v3"
  os_type                                  = "Linux"
  os_disk_size_gb                          = 8
  custom_managed_image_name                = "acme-1.0-import"
  custom_managed_image_resource_group_name = var.azure_resource_group
  managed_image_name                       = "acme-1.0"
  managed_image_resource_group_name        = var.azure_resource_group
  communicator                             = "none"
}

build {
  name    = "azure-arm"
  sources = ["source.azure-arm.imported"]
}
