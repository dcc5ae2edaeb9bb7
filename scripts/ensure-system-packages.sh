#!/usr/bin/env bash
# Installs what the tests and benchmarks need from Debian when it is missing: PostgreSQL, Chromium, wrk, nginx.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v wrk >/dev/null 2>&1 || need+=(wrk)  # make bench: the framework ceiling
command -v nginx >/dev/null 2>&1 || need+=(nginx)  # make test-deploy: the balancer in front of two app hosts
command -v ip >/dev/null 2>&1 || need+=(iproute2)  # make test-deploy: network namespaces and veth pairs
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
