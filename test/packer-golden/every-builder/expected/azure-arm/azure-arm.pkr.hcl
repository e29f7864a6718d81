# derivc: Packer template of acme-os 2.1.0_rc1: an Azure managed image in westeurope, from the raw disk (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

# Step 1: packer build -only='azure-vhd.*' .  — ../../acme-os-2.1.0_rc1.qcow2 as a fixed VHD; upload it and make the image with az (../README.md).
source "null" "azure-disk" {
  communicator = "none"
}

build {
  name    = "azure-vhd"
  sources = ["source.null.azure-disk"]

  post-processor "shell-local" {
    inline = ["mkdir -p output-azure-vhd", "qemu-img convert -f qcow2 -O vpc -o subformat=fixed,force_size ../../acme-os-2.1.0_rc1.qcow2 output-azure-vhd/acme-os-2.1.0_rc1.vhd"]
  }
}

# Step 2: packer build -only='azure-arm.*' .  — the imported image booted as the manifest says, captured.
source "azure-arm" "imported" {
  client_id                                = var.azure_client_id
  client_secret                            = var.azure_client_secret
  subscription_id                          = var.azure_subscription_id
  tenant_id                                = var.azure_tenant_id
  location                                 = "westeurope"
  vm_size                                  = "Standard_D4s_v5"
  os_type                                  = "Linux"
  os_disk_size_gb                          = 30
  custom_managed_image_name                = "acme-os-2.1.0_rc1-import"
  custom_managed_image_resource_group_name = "acme-images"
  managed_image_name                       = "acme-os-2.1.0"
  managed_image_resource_group_name        = "acme-images"
  communicator                             = "none"
}

build {
  name    = "azure-arm"
  sources = ["source.azure-arm.imported"]
}
