import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A path on this machine as the user typed it, with a leading `~` meaning their home directory,
 * as the shell and OpenSSH read it (the Add Connection dialog's own placeholder is ~/.ssh/id_ed25519).
 */
export function expandHomePath(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}
