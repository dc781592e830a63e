#!/bin/bash
# Runs as root after the deb or rpm is removed; electron-builder fills in ${executable} and
# ${sanitizedProductName}. dpkg passes remove, purge, upgrade, …; rpm passes how many copies remain
# (0 when removed, 1 when upgraded). rpm runs the old package's script after the new one's
# after-install, so only a real removal may take the links away.
case "$1" in
  remove | purge | 0) ;;
  *) exit 0 ;;
esac

app_dir='/opt/${sanitizedProductName}'
for link in /usr/bin/ferry /usr/bin/ferry-desktop; do
  # Only links into this package: a `ferry` someone else put there stays.
  case "$(readlink "$link" 2>/dev/null)" in
    "$app_dir"/*) rm -f "$link" ;;
  esac
done

profile='/etc/apparmor.d/${executable}'
if [ -f "$profile" ]; then
  if apparmor_status --enabled >/dev/null 2>&1 && command -v apparmor_parser >/dev/null 2>&1 && ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
    apparmor_parser --remove "$profile" || true
  fi
  rm -f "$profile"
fi
exit 0
