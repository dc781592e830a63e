#!/usr/bin/env bash
# The whole test suite from a clean clone on Debian 12: installs what is missing, builds, checks,
# brings the two-host lab up, runs every test, and tears the lab down again.
set -euo pipefail
cd "$(dirname "$0")/.."

needed_packages=(qemu-system-x86 qemu-utils openssh-server openssh-client busybox-static cpio iproute2 chromium xvfb procps kmod psmisc)
missing=()
for pkg in "${needed_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them first:  sudo apt-get install -y ${missing[*]}   (the lab also needs root: run this script as root)" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The test lab creates network namespaces and runs sshd and QEMU: run this script as root." >&2
  exit 1
fi

# No Electron binary is needed (or downloadable) for the tests: the engine runs under plain Node
# and the renderer is tested in Debian's Chromium.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
npm ci --no-audit --no-fund
npm run build
npm run typecheck
npm run lint

cleanup() { npm run --silent lab -- down || true; }
trap cleanup EXIT
npm run --silent lab -- up
npx vitest run
