# derivc: Packer template of acme-os 1.4.0: an AMI in eu-central-1, imported from the raw disk (generated from derivative.yaml; edit the manifest instead)
# Run it in this directory, as ../README.md says.

# Step 1: packer build -only='amazon-import.*' .  — ../../acme-os-1.4.0.qcow2 as raw to S3, then an AMI by VM Import.
source "null" "amazon-disk" {
  communicator = "none"
}

build {
  name    = "amazon-import"
  sources = ["source.null.amazon-disk"]

  post-processors {
    post-processor "shell-local" {
      inline = ["mkdir -p output-amazon-import", "qemu-img convert -f qcow2 -O raw ../../acme-os-1.4.0.qcow2 output-amazon-import/acme-os-1.4.0.raw"]
    }

    post-processor "artifice" {
      files               = ["output-amazon-import/acme-os-1.4.0.raw"]
      keep_input_artifact = true
    }

    post-processor "amazon-import" {
      access_key          = var.aws_access_key
      secret_key          = var.aws_secret_key
      region              = "eu-central-1"
      s3_bucket_name      = var.aws_s3_bucket
      s3_key_name         = "acme-os-1.4.0.raw"
      format              = "raw"
      tags                = { "derivc-import" = "acme-os-1.4.0" }
      keep_input_artifact = true
    }
  }
}

# Step 2: packer build -only='amazon-ebs.*' .  — the imported AMI launched as the manifest says, imaged.
source "amazon-ebs" "imported" {
  access_key    = var.aws_access_key
  secret_key    = var.aws_secret_key
  region        = "eu-central-1"
  instance_type = "t3.medium"
  ami_name      = "acme-os-1.4.0"
  ena_support   = true
  communicator  = "none"

  source_ami_filter {
    filters     = { "tag:derivc-import" = "acme-os-1.4.0" }
    owners      = ["self"]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = 20
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    delete_on_termination = true
  }
}

build {
  name    = "amazon-ebs"
  sources = ["source.amazon-ebs.imported"]
}
