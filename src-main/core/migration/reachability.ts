import type { HostTransport } from '../ssh/transport.js';
import { bashTcpCommand, startTestListener } from './test-listener.js';

export type Reachability = { reachable: true } | { reachable: false; reason: string } | { reachable: 'untested'; reason: string };

/**
 * Really tries the path the migration stream will take: a one-shot listener on the destination
 * port, and a connection to it made from the source host (not from Ferry's machine, which may sit
 * on another network).
 */
export async function testReachability(source: HostTransport, destination: HostTransport, address: string, port: number): Promise<Reachability> {
  const listener = startTestListener(destination, address, port, 'c.sendall(token.encode())\nc.close()', 20);
  let reached = false;
  try {
    const actual = await listener.port;
    if (actual === 'no-python3') return { reachable: 'untested', reason: `python3 is not installed on ${destination.label}, so the migration port could not be tried` };
    if (actual === null) return { reachable: 'untested', reason: `no free port from ${port} on ${destination.label} to try the migration path with` };
    // A refusal is retried for a moment (the listener just started); a timeout or route error is final.
    const attempt = (target: string) => `for i in $(seq 1 40); do if exec 3<>${target}; then head -c 16 <&3; exit 0; fi 2>/dev/null; sleep 0.25; done; exec 3<>${target}`;
    const probe = await source.exec(bashTcpCommand(address, actual, attempt, 15), { timeoutMs: 20_000 });
    if (probe.stdout.trim() === 'no-bash') return { reachable: 'untested', reason: `bash is not installed on ${source.label}` };
    reached = probe.stdout.includes(listener.token);
    if (reached) return { reachable: true };
    return { reachable: false, reason: `${source.label} cannot connect to ${address}:${actual}${probe.stderr.trim() ? ` (${probe.stderr.trim().split('\n').pop()})` : ''}` };
  } finally {
    // A listener that served its token has exited; any other is killed, so none is left behind.
    if (!reached) await listener.stop();
    else await listener.exited;
  }
}
