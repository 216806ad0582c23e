#!/usr/bin/env bash
# Installs the real servers the discovery integration tests run against: Prometheus (with promtool,
# to backfill test data), the distribution registry, htpasswd (the registry's htpasswd auth
# only reads bcrypt), and nginx (a rate limit that answers 429 with Retry-After in front of them). Idempotent: installs only what is missing. Without root or apt it says
# exactly what is missing and exits non-zero, so the tests fail with the reason instead of skipping.
set -euo pipefail

declare -A PACKAGE_OF=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [nginx]=nginx-light
)

missing_binaries=()
for binary in prometheus promtool docker-registry htpasswd openssl nginx; do
  command -v "$binary" >/dev/null 2>&1 || missing_binaries+=("$binary")
done
if [ ${#missing_binaries[@]} -eq 0 ]; then
  exit 0
fi

packages=()
for binary in "${missing_binaries[@]}"; do
  package="${PACKAGE_OF[$binary]}"
  [[ " ${packages[*]-} " == *" $package "* ]] || packages+=("$package")
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    echo "discovery tests: missing ${missing_binaries[*]} (Debian packages: ${packages[*]});" \
      "install them with: apt-get install -y --no-install-recommends ${packages[*]}" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "discovery tests: missing ${missing_binaries[*]} and there is no apt-get;" \
    "install Prometheus 2.x (with promtool), the distribution registry 2.8 as docker-registry, and htpasswd" >&2
  exit 1
fi

echo "discovery tests: installing ${packages[*]}" >&2
# The packages ship services; in a container without an init system their start must not fail the install.
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >&2
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2

for binary in "${missing_binaries[@]}"; do
  if ! command -v "$binary" >/dev/null 2>&1; then
    echo "discovery tests: $binary is still missing after installing ${packages[*]}" >&2
    exit 1
  fi
done
