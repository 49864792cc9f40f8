#!/usr/bin/env bash
# Installs what building and testing need on Debian 12, and nothing when it is all there.
# Idempotent: runs `apt-get update` at most once, only when a package is missing.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git ca-certificates curl unzip python3
  libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev libssl-dev
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
