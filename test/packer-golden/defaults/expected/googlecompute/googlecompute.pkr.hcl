# derivc: Packer template of acme 1.0: a Compute Engine image, imported from the raw disk (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

# Step 1: packer build -only='googlecompute-import.*' .  — ../../acme-1.0.raw as disk.raw in a tar.gz, to the bucket, imported as an image.
source "null" "googlecompute-disk" {
  communicator = "none"
}

build {
  name    = "googlecompute-import"
  sources = ["source.null.googlecompute-disk"]

  post-processors {
    post-processor "shell-local" {
      inline = ["mkdir -p output-googlecompute-import", "qemu-img convert -f raw -O raw ../../acme-1.0.raw output-googlecompute-import/disk.raw", "tar --format=oldgnu -Sczf output-googlecompute-import/acme-1.0.tar.gz -C output-googlecompute-import disk.raw"]
    }

    post-processor "artifice" {
      files               = ["output-googlecompute-import/acme-1.0.tar.gz"]
      keep_input_artifact = true
    }

    post-processor "googlecompute-import" {
      account_file        = var.gcp_account_file
      project_id          = var.gcp_project_id
      bucket              = var.gcp_bucket
      image_name          = "acme-1-0-import"
      keep_input_artifact = true
    }
  }
}

# Step 2: packer build -only='googlecompute.*' .  — the imported image booted as the manifest says, imaged.
source "googlecompute" "imported" {
  account_file = var.gcp_account_file
  project_id   = var.gcp_project_id
  zone         = "us-central1-a"
  machine_type = "e2-standard-2"
  source_image = "acme-1-0-import"
  disk_size    = 8
  image_name   = "acme-1-0"
  communicator = "none"
}

build {
  name    = "googlecompute"
  sources = ["source.googlecompute.imported"]
}
