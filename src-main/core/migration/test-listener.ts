import { randomBytes } from 'node:crypto';
import { shellQuote } from '../ssh/shell.js';
import type { ExecResult, HostTransport } from '../ssh/transport.js';

/**
 * A one-shot TCP listener on the destination's migration address, for pre-flight's tests of the
 * path the migration stream will take (python3 there: the only portable way to listen from a
 * shell). It binds the first free port from `firstPort` on (another pre-flight may be trying the
 * same one at the same moment), on that address only, says which it got, accepts one
 * connection and runs `onAccepted` (python, with `c` the connection and `token` argv[3]).
 * SO_REUSEADDR: the accepted connection ends in TIME_WAIT on this port, and Linux lets a later
 * bind (QEMU's, qemu-nbd's) take a port in TIME_WAIT only if both sockets set it; without it, the
 * ports pre-flight tried were refused to the migration for a minute ("Address already in use").
 */
export interface TestListener {
  /** Random per listener: what it sends back proves the connection reached this listener. */
  readonly token: string;
  /** The port it listens on; 'no-python3' when the host has none; null when it could not bind. */
  readonly port: Promise<number | 'no-python3' | null>;
  /** Everything it printed so far. */
  output(): string;
  /** Settles when it has exited. */
  readonly exited: Promise<ExecResult | undefined>;
  /** Kills it if it still runs. */
  stop(): Promise<void>;
}

export function startTestListener(destination: HostTransport, address: string, firstPort: number, onAccepted: string, timeoutSeconds: number): TestListener {
  const token = randomBytes(8).toString('hex');
  const program = `import socket,sys,time
s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
for p in range(int(sys.argv[2]), int(sys.argv[2]) + 50):
  try:
    s.bind((sys.argv[1], p))
    break
  except OSError:
    continue
else:
  sys.exit(3)
s.listen(1)
print('listening', p, flush=True)
s.settimeout(15)
c,_=s.accept()
token=sys.argv[3]
${onAccepted}`;
  let printed = '';
  let announce: (answer: number | 'no-python3' | null) => void = () => undefined;
  const port = new Promise<number | 'no-python3' | null>((resolve) => (announce = resolve));
  // Whether python3 is there is asked by the same command: a round trip less.
  const exited = destination
    .exec(`command -v python3 >/dev/null || { echo no-python3; exit 0; }; exec timeout ${timeoutSeconds} python3 -c ${shellQuote(program)} ${shellQuote(address)} ${firstPort} ${token}`, {
      timeoutMs: (timeoutSeconds + 5) * 1000,
      onStdout: (chunk) => {
        printed += chunk.toString();
        const match = /listening (\d+)/.exec(printed);
        if (match) announce(Number(match[1]));
        else if (printed.includes('no-python3')) announce('no-python3');
      },
    })
    .then(
      (result) => result,
      () => undefined,
    );
  void exited.then(() => announce(null));
  return {
    token,
    port,
    output: () => printed,
    exited,
    stop: async () => {
      // The bracket keeps the pattern from matching the shell that runs pkill, whose command
      // line holds the pattern too.
      await destination.exec(`pkill -f ${shellQuote(`[${token.slice(0, 1)}]${token.slice(1)}`)}; true`).catch(() => undefined);
      await exited;
    },
  };
}

/** A connection's worth of bytes from the source host through bash's /dev/tcp, or 'no-bash'. */
export function bashTcpCommand(address: string, port: number, script: (target: string) => string, timeoutSeconds: number): string {
  const target = shellQuote(`/dev/tcp/${address}/${port}`);
  return `command -v bash >/dev/null || { echo no-bash; exit 0; }; exec timeout ${timeoutSeconds} bash -c ${shellQuote(script(target))}`;
}
