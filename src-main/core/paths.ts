import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/**
 * All of Ferry's own state (saved hosts, known host keys, migration history, the journal) lives
 * under one directory, so a user can back it up or wipe it in one place.
 */
export function ferryHome(env: NodeJS.ProcessEnv = process.env): string {
  const override = env['FERRY_HOME'];
  if (override !== undefined && override !== '') return override;
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Ferry');
    case 'win32':
      return join(env['APPDATA'] ?? join(home, 'AppData', 'Roaming'), 'Ferry');
    default:
      return join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'ferry');
  }
}

export const ferryHomeLayout = (home: string) => ({
  hosts: join(home, 'hosts.json'),
  knownHosts: join(home, 'known_hosts'),
  history: join(home, 'history'),
  journal: join(home, 'journal'),
});

/** Where Ferry keeps its state on a hypervisor host. */
export const remoteLayout = {
  stateDir: '/var/lib/ferry',
  pools: '/var/lib/ferry/pools',
  vms: '/var/lib/ferry/vms',
  logs: '/var/lib/ferry/logs',
  runDir: '/run/ferry',
} as const;
