import type { Duplex, Readable, Writable } from 'node:stream';
import type { EventEmitter } from 'node:events';

/** What every operation on a hypervisor host needs, whether reached over SSH or run locally. */
export type TransportState =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'lost'; reason: string; retryInMs: number }
  | { kind: 'failed'; reason: string }
  | { kind: 'closed' };

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /**
   * Kill the command and reject with FerryError('timeout') after this long. Defaults to
   * DEFAULT_EXEC_TIMEOUT_MS (2 minutes, see exec-limits.ts); `null` or Infinity for none, which is
   * only for commands that legitimately run on (disk copies, waits) and can be stopped otherwise.
   */
  timeoutMs?: number | null;
  /** stdout bytes collected before the command is killed and rejected with 'output-too-large'; default 16 MiB. */
  maxOutputBytes?: number;
  /** The same for stderr; default 1 MiB. */
  maxStderrBytes?: number;
  /**
   * Receives stdout as it arrives, for commands that run for a long time (`tail -F`); the result's
   * stdout is then left empty rather than growing without bound.
   */
  onStdout?: (chunk: Buffer) => void;
  /** Kills the command and rejects with FerryError('cancelled') when aborted. */
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecStreamOptions {
  /**
   * Required, because a stream runs as long as its data lasts, which only the caller can judge:
   * `null` for no limit (then give a signal, or watch for progress and kill() a stalled stream).
   */
  timeoutMs: number | null;
  /** Kills the command; `exit` then rejects with FerryError('cancelled'). */
  signal?: AbortSignal;
}

/** A running command whose stdin and stdout are streams with backpressure, for bulk data. */
export interface StreamedCommand {
  /** End it to send EOF; a command that does not read stdin should have it ended at once. */
  readonly stdin: Writable;
  readonly stdout: Readable;
  /**
   * Settles once the command has ended: its exit status and the start of its stderr (the rest is
   * dropped). Rejects on timeout, kill() or cancellation, and a lost connection.
   */
  readonly exit: Promise<{ code: number; stderr: string }>;
  /** Kills the command on the host; `exit` then rejects with FerryError('cancelled'). */
  kill(): void;
}

/** A socket made on the host by listenUnixSocket; close() removes it and refuses new connections. */
export interface UnixSocketListener {
  readonly path: string;
  close(): Promise<void>;
}

export interface HostTransport extends EventEmitter {
  readonly label: string;
  readonly state: TransportState;
  /** Runs a command line through the remote login shell. Build it with shellCommand(). */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but rejects with FerryError('remote-command-failed') on a non-zero exit. */
  run(command: string, options?: ExecOptions): Promise<string>;
  /**
   * Starts a command and hands back its stdin and stdout as streams, collecting nothing, so data of
   * any size passes through in bounded memory. Resolves once the command has started.
   */
  execStream(command: string, options: ExecStreamOptions): Promise<StreamedCommand>;
  /** A byte stream to a UNIX socket on the host (SSH streamlocal forwarding, or net.connect locally). */
  openUnixSocket(path: string): Promise<Duplex>;
  /** A byte stream to a TCP port as seen from the host (SSH direct-tcpip, or net.connect locally). */
  openTcp(host: string, port: number): Promise<Duplex>;
  /**
   * Makes a UNIX socket at `path` on the host whose connections arrive here, each handed to
   * `onConnection` (an SSH reverse stream-local forward). Optional: only SSH hosts can.
   */
  listenUnixSocket?(path: string, onConnection: (stream: Duplex) => void): Promise<UnixSocketListener>;
  readFile(path: string): Promise<Buffer>;
  /** Writes atomically (temp file + rename) with the given mode. */
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
  close(): Promise<void>;
  // events: 'state' (TransportState)
}
