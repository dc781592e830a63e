#!/bin/sh
# The `ferry` command of the deb and rpm packages (/usr/bin/ferry links here, to
# /opt/Ferry/resources/bin/ferry). It runs the CLI bundled in app.asar with the app's own Electron
# binary acting as plain Node (ELECTRON_RUN_AS_NODE), so the packages need no separate Node.js
# (Debian 12 ships Node 18, Ferry needs 20.19 or newer) and the CLI works over SSH with no display.
# This is the one reason the RunAsNode fuse stays on (electron-builder.yml).
set -e
launcher=$(readlink -f "$0")
resources=$(dirname "$(dirname "$launcher")")
app_dir=$(dirname "$resources")
ELECTRON_RUN_AS_NODE=1 exec "$app_dir/ferry" "$resources/app.asar/dist/main/cli/main.js" "$@"
