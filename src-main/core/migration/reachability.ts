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
  const listener = `import socket,sys
s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print('listening', flush=True)
s.settimeout(15)
c,_=s.accept()
c.sendall(sys.argv[3].encode())
c.close()`;
  const [hasPython, hasBash] = await Promise.all([destination.exec('command -v python3 >/dev/null'), source.exec('command -v bash >/dev/null')]);
  if (hasPython.code !== 0) return { reachable: 'untested', reason: `python3 is not installed on ${destination.label}, so the migration port could not be tried` };
  if (hasBash.code !== 0) return { reachable: 'untested', reason: `bash is not installed on ${source.label}` };
  const bindAddress = address.includes(':') ? '::' : '0.0.0.0';
  const listening = destination.exec(`timeout 20 python3 -c ${shellQuote(listener)} ${bindAddress} ${port} ${token}`, { timeoutMs: 25_000 });
  let reached = false;
  try {
    // The listener needs a moment to start (python on a busy host); a refusal is retried, a
    // timeout or route error is final.
    const attempt = `for i in $(seq 1 40); do if exec 3<>/dev/tcp/${address}/${port}; then head -c 16 <&3; exit 0; fi 2>/dev/null; sleep 0.25; done; exec 3<>/dev/tcp/${address}/${port}`;
    const probe = await source.exec(`timeout 15 bash -c ${shellQuote(attempt)}`, { timeoutMs: 20_000 });
    reached = probe.stdout.includes(token);
    if (reached) return { reachable: true };
    return { reachable: false, reason: `${source.label} cannot connect to ${address}:${port}${probe.stderr.trim() ? ` (${probe.stderr.trim().split('\n').pop()})` : ''}` };
  } finally {
    // A listener that served the token has exited; any other is killed, so none is left behind.
    // The bracket keeps the pattern from matching the shell that runs pkill, whose command line
    // holds the pattern too.
    if (!reached) await destination.exec(`pkill -f ${shellQuote(`[${token.slice(0, 1)}]${token.slice(1)}`)}; true`);
    await listening.catch(() => undefined);
  }
}
