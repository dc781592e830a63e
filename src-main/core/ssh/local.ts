import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmod, open, readFile, rename, unlink } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.js';
import { exitCodeForSignal, stdoutOrThrow } from './command-result.js';
import { tempSiblingPath } from './temp-path.js';
import type { ExecOptions, ExecResult, HostTransport, TransportState } from './transport.js';

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
    return new Promise<ExecResult>((resolve, reject) => {
      // Its own process group, so a timeout kills the whole pipeline and not only sh: a
      // surviving grandchild would hold the pipes open and keep 'close' from ever firing.
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        reject(new FerryError('timeout', `${this.label}: command did not finish within ${options.timeoutMs} ms`, { details: { command } }));
      }, options.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        if (options.onStdout) options.onStdout(chunk);
        else stdout.push(chunk);
      });
      options.signal?.addEventListener('abort', () => {
        timedOut = true;
        clearTimeout(timer);
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        reject(new FerryError('cancelled', `${this.label}: command cancelled`, { details: { command } }));
      }, { once: true });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A command that does not read its stdin closes the pipe early; that is not our failure.
      child.stdin.on('error', () => undefined);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new FerryError('remote-command-failed', `${this.label}: cannot start /bin/sh: ${error.message}`, { details: { command }, cause: error }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return;
        resolve({ code: code ?? exitCodeForSignal(signal), stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      child.stdin.end(options.stdin);
    });
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

  private fileError(what: string, path: string, error: unknown): FerryError {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new FerryError('not-found', `${this.label}: ${path} does not exist`, { details: { path }, cause: error });
    if (code === 'ENOSPC') return new FerryError('no-space', `${this.label}: no space left to ${what} ${path}`, { details: { path }, cause: error });
    return new FerryError('remote-command-failed', `${this.label}: cannot ${what} ${path}: ${(error as Error).message}`, { details: { path, operation: what }, cause: error });
  }
}
