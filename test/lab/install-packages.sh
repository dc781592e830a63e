#!/usr/bin/env bash
# Installs the Debian packages the lab and the test suite need, or — not root — names them and
# fails. Used by test/run-all.sh and by `npm run lab -- up`, so both work on a fresh machine.
set -euo pipefail

# libvirt: the daemon and virsh only (no libvirt-daemon-system, whose service units and default
# network have nothing to run them here); test/lab/libvirt.ts starts it per host on demand.
needed_packages=(qemu-system-x86 qemu-utils ovmf openssh-server openssh-client busybox-static cpio iproute2 chromium xvfb procps kmod psmisc util-linux
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients sudo)
missing=()
for pkg in "${needed_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

# libvirt's QEMU driver refuses to start without the account libvirt-daemon-system would have made,
# even when qemu.conf says to run guests as root.
ensure_libvirt_qemu_account() {
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
}

if ((${#missing[@]} == 0)); then
  if getent passwd libvirt-qemu >/dev/null && getent group libvirt-qemu >/dev/null; then exit 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "The libvirt-qemu user and group are missing; run this script as root to create them." >&2
    exit 1
  fi
  ensure_libvirt_qemu_account
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them first:  sudo apt-get install -y ${missing[*]}   (the lab also needs root)" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
ensure_libvirt_qemu_account
