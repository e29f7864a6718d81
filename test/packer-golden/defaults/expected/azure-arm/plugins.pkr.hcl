# derivc: Packer plugins of acme 1.0 (generated from derivative.yaml; edit the manifest instead)
# Packer 1.7 and later: run `packer init .` once to install them. Packer 1.6 bundles its builders and does not
# know this block: run it in a copy of this directory without this file.

packer {
  required_plugins {
    azure = { "version" = ">= 1.0.0", "source" = "github.com/hashicorp/azure" }
  }
}
