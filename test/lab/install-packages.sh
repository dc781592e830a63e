#!/usr/bin/env bash
# Installs the Debian packages the lab and the test suite need, or — not root — names them and
# fails. Used by test/run-all.sh and by `npm run lab -- up`, so both work on a fresh machine.
set -euo pipefail

needed_packages=(qemu-system-x86 qemu-utils openssh-server openssh-client busybox-static cpio iproute2 chromium xvfb procps kmod psmisc util-linux)
missing=()
for pkg in "${needed_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them first:  sudo apt-get install -y ${missing[*]}   (the lab also needs root)" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
