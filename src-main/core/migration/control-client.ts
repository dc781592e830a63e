import { readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { MigrationRecord, MigrationSummary } from '../api/types.js';
import { FerryError } from '../errors.js';
import { controlDirectory, controlSocketPath, type ControlMessage, type ControlRequest } from './control-protocol.js';

/** No Ferry process serves this migration (it ended, or the process that ran it is gone). */
export const isNotServed = (error: unknown) => error instanceof FerryError && error.details?.['notServed'] === true;

/**
 * Sends one request to the process running migration `id` and hands each line it answers to
 * `onMessage`; resolves when that process closes the connection.
 */
export function talkToMigration(home: string, id: string, request: ControlRequest, onMessage: (message: ControlMessage) => void, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(home, id));
    // Stopping hangs up: the call resolves with what was heard so far.
    stop?.addEventListener('abort', () => socket.destroy(), { once: true });
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

/** How long a Ferry process gets to answer a listing; a hung one is left out, not waited for. */
const LIST_ANSWER_MS = 3_000;

/**
 * The record of migration `id` as the Ferry process running it has it now, or undefined if no
 * process serves it. A socket file with no listener is what a crashed process leaves: removed.
 */
export async function runningRecord(home: string, id: string): Promise<MigrationRecord | undefined> {
  let record: MigrationRecord | undefined;
  const done = new AbortController();
  const timer = setTimeout(() => done.abort(), LIST_ANSWER_MS);
  try {
    await talkToMigration(home, id, { op: 'watch' }, (message) => {
      if (message.type === 'record') {
        record = message.record;
        done.abort();
      }
    }, done.signal);
    return record;
  } catch (error) {
    if (!isNotServed(error)) return record;
    await rm(controlSocketPath(home, id), { force: true }).catch(() => undefined);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Records of the migrations other Ferry processes of this user run now (see control-socket.ts). */
export async function migrationsRunningElsewhere(home: string, except: ReadonlySet<string>): Promise<MigrationRecord[]> {
  let names: string[];
  try {
    names = await readdir(controlDirectory(home));
  } catch {
    return [];
  }
  const ids = names.flatMap((name) => /^migration-([A-Za-z0-9-]{1,64})\.sock$/.exec(name)?.[1] ?? []).filter((id) => !except.has(id));
  const records = await Promise.all(ids.map((id) => runningRecord(home, id)));
  return records.filter((record): record is MigrationRecord => record !== undefined && record.report === null);
}
