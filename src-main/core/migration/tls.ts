import { randomBytes } from 'node:crypto';
import { shellCommand } from '../ssh/shell.js';
import type { QmpClient } from '../qmp/index.js';
import { remoteLayout } from '../paths.js';
import type { RunContext } from './run-context.js';

/** One credentials object per migration: a VM that already received one keeps that object. */
export const tlsCredsId = (migrationId: string) => `ferry-tls-${migrationId.slice(0, 8)}`;
const PSK_USER = 'ferry';

/**
 * A fresh pre-shared key per migration, placed on both hosts (mode 0600 in a 0700 directory) and
 * removed afterwards; QEMU's tls-creds-psk reads it as "user:hexkey" from keys.psk.
 */
export async function installPsk(context: RunContext): Promise<string> {
  const directory = `${remoteLayout.runDir}/tls-${context.id}`;
  const key = randomBytes(32).toString('hex');
  for (const [host, transport] of [[context.options.from, context.source], [context.options.to, context.destination]] as const) {
    await context.pushUndo({ kind: 'remove-key-dir', host, path: directory });
    await transport.run(shellCommand(['mkdir', '-p', '-m', '0700', directory]));
    await transport.writeFile(`${directory}/keys.psk`, `${PSK_USER}:${key}\n`, 0o600);
  }
  return directory;
}

export async function addPskCredentials(qmp: QmpClient, id: string, directory: string, endpoint: 'server' | 'client'): Promise<void> {
  // The client names the key it uses; the server looks it up in keys.psk by that name.
  await qmp.execute('object-add', { 'qom-type': 'tls-creds-psk', id, dir: directory, endpoint, ...(endpoint === 'client' ? { username: PSK_USER } : {}) });
}
