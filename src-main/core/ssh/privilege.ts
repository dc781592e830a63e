import { FerryError } from '../errors.js';
import { shellQuote } from './shell.js';

/**
 * How Ferry's commands get root on a host. Ferry needs root there (QEMU's taps, /var/lib/ferry,
 * /run/ferry, disks in /dev), so an SSH user who is not root reaches it through passwordless sudo:
 * every command, the host session and the kill of a command run under `sudo -n`, which fails at
 * once instead of waiting for a password nobody can type.
 */
export type Privilege = 'login-user' | 'sudo';

/** A command line that runs `command` with the connection's privilege. */
export function withPrivilege(privilege: Privilege, command: string): string {
  if (privilege === 'login-user') return command;
  return `sudo -n -- sh -c ${shellQuote(command)}`;
}

/** What sshd runs to start a host session (see host-session-program.ts). */
export function hostSessionCommand(privilege: Privilege): string {
  return privilege === 'sudo' ? 'exec sudo -n -- sh -s' : 'exec sh -s';
}

/** Asked once per connection: does sudo give root without a password? */
export const SUDO_PROBE = 'sudo -n -- id -u';

/** The error for a sudo probe that did not answer 0. */
export function sudoRefused(label: string, user: string, probe: { code: number; stdout: string; stderr: string }): FerryError {
  const said = probe.stderr.trim().split('\n')[0] ?? '';
  const missing = probe.code === 127 || /sudo: (command )?not found/i.test(said);
  const message = missing
    ? `${label}: sudo is not installed, so ${user} cannot run Ferry's commands as root`
    : `${label}: ${user} cannot use sudo without a password${said === '' ? '' : ` (sudo said: ${said})`}`;
  const hint = missing
    ? 'Install sudo on the host (apt install sudo / dnf install sudo) and allow the user, or connect as root.'
    : `Allow it on the host with a line \`${user} ALL=(root) NOPASSWD: ALL\` in /etc/sudoers.d/ferry (edit with visudo -f), or connect as root.`;
  return new FerryError('auth-failed', message, { hint, details: { user, exitCode: probe.code } });
}
