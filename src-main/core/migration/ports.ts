import { FerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';

/** The IANA dynamic range is where QEMU's own "port 0" picks land too. */
export const DEFAULT_PORT_RANGE = { first: 49152, count: 200 } as const;

/**
 * TCP ports any socket on the host holds, read from /proc so no ss/netstat is needed there: not
 * only listeners. A connected or bound socket on a port makes QEMU's bind fail with "Address already
 * in use", and so does a connection in TIME_WAIT whose socket did not set SO_REUSEADDR (QEMU sets
 * it, but Linux wants it on both): a full run saw every port a listening-only check called free
 * refused, each in TIME_WAIT from pre-flight's test listener.
 */
export async function portsInUse(transport: HostTransport): Promise<Set<number>> {
  const output = await transport.run("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 1 { split($2, a, \":\"); print a[2] }'; true");
  return new Set(output.split('\n').filter((hex) => /^[0-9A-F]+$/i.test(hex)).map((hex) => parseInt(hex, 16)));
}

/** Free ports at or above `first`, skipping `taken`; several callers may race, so QEMU's bind is the final judge. */
export async function freePorts(transport: HostTransport, first: number, wanted: number, taken: ReadonlySet<number> = new Set()): Promise<number[]> {
  const busy = await portsInUse(transport);
  const ports: number[] = [];
  for (let port = first; port < Math.min(first + 1000, 65536) && ports.length < wanted; port += 1) {
    if (!busy.has(port) && !taken.has(port)) ports.push(port);
  }
  if (ports.length < wanted) {
    throw new FerryError('busy', `No free TCP port from ${first} upwards on ${transport.label}`, { hint: 'Choose another --port.' });
  }
  return ports;
}
