import type { Client, ClientChannel } from 'ssh2';
import { FerryError } from '../errors.js';
import { exitCodeForSignal } from './command-result.js';
import type { ExecOptions, ExecResult } from './transport.js';

/** Runs one command on its own session channel of an established connection. */
export function execOnClient(client: Client, command: string, options: ExecOptions, label: string): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      client.off('close', lost);
      return true;
    };
    const fail = (error: FerryError): void => {
      if (settle()) reject(error);
    };
    function lost(): void {
      fail(new FerryError('connection-lost', `${label}: the connection dropped while running a command`, { details: { command } }));
    }

    const onOpened = (opened: ClientChannel): void => {
      channel = opened;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let code: number | undefined;
      opened.on('data', (chunk: Buffer) => {
        if (options.onStdout) options.onStdout(chunk);
        else stdout.push(chunk);
      });
      opened.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      opened.on('exit', (exitCode: number | null, signal?: string) => {
        code = exitCode ?? exitCodeForSignal(signal);
      });
      opened.on('close', () => {
        // A channel that closes without an exit status was cut off, not finished.
        if (code === undefined) {
          lost();
          return;
        }
        const result = { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
        if (settle()) resolve(result);
      });
      opened.end(options.stdin);
    };

    const kill = (): void => {
      try {
        // OpenSSH honours the signal request; closing the channel covers servers that do not.
        channel?.signal('KILL');
        channel?.close();
      } catch {
        // The channel is already gone, which is what we wanted.
      }
    };
    if (options.signal) {
      if (options.signal.aborted) {
        fail(new FerryError('cancelled', `${label}: command cancelled before it started`, { details: { command } }));
        return;
      }
      options.signal.addEventListener('abort', () => {
        kill();
        fail(new FerryError('cancelled', `${label}: command cancelled`, { details: { command } }));
      }, { once: true });
    }
    client.once('close', lost);
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        try {
          // OpenSSH honours the signal request; closing the channel covers servers that do not.
          channel?.signal('KILL');
          channel?.close();
        } catch {
          // The channel is already gone, which is what we wanted.
        }
        fail(new FerryError('timeout', `${label}: command did not finish within ${options.timeoutMs} ms`, { details: { command } }));
      }, options.timeoutMs);
    }
    try {
      client.exec(command, (error, opened) => {
        if (error) fail(new FerryError('connection-failed', `${label}: cannot start a command: ${error.message}`, { details: { command }, cause: error }));
        else onOpened(opened);
      });
    } catch (error) {
      // ssh2 throws "Not connected" synchronously if the socket died just before this call.
      fail(new FerryError('connection-lost', `${label}: the connection dropped: ${(error as Error).message}`, { details: { command }, cause: error }));
    }
  });
}
