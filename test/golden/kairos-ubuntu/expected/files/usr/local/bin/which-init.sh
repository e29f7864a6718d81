#!/bin/sh
# Stands for kairos-io/kairos images/which-init.sh: names the image's init system, which picks
# the k3s package of the standard variant (k8s/k3s-systemd or k8s/k3s-openrc).
if command -v systemctl >/dev/null 2>&1; then
  echo systemd
elif command -v rc >/dev/null 2>&1; then
  echo openrc
else
  exit 1
fi
