#!/usr/bin/env bash
# The whole test suite from a clean clone on Debian 12: installs what is missing, builds, checks,
# brings the two-host lab up, runs every test, and tears the lab down again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/lab/install-packages.sh
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
