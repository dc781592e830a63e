import { randomBytes } from 'node:crypto';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

export type Reachability = { reachable: true } | { reachable: false; reason: string } | { reachable: 'untested'; reason: string };

/**
 * Really tries the path the migration stream will take: a one-shot listener on the destination
 * port, and a connection to it made from the source host (not from Ferry's machine, which may sit
 * on another network).
 */
export async function testReachability(source: HostTransport, destination: HostTransport, address: string, port: number): Promise<Reachability> {
  const token = randomBytes(8).toString('hex');
  // Binds the first free port from `port` on (another pre-flight may be trying the same one at
  // the same moment), on the migration address only, and says which it got.
  const listener = `import socket,sys
s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
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
c.sendall(sys.argv[3].encode())
c.close()`;
  // Whether python3 and bash are there is asked by the same commands that use them: a round
  // trip less before every migration.
  let announced = '';
  let onAnnounced: (answer: number | 'no-python3') => void = () => undefined;
  const bound = new Promise<number | 'no-python3'>((resolve) => (onAnnounced = resolve));
  const listening = destination.exec(`command -v python3 >/dev/null || { echo no-python3; exit 0; }; exec timeout 20 python3 -c ${shellQuote(listener)} ${shellQuote(address)} ${port} ${token}`, {
    timeoutMs: 25_000,
    onStdout: (chunk) => {
      announced += chunk.toString();
      const match = /listening (\d+)/.exec(announced);
      if (match) onAnnounced(Number(match[1]));
      else if (announced.includes('no-python3')) onAnnounced('no-python3');
    },
  });
  let reached = false;
  try {
    const actual = await Promise.race([bound, listening.then(() => null)]);
    if (actual === 'no-python3') return { reachable: 'untested', reason: `python3 is not installed on ${destination.label}, so the migration port could not be tried` };
    if (actual === null) return { reachable: 'untested', reason: `no free port from ${port} on ${destination.label} to try the migration path with` };
    // A refusal is retried for a moment (the listener just started); a timeout or route error is final.
    const target = shellQuote(`/dev/tcp/${address}/${actual}`);
    const attempt = `for i in $(seq 1 40); do if exec 3<>${target}; then head -c 16 <&3; exit 0; fi 2>/dev/null; sleep 0.25; done; exec 3<>${target}`;
    const probe = await source.exec(`command -v bash >/dev/null || { echo no-bash; exit 0; }; exec timeout 15 bash -c ${shellQuote(attempt)}`, { timeoutMs: 20_000 });
    if (probe.stdout.trim() === 'no-bash') return { reachable: 'untested', reason: `bash is not installed on ${source.label}` };
    reached = probe.stdout.includes(token);
    if (reached) return { reachable: true };
    return { reachable: false, reason: `${source.label} cannot connect to ${address}:${actual}${probe.stderr.trim() ? ` (${probe.stderr.trim().split('\n').pop()})` : ''}` };
  } finally {
    // A listener that served the token has exited; any other is killed, so none is left behind.
    // The bracket keeps the pattern from matching the shell that runs pkill, whose command line
    // holds the pattern too.
    if (!reached) await destination.exec(`pkill -f ${shellQuote(`[${token.slice(0, 1)}]${token.slice(1)}`)}; true`);
    await listening.catch(() => undefined);
  }
}
