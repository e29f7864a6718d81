# derivc: Packer template of acme-os 2.1.0_rc1: a Compute Engine image, imported from the raw disk (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

# Step 1: packer build -only='googlecompute-import.*' .  — ../../acme-os-2.1.0_rc1.qcow2 as disk.raw in a tar.gz, to the bucket, imported as an image.
source "null" "googlecompute-disk" {
  communicator = "none"
}

build {
  name    = "googlecompute-import"
  sources = ["source.null.googlecompute-disk"]

  post-processors {
    post-processor "shell-local" {
      inline = ["mkdir -p output-googlecompute-import", "qemu-img convert -f qcow2 -O raw ../../acme-os-2.1.0_rc1.qcow2 output-googlecompute-import/disk.raw", "tar --format=oldgnu -Sczf output-googlecompute-import/acme-os-2.1.0_rc1.tar.gz -C output-googlecompute-import disk.raw"]
    }

    post-processor "artifice" {
      files               = ["output-googlecompute-import/acme-os-2.1.0_rc1.tar.gz"]
      keep_input_artifact = true
    }

    post-processor "googlecompute-import" {
      account_file        = var.gcp_account_file
      project_id          = "acme-images"
      bucket              = var.gcp_bucket
      image_name          = "acme-os-2-1-0-rc1-import"
      keep_input_artifact = true
    }
  }
}

# Step 2: packer build -only='googlecompute.*' .  — the imported image booted as the manifest says, imaged.
source "googlecompute" "imported" {
  account_file = var.gcp_account_file
  project_id   = "acme-images"
  zone         = "europe-west1-b"
  machine_type = "n2-standard-2"
  source_image = "acme-os-2-1-0-rc1-import"
  disk_size    = 20
  image_name   = "acme-os-2-1-0-rc1"
  image_family = "acme-os"
  communicator = "none"
}

build {
  name    = "googlecompute"
  sources = ["source.googlecompute.imported"]
}
