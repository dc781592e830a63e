import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod } from 'ssh2';

export interface ProbeTarget {
  host: string;
  port: number;
  /** An already open stream to the server (through a jump host). */
  sock?: Duplex;
}

/**
 * The host key a server presents when offered every algorithm ssh2 knows. Used only to explain a
 * refusal: the key is refused at the host-key step, so nothing is authenticated or trusted.
 * Resolves undefined if the server cannot be reached or shows no key within `timeoutMs`.
 */
export function presentedHostKey(target: ProbeTarget, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let presented: Buffer | undefined;
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.destroy();
      target.sock?.destroy();
      resolve(presented);
    };
    const timer = setTimeout(done, timeoutMs);
    client.on('error', done);
    client.on('close', done);
    // Reaching 'ready' would need authentication, which has no method here; treat it as the end.
    client.on('ready', done);
    try {
      client.connect({
        host: target.host,
        port: target.port,
        ...(target.sock === undefined ? {} : { sock: target.sock }),
        username: 'ferry-host-key-probe',
        readyTimeout: 0,
        authHandler: (_methodsLeft, _partialSuccess, next) => next(false as unknown as AnyAuthMethod),
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void): void => {
          presented = key;
          verify(false);
        },
      });
    } catch {
      done();
    }
  });
}
