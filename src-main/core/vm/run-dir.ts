import { remoteLayout } from '../paths.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import { vmRunFiles } from './layout.js';

/** The group (a number) whose members may open the VMs' sockets; written by sudo connections. */
export const SOCKET_GROUP_FILE = `${remoteLayout.stateDir}/socket-group`;

/**
 * Shell, run right before a QEMU starts (vms.start, a migration's destination, the boot script):
 * creates the run directory and `extraDirs`, and sets the umask QEMU makes its sockets with.
 *
 * Why the group: on a host reached through sudo, commands run as root but Ferry opens the QMP,
 * serial and VNC sockets through sshd's socket forwarding, which connects as the SSH user. So the
 * run directory belongs to that user's primary group (sudo names it in SUDO_GID) with the setgid
 * bit, every socket QEMU creates in it inherits the group, and umask 007 makes them group-writable
 * (connect(2) needs write permission). The group is written down in SOCKET_GROUP_FILE because the
 * boot script runs without sudo. A root connection changes nothing of this. A QEMU started with
 * -daemonize sets its own umask (027) before it makes its sockets: openVmSocketsScript follows.
 */
export function prepareRunDirScript(extraDirs: readonly string[] = []): string {
  const file = shellQuote(SOCKET_GROUP_FILE);
  return [
    shellCommand(['mkdir', '-p', '-m', '0700', remoteLayout.runDir, remoteLayout.stateDir, ...extraDirs]),
    `{ [ -z "\${SUDO_GID:-}" ] || [ "$SUDO_GID" = 0 ] || { printf '%s\\n' "$SUDO_GID" > ${file}.tmp && mv -f -- ${file}.tmp ${file}; }; }`,
    `if [ -s ${file} ]; then read -r f_socket_group < ${file} && chgrp -- "$f_socket_group" ${shellQuote(remoteLayout.runDir)} && chmod 2770 ${shellQuote(remoteLayout.runDir)} && umask 007; fi`,
  ].join(' && ');
}

/**
 * Shell, run once the VM's QEMU has started: makes its sockets group-writable where a socket group
 * is set (see prepareRunDirScript). Always succeeds, so it never hides QEMU's own exit status.
 */
export function openVmSocketsScript(name: string): string {
  const file = shellQuote(SOCKET_GROUP_FILE);
  return `{ if [ -s ${file} ]; then ${shellCommand(['chmod', 'g+rw', '--', ...vmRunFiles(name)])} 2>/dev/null; fi; true; }`;
}
