import type { Duplex } from 'node:stream';
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
  /** Kill the command and reject with FerryError('timeout') after this long. */
  timeoutMs?: number;
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

export interface HostTransport extends EventEmitter {
  readonly label: string;
  readonly state: TransportState;
  /** Runs a command line through the remote login shell. Build it with shellCommand(). */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but rejects with FerryError('remote-command-failed') on a non-zero exit. */
  run(command: string, options?: ExecOptions): Promise<string>;
  /** A byte stream to a UNIX socket on the host (SSH streamlocal forwarding, or net.connect locally). */
  openUnixSocket(path: string): Promise<Duplex>;
  /** A byte stream to a TCP port as seen from the host (SSH direct-tcpip, or net.connect locally). */
  openTcp(host: string, port: number): Promise<Duplex>;
  readFile(path: string): Promise<Buffer>;
  /** Writes atomically (temp file + rename) with the given mode. */
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
  close(): Promise<void>;
  // events: 'state' (TransportState)
}
