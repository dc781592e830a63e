import { posix } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FerryError, isFerryError, toFerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import { tempSiblingPath } from '../ssh/temp-path.js';
import type { HostTransport, StreamedCommand } from '../ssh/transport.js';

export interface CopyFileOptions {
  /** Mode of the file on the destination; default 0600, as what is copied (a saved VM state) holds guest memory. */
  mode?: number;
  signal?: AbortSignal;
  /** Called as bytes reach the destination, with the total so far. */
  onProgress?: (copiedBytes: number) => void;
  /** A copy that moves no byte for this long is stuck (a hung host or link) and is abandoned; default 60 s. */
  stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/**
 * Copies a file from one host to another through Ferry without ever holding it: the source's
 * `cat` streams into the destination's `dd` with backpressure, so memory stays bounded whatever
 * the size. The destination writes a temp file next to the target, fsyncs it, and renames it into
 * place only once every byte arrived, so the target is either the old file or the whole new one.
 */
export async function copyFileBetweenHosts(from: HostTransport, fromPath: string, to: HostTransport, toPath: string, options: CopyFileOptions = {}): Promise<{ bytes: number }> {
  for (const path of [fromPath, toPath]) {
    if (!posix.isAbsolute(path)) throw new FerryError('invalid-input', `Copy paths must be absolute, not "${path}"`);
  }
  const mode = options.mode ?? 0o600;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new FerryError('invalid-input', `File mode must be between 0 and 07777, not ${mode}`);
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (options.signal?.aborted) throw cancelled(fromPath, from, to);

  const temp = tempSiblingPath(toPath);
  // Killing the two commands is how every failure ends the copy; timeouts would cut off big files.
  const reader = await from.execStream(shellCommand(['cat', '--', fromPath]), { timeoutMs: null });
  let writer: StreamedCommand;
  try {
    // umask first: the temp file must never be readable by others, even for a moment.
    writer = await to.execStream(`umask 077 && ${shellCommand(['dd', `of=${temp}`, 'bs=1M', 'conv=fsync', 'status=none'])}`, { timeoutMs: null });
  } catch (error) {
    reader.kill();
    throw error;
  }
  reader.stdin.end();
  writer.stdout.resume();

  let copied = 0;
  let lastMoveAt = Date.now();
  let stopReason: FerryError | undefined;
  const stop = (reason: FerryError): void => {
    stopReason ??= reason;
    reader.kill();
    writer.kill();
    reader.stdout.destroy();
    writer.stdin.destroy();
  };
  const onAbort = (): void => stop(cancelled(fromPath, from, to));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const watchdog = setInterval(() => {
    if (Date.now() - lastMoveAt < stallTimeoutMs) return;
    stop(new FerryError('timeout', `Copying ${fromPath} from ${from.label} to ${to.label} stalled: no data moved for ${Math.round(stallTimeoutMs / 1000)} s`, {
      hint: 'Check that both hosts respond and the link between them is up, then retry.',
      details: { from: from.label, to: to.label, path: fromPath, copiedBytes: copied },
    }));
  }, Math.min(1_000, stallTimeoutMs));
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      copied += chunk.length;
      lastMoveAt = Date.now();
      options.onProgress?.(copied);
      done(null, chunk);
    },
  });

  // Each step's own failure is the one worth reporting; the others then fail only as a consequence.
  const readFailure = reader.exit.then(({ code, stderr }) => (code === 0 ? undefined : readError(from, fromPath, code, stderr)), toFerryError);
  const writeFailure = writer.exit.then(({ code, stderr }) => (code === 0 ? undefined : writeError(to, toPath, code, stderr)), toFerryError);
  const pipeFailure = pipeline(reader.stdout, counter, writer.stdin).then(() => undefined, toFerryError);
  for (const failure of [readFailure, writeFailure, pipeFailure]) {
    void failure.then((error) => {
      if (error !== undefined) stop(error);
    });
  }
  let failure: FerryError | undefined;
  try {
    const [read, write, pipe] = await Promise.all([readFailure, writeFailure, pipeFailure]);
    failure = [read, write].find((error) => error !== undefined && !isFerryError(error, 'cancelled')) ?? stopReason ?? read ?? write ?? pipe;
    if (failure === undefined) {
      await to.run(`${shellCommand(['chmod', mode.toString(8), temp])} && ${shellCommand(['mv', '-f', '--', temp, toPath])}`);
      return { bytes: copied };
    }
  } catch (error) {
    failure = toFerryError(error);
  } finally {
    clearInterval(watchdog);
    options.signal?.removeEventListener('abort', onAbort);
  }
  await to.exec(shellCommand(['rm', '-f', '--', temp])).catch(() => undefined);
  throw failure;
}

function cancelled(path: string, from: HostTransport, to: HostTransport): FerryError {
  return new FerryError('cancelled', `Copying ${path} from ${from.label} to ${to.label} was cancelled`);
}

function readError(host: HostTransport, path: string, code: number, stderr: string): FerryError {
  const message = stderr.trim().split('\n')[0] ?? '';
  if (/No such file/i.test(message)) return new FerryError('not-found', `${host.label}: ${path} does not exist`, { details: { path } });
  return new FerryError('remote-command-failed', `${host.label}: cannot read ${path} (status ${code})${message === '' ? '' : `: ${message}`}`, { details: { path, code, stderr } });
}

function writeError(host: HostTransport, path: string, code: number, stderr: string): FerryError {
  const message = stderr.trim().split('\n')[0] ?? '';
  if (/No space left/i.test(message)) return new FerryError('no-space', `${host.label}: no space left to write ${path}`, { hint: 'Free space on the destination, then retry.', details: { path } });
  return new FerryError('remote-command-failed', `${host.label}: cannot write ${path} (status ${code})${message === '' ? '' : `: ${message}`}`, { details: { path, code, stderr } });
}
