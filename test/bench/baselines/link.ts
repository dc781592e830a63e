import { benchName, allocatedDataBytes, createImage, diskPath, handGuestPaths, removeHandGuest, startHandGuest, waitBooted, type GuestSpec } from '../guest-setup.js';
import { HandQmp } from '../qmp.js';
import { median } from '../stats.js';
import type { BenchContext } from '../types.js';
import { handPort } from './ports.js';

const RECEIVER = (port: number) => `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', ${port})); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(30)
buf = bytearray(1 << 20); mv = memoryview(buf); n = 0; t0 = None
while True:
    k = c.recv_into(mv)
    if not k: break
    if t0 is None: t0 = time.monotonic()
    n += k
print(n, time.monotonic() - t0)
`;

const SENDER = (host: string, port: number, limitBytes: number, seconds: number) => `
import socket, time
deadline = time.monotonic() + 10
while True:
    try:
        c = socket.create_connection(('${host}', ${port}), timeout=2); break
    except OSError:
        if time.monotonic() > deadline: raise
        time.sleep(0.05)
chunk = b'\\x5a' * (1 << 20); n = 0; end = time.monotonic() + ${seconds}
while n < ${limitBytes} and time.monotonic() < end:
    c.sendall(chunk); n += len(chunk)
c.close()
`;

export interface LinkResult {
  bps: number;
  samples: Array<{ bytes: number; seconds: number }>;
}

/**
 * Raw TCP throughput from host a to host b: one stream (as QEMU's migration uses), python3 on
 * both ends, at most 1 GiB or 5 s per sample, median of three samples.
 */
export async function measureLink(ctx: BenchContext, samples = 3): Promise<LinkResult> {
  const { le } = ctx;
  const results: Array<{ bytes: number; seconds: number }> = [];
  for (let i = 0; i < samples; i++) {
    const port = handPort();
    const receiver = le.sh('b', `timeout 40 python3 - <<'PY'\n${RECEIVER(port)}\nPY`);
    await le.sh('a', `timeout 40 python3 - <<'PY'\n${SENDER(le.labHost('b').address, port, 1 << 30, 5)}\nPY`);
    const [bytes, seconds] = (await receiver).trim().split(/\s+/).map(Number);
    if (bytes && seconds) results.push({ bytes, seconds });
  }
  return { bps: median(results.map((sample) => sample.bytes / sample.seconds)) ?? 0, samples: results };
}

export interface BytesNeeded {
  /** Non-zero guest RAM: QEMU's normal-bytes when the stopped guest is saved once. */
  ramBytes: number;
  /** The migration stream of that save, with zero-page markers and device state. */
  ramStreamBytes: number;
  /** Data extents of the freshly written image. */
  diskBytes: number;
}

/**
 * The bytes that must cross at the least: the RAM the guest really uses (saved once, stopped,
 * into /dev/null) and the allocated data of its disk.
 */
export async function measureBytesNeeded(ctx: BenchContext, spec: GuestSpec): Promise<BytesNeeded> {
  const { le } = ctx;
  const name = benchName('need');
  const disk = diskPath({ ...spec, shared: false }, name);
  const paths = handGuestPaths(name);
  try {
    await createImage(le, 'a', disk, spec);
    const diskBytes = await allocatedDataBytes(le, 'a', disk);
    await startHandGuest(le, 'a', { name, spec, disk, diskStyle: 'blockdev' });
    // Long enough for the dirtier (if any) to have touched its whole working set.
    await waitBooted(le, 'a', paths.serialLog, spec.dirtyMiB > 0 ? 8000 : 1500);
    const qmp = await HandQmp.open(await le.engine.transport('a'), paths.qmpSocket);
    try {
      await qmp.cmd('stop');
      await qmp.cmd('migrate-set-parameters', { 'max-bandwidth': 0 });
      await qmp.cmd('migrate', { uri: 'exec:cat > /dev/null' });
      const info = await qmp.migrateUntil(['completed'], 50, 120_000);
      return { ramBytes: info.ram?.['normal-bytes'] ?? 0, ramStreamBytes: info.ram?.transferred ?? 0, diskBytes };
    } finally {
      await qmp.quit();
    }
  } finally {
    await removeHandGuest(le, 'a', name, [disk]);
  }
}

