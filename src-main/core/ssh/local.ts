import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmod, open, readFile, rename, unlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.js';
import { exitCodeForSignal, stdoutOrThrow } from './command-result.js';
import {
  CappedOutput,
  commandCancelled,
  commandOutputTooLarge,
  commandTimedOut,
  DEFAULT_MAX_STDERR_BYTES,
  DEFAULT_MAX_STDOUT_BYTES,
  resolveCap,
  resolveTimeoutMs,
} from './exec-limits.js';
import { tempSiblingPath } from './temp-path.js';
import type { ExecOptions, ExecResult, ExecStreamOptions, HostTransport, StreamedCommand, TransportState } from './transport.js';

/** A streamed command's stderr only feeds its error message. */
const STREAM_STDERR_BYTES = 64 * 1024;

interface ShellChild {
  process: ChildProcessWithoutNullStreams;
  /** Kills the whole process group and rejects with `error`. */
  fail(error: FerryError): void;
}

/** The same operations as SshTransport, on this machine, so the engine never special-cases "local". */
export class LocalTransport extends EventEmitter implements HostTransport {
  readonly label: string;
  private current: TransportState = { kind: 'connected' };

  constructor(label = 'local') {
    super();
    this.label = label;
  }

  get state(): TransportState {
    return this.current;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.assertOpen();
    const timeoutMs = resolveTimeoutMs(options.timeoutMs);
    const stdout = new CappedOutput(resolveCap(options.maxOutputBytes, DEFAULT_MAX_STDOUT_BYTES, 'maxOutputBytes'));
    const stderr = new CappedOutput(resolveCap(options.maxStderrBytes, DEFAULT_MAX_STDERR_BYTES, 'maxStderrBytes'));
    this.assertNotCancelled(command, options.signal);
    return new Promise<ExecResult>((resolve, reject) => {
      const child = this.spawnShell(command, { timeoutMs, signal: options.signal }, {
        reject,
        onClose: (code) => resolve({ code, stdout: stdout.text(), stderr: stderr.text() }),
      });
      child.process.stdout.on('data', (chunk: Buffer) => {
        if (options.onStdout) options.onStdout(chunk);
        else if (!stdout.push(chunk)) child.fail(commandOutputTooLarge(this.label, command, 'stdout', stdout.limitBytes));
      });
      child.process.stderr.on('data', (chunk: Buffer) => {
        if (!stderr.push(chunk)) child.fail(commandOutputTooLarge(this.label, command, 'stderr', stderr.limitBytes));
      });
      child.process.stdin.end(options.stdin);
    });
  }

  async execStream(command: string, options: ExecStreamOptions): Promise<StreamedCommand> {
    this.assertOpen();
    const timeoutMs = resolveTimeoutMs(options.timeoutMs);
    const stderr = new CappedOutput(STREAM_STDERR_BYTES);
    this.assertNotCancelled(command, options.signal);
    let onClose!: (code: number) => void;
    let reject!: (error: FerryError) => void;
    const exit = new Promise<{ code: number; stderr: string }>((resolveExit, rejectExit) => {
      onClose = (code) => resolveExit({ code, stderr: stderr.text() });
      reject = rejectExit;
    });
    const started = this.spawnShell(command, { timeoutMs, signal: options.signal }, { reject, onClose });
    started.process.stderr.on('data', (chunk: Buffer) => stderr.pushTruncating(chunk));
    // The caller learns of a failure from `exit`; an unhandled rejection would only add noise.
    exit.catch(() => undefined);
    return { stdin: started.process.stdin, stdout: started.process.stdout, exit, kill: () => started.fail(commandCancelled(this.label, command)) };
  }

  async run(command: string, options?: ExecOptions): Promise<string> {
    return stdoutOrThrow(this.label, command, await this.exec(command, options));
  }

  async openUnixSocket(path: string): Promise<Duplex> {
    this.assertOpen();
    return this.connected(connect(path), `UNIX socket ${path}`);
  }

  async openTcp(host: string, port: number): Promise<Duplex> {
    this.assertOpen();
    return this.connected(connect(port, host), `TCP ${host}:${port}`);
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertOpen();
    try {
      return await readFile(path);
    } catch (error) {
      throw this.fileError('read', path, error);
    }
  }

  async writeFile(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
    this.assertOpen();
    const temp = tempSiblingPath(path);
    try {
      const handle = await open(temp, 'wx', mode);
      try {
        await handle.writeFile(data);
        // Without fsync a crash after the rename can leave an empty file under the final name.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, mode);
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw this.fileError('write', path, error);
    }
  }

  async close(): Promise<void> {
    this.current = { kind: 'closed' };
    this.emit('state', this.current);
  }

  private assertOpen(): void {
    if (this.current.kind === 'closed') throw new FerryError('connection-lost', `${this.label}: the transport was closed`);
  }

  private connected(socket: Socket, what: string): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(socket);
      });
      const onError = (error: Error): void => reject(new FerryError('connection-failed', `${this.label}: cannot open ${what}: ${error.message}`, { cause: error }));
      socket.once('error', onError);
    });
  }

  /**
   * Starts `sh -c command` in its own process group, so that a timeout, a cap or a cancellation
   * kills the whole pipeline and not only sh: a surviving grandchild would hold the pipes open and
   * keep 'close' from ever firing.
   */
  private spawnShell(
    command: string,
    limits: { timeoutMs: number | undefined; signal: AbortSignal | undefined },
    outcome: { reject: (error: FerryError) => void; onClose: (code: number) => void },
  ): ShellChild {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let settled = false;
    const settle = (then: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      then();
    };
    const fail = (error: FerryError): void => {
      if (settled) return;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      settle(() => outcome.reject(error));
    };
    const onAbort = (): void => fail(commandCancelled(this.label, command));
    const { timeoutMs } = limits;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(commandTimedOut(this.label, command, timeoutMs)), timeoutMs);
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    // A command that does not read its stdin closes the pipe early; that is not our failure.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      settle(() => outcome.reject(new FerryError('remote-command-failed', `${this.label}: cannot start /bin/sh: ${error.message}`, { details: { command }, cause: error })));
    });
    child.on('close', (code, signal) => settle(() => outcome.onClose(code ?? exitCodeForSignal(signal))));
    return { process: child, fail };
  }

  private assertNotCancelled(command: string, signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new FerryError('cancelled', `${this.label}: command cancelled before it started`, { details: { command } });
  }

  private fileError(what: string, path: string, error: unknown): FerryError {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new FerryError('not-found', `${this.label}: ${path} does not exist`, { details: { path }, cause: error });
    if (code === 'ENOSPC') return new FerryError('no-space', `${this.label}: no space left to ${what} ${path}`, { details: { path }, cause: error });
    return new FerryError('remote-command-failed', `${this.label}: cannot ${what} ${path}: ${(error as Error).message}`, { details: { path, operation: what }, cause: error });
  }
}
