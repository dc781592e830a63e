import { DEFAULT_DOWNTIME_LIMIT_MS, type ChannelArgs } from '../api/contract.js';
import type { MigrationPrediction } from '../api/types.js';
import type { HostTransport } from '../ssh/transport.js';
import type { History } from './history.js';
import { RELAXED_DOWNTIME_LIMIT_MS } from './live-controls.js';
import { MonitorHandle } from './monitor-handle.js';
import type { Plan } from './plan.js';
import { historyFacts, predictMigration } from './predict.js';
import { bashTcpCommand, startTestListener } from './test-listener.js';

/** One second of sampling: long enough to see a guest's working set, short for a dialog. */
const DIRTY_RATE_SECONDS = 1;
const MIB = 1024 * 1024;

/**
 * The guest's dirty rate from QEMU (calc-dirty-rate, QEMU 5.2+), in bytes per second, or null when
 * this QEMU cannot say. Page sampling only: the dirty-bitmap mode killed QEMU 7.2 under TCG.
 */
export async function measureDirtyRate(monitor: MonitorHandle): Promise<number | null> {
  try {
    await monitor.command('calc-dirty-rate', { 'calc-time': DIRTY_RATE_SECONDS, mode: 'page-sampling' });
  } catch {
    return null;
  }
  const deadline = Date.now() + DIRTY_RATE_SECONDS * 1000 + 3_000;
  await new Promise((resolve) => setTimeout(resolve, DIRTY_RATE_SECONDS * 1000));
  while (Date.now() < deadline) {
    const answer = await monitor.query<{ status?: string; 'dirty-rate'?: number }>('query-dirty-rate').catch(() => undefined);
    if (answer?.status === 'measured' && typeof answer['dirty-rate'] === 'number') return answer['dirty-rate'] * MIB;
    if (answer === undefined) return null;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

/** Bytes the test transfer sends: a fraction of a second on a gigabit link. */
const LINK_TEST_BYTES = 32 * MIB;

/**
 * Raw TCP throughput from the source host to the destination's migration address, measured by
 * sending zeros to a one-shot listener there, as the reachability test connects. Null when
 * python3 or bash is missing or the transfer failed.
 */
export async function measureLink(source: HostTransport, destination: HostTransport, address: string, firstPort: number): Promise<number | null> {
  // Counts what arrives, timed from the first byte (not from the connection's set-up).
  const count = `n=0
t=None
while True:
  b=c.recv(1<<20)
  if not b:
    break
  if t is None:
    t=time.monotonic()
  n+=len(b)
print('received', n, time.monotonic()-(t or time.monotonic()), flush=True)`;
  const listener = startTestListener(destination, address, firstPort, count, 30);
  const port = await listener.port;
  if (typeof port !== 'number') return null;
  const sent = await source.exec(bashTcpCommand(address, port, (target) => `head -c ${LINK_TEST_BYTES} /dev/zero > ${target}`, 20), { timeoutMs: 25_000 });
  if (sent.code !== 0 || sent.stdout.trim() === 'no-bash') {
    await listener.stop();
    return null;
  }
  await listener.exited;
  const received = /received (\d+) ([\d.]+)/.exec(listener.output());
  if (!received) return null;
  const bytes = Number(received[1]);
  const seconds = Number(received[2]);
  return bytes > 0 && seconds > 0 ? bytes / seconds : null;
}

/** The prediction pre-flight shows: this VM's dirty rate, the link (or history), and the model. */
export async function predictForPlan(plan: Plan, options: ChannelArgs<'migrations.check'>, records: Pick<History, 'list'>): Promise<MigrationPrediction> {
  const history = historyFacts(await records.list(), options.from, options.to);
  const copied = options.mode === 'live' ? [] : plan.disks.filter((disk) => !disk.shared);
  const diskBytes = copied.reduce((sum, disk) => sum + (options.incremental ? disk.source.allocatedBytes : disk.source.chainAllocatedBytes), 0);
  const measuresMemory = plan.sourceState === 'running' && options.mode !== 'offline';
  const dirtyRate = async (): Promise<number | null> => {
    const monitor = new MonitorHandle(plan.source, plan.sourceSocket);
    try {
      return await measureDirtyRate(monitor);
    } finally {
      await monitor.close();
    }
  };
  // Clear of the ports the reachability test tries at the same moment.
  const linkPort = (options.port ?? 49152) + 100;
  const [dirtyRateBps, linkBps] = await Promise.all([
    measuresMemory ? dirtyRate().catch(() => null) : Promise.resolve(null),
    history.transferBps === null ? measureLink(plan.source, plan.destination, plan.destinationAddress, linkPort).catch(() => null) : Promise.resolve(null),
  ]);
  return predictMigration({
    mode: options.mode,
    memoryBytes: plan.definition.memoryMiB * 1024 * 1024,
    diskBytes,
    dirtyRateBps,
    downtimeLimitMs: options.downtimeMs ?? DEFAULT_DOWNTIME_LIMIT_MS,
    bandwidthLimitBps: options.bandwidthMiBps === undefined ? null : options.bandwidthMiBps * 1024 * 1024,
    history,
    linkBps,
    autoConverge: options.autoConverge,
    relaxableToMs: options.downtimeMs === undefined ? RELAXED_DOWNTIME_LIMIT_MS : null,
  });
}
