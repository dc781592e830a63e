import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { MigrationSummary } from '../api/types.js';
import { FerryError } from '../errors.js';
import { controlSocketPath, type ControlMessage, type ControlRequest } from './control-protocol.js';

/** No Ferry process serves this migration (it ended, or the process that ran it is gone). */
export const isNotServed = (error: unknown) => error instanceof FerryError && error.details?.['notServed'] === true;

/**
 * Sends one request to the process running migration `id` and hands each line it answers to
 * `onMessage`; resolves when that process closes the connection.
 */
export function talkToMigration(home: string, id: string, request: ControlRequest, onMessage: (message: ControlMessage) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(home, id));
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')) {
        reject(new FerryError('not-found', `Migration ${id} is not running in any Ferry process`, {
          hint: 'If its Ferry was stopped, `ferry migration recover` settles it; `ferry migration list` shows the recorded ones.',
          details: { notServed: true },
        }));
      } else {
        reject(new FerryError('connection-lost', `Lost the connection to the Ferry process running migration ${id}: ${error.message}`));
      }
    });
    // readline re-emits the socket's errors; the socket's own handler above reports them.
    const lines = createInterface({ input: socket });
    lines.on('error', () => undefined);
    lines.on('line', (line) => {
      try {
        onMessage(JSON.parse(line) as ControlMessage);
      } catch (error) {
        socket.destroy();
        reject(error instanceof SyntaxError ? new FerryError('internal', `The Ferry process running migration ${id} answered something that is not JSON`) : error);
      }
    });
    socket.once('close', () => resolve());
  });
}

/** cancel or tune: the summary after it, or the FerryError the running process gave. */
export async function controlMigration(home: string, id: string, request: Exclude<ControlRequest, { op: 'watch' }>): Promise<MigrationSummary> {
  let answer: ControlMessage | undefined;
  await talkToMigration(home, id, request, (message) => (answer = message));
  if (answer?.type === 'result') return answer.summary;
  if (answer?.type === 'error') throw new FerryError(answer.error.code, answer.error.message, answer.error.hint === undefined ? {} : { hint: answer.error.hint });
  throw new FerryError('connection-lost', `The Ferry process running migration ${id} closed the connection without an answer`, { hint: '`ferry migration show` tells whether it is still running.' });
}
