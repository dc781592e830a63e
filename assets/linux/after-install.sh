#!/bin/bash
# Runs as root after the deb or rpm is installed; electron-builder fills in ${executable} and
# ${sanitizedProductName}. It replaces electron-builder's default script, so it also does that
# script's jobs: the Chromium sandbox helper, the desktop database and the AppArmor profile.
# (Shell variables here are written without braces: braces are electron-builder's macros.)
app_dir='/opt/${sanitizedProductName}'

# `ferry` on PATH is the CLI (see resources/bin/ferry); the desktop app is `ferry-desktop`, and
# the menu entry starts it by its full path.
chmod 0755 "$app_dir/resources/bin/ferry"
ln -sf "$app_dir/resources/bin/ferry" /usr/bin/ferry
ln -sf "$app_dir/${executable}" /usr/bin/ferry-desktop

# Chromium sandboxes its renderers with unprivileged user namespaces; only where those do not work
# does it need its setuid helper.
if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
  chmod 0755 "$app_dir/chrome-sandbox" || true
else
  chmod 4755 "$app_dir/chrome-sandbox" || true
fi

if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi

# Ubuntu 24.04 and later allow unprivileged user namespaces only to programs with an AppArmor
# profile that says so; electron-builder ships one in resources/. Older AppArmor that cannot parse
# it is left alone (the app runs there without it). Loading is skipped inside a chroot.
profile_source="$app_dir/resources/apparmor-profile"
profile_target='/etc/apparmor.d/${executable}'
if [ -f "$profile_source" ] && command -v apparmor_parser >/dev/null 2>&1 && apparmor_status --enabled >/dev/null 2>&1; then
  if apparmor_parser --skip-kernel-load --debug "$profile_source" >/dev/null 2>&1; then
    cp -f "$profile_source" "$profile_target"
    if ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
      apparmor_parser --replace --write-cache --skip-read-cache "$profile_target" || true
    fi
  fi
fi
exit 0
