import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { run } from '../lab/exec.js';

/**
 * Non-root login users for the lab hosts, as real hypervisor hosts often have: the lab hosts share
 * this machine's /etc/passwd and their sshd takes the lab key for every user, so a user made here
 * can log in to both. OPERATOR may run anything as root with passwordless sudo; PLAIN may not.
 */
export const SUDO_OPERATOR = 'ferry-op';
export const PLAIN_USER = 'ferry-plain';

const SUDOERS_FILE = '/etc/sudoers.d/ferry-lab-op';
const HOMES = '/var/lib/ferry-lab/homes';

async function ensureUser(name: string): Promise<void> {
  if ((await run('id', ['-u', name], { allowFail: true })).code === 0) return;
  mkdirSync(HOMES, { recursive: true });
  // Password "*": no password login, but not "locked" ("!"), which sshd without PAM refuses outright.
  await run('useradd', ['--create-home', '--home-dir', `${HOMES}/${name}`, '--shell', '/bin/bash', '--user-group', '--password', '*', name]);
}

/** Creates both users (and the sudo rule) if missing; sudo itself is one of the lab's packages. */
export async function ensureLabSudoUsers(): Promise<{ operatorGid: number }> {
  if (!existsSync('/usr/bin/sudo')) throw new Error('sudo is not installed: run test/lab/install-packages.sh as root (it installs the lab packages).');
  await ensureUser(SUDO_OPERATOR);
  await ensureUser(PLAIN_USER);
  writeFileSync(`${SUDOERS_FILE}.tmp`, `${SUDO_OPERATOR} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
  await run('visudo', ['-c', '-q', '-f', `${SUDOERS_FILE}.tmp`]);
  await run('mv', ['-f', `${SUDOERS_FILE}.tmp`, SUDOERS_FILE]);
  return { operatorGid: Number((await run('id', ['-g', SUDO_OPERATOR])).stdout.trim()) };
}

/** Removes the users, their homes and the sudo rule. */
export async function removeLabSudoUsers(): Promise<void> {
  rmSync(SUDOERS_FILE, { force: true });
  for (const name of [SUDO_OPERATOR, PLAIN_USER]) {
    if ((await run('id', ['-u', name], { allowFail: true })).code === 0) await run('userdel', ['--remove', name], { allowFail: true });
  }
}
