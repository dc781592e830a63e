import { FerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import { uriHost } from '../api/host-address.js';
import type { JournalEntry } from './journal.js';
import { isProcessGone, MonitorHandle } from './monitor-handle.js';
import { freePorts } from './ports.js';
import { sleep } from './run-context.js';

/** Postcopy that has moved nothing for this long is paused, so it can be resumed over a new connection. */
const POSTCOPY_STALL_MS = 15_000;
/** How often a paused postcopy is offered a new connection. */
const RESUME_RETRY_MS = 10_000;

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  ram?: { transferred?: number };
  'socket-address'?: Array<{ port?: string }>;
}

/**
 * Finishes a live migration past its commit point: QEMU may still be moving the guest. A source
 * waiting at pre-switchover is told to continue, a precopy that was committed for postcopy is
 * switched, and a postcopy whose link broke is paused and resumed over a new connection (QEMU's
 * postcopy recovery) once the hosts reach each other again. Never turned back.
 */
export async function finishLiveForward(entry: JournalEntry, source: HostTransport, destination: HostTransport, waitMs: number): Promise<void> {
  if (!entry.sourceQmpSocket || !entry.destinationQmpSocket) throw new FerryError('internal', 'The journal entry has no monitor sockets');
  const sourceMonitor = new MonitorHandle(source, entry.sourceQmpSocket);
  const destinationMonitor = new MonitorHandle(destination, entry.destinationQmpSocket);
  try {
    const deadline = Date.now() + waitMs;
    let lastBytes = -1;
    let lastChange = Date.now();
    let lastResume = 0;
    for (;;) {
      const info = await sourceMonitor.command<MigrateInfo>('query-migrate').catch((error: unknown) => {
        // The source QEMU is gone (its monitor socket too): whether the guest arrived whole is
        // for the destination to say, below.
        if (isProcessGone(error)) return { status: 'gone' } as MigrateInfo;
        throw error;
      });
      const status = info.status ?? 'none';
      if (status === 'completed' || status === 'gone') break;
      const bytes = info.ram?.transferred ?? 0;
      if (bytes !== lastBytes) {
        lastBytes = bytes;
        lastChange = Date.now();
      }
      switch (status) {
        case 'pre-switchover':
          await sourceMonitor.command('migrate-continue', { state: 'pre-switchover' });
          break;
        case 'active':
          // Committed on the way into postcopy: finish that step.
          await sourceMonitor.command('migrate-start-postcopy');
          break;
        case 'postcopy-active':
          if (Date.now() - lastChange > POSTCOPY_STALL_MS) {
            // A link that died without an error leaves both sides waiting on TCP for many minutes.
            await sourceMonitor.command('migrate-pause').catch(() => undefined);
            await destinationMonitor.command('migrate-pause').catch(() => undefined);
          }
          break;
        case 'postcopy-paused':
          if (Date.now() - lastResume > RESUME_RETRY_MS) {
            lastResume = Date.now();
            await offerResume(entry, destination, sourceMonitor, destinationMonitor).catch(() => undefined);
          }
          break;
        case 'failed':
        case 'cancelled':
          throw new FerryError('migration-failed', `the source reports the migration ${status}${info['error-desc'] ? ` (${info['error-desc']})` : ''}`, {
            hint: 'Look at both hosts: the guest may be lost. Ferry changed nothing on either.',
          });
        default:
          break;
      }
      if (Date.now() > deadline) {
        throw new FerryError('timeout', status === 'postcopy-paused' || status === 'postcopy-recover'
          ? `postcopy is paused: ${entry.from} cannot reach ${entry.to} to send the rest of the guest's memory`
          : `QEMU did not finish moving the guest within ${Math.round(waitMs / 1000)} s (it is ${status})`, {
          hint: 'Restore the link between the hosts, then run `ferry migration recover`.',
        });
      }
      await sleep(500);
    }
    const incoming = await destinationMonitor.query<MigrateInfo>('query-migrate');
    if (incoming.status !== undefined && incoming.status !== 'completed') {
      throw new FerryError('migration-failed', `the VM on ${entry.to} has not received all of its memory (its migration is ${incoming.status}) and the source no longer answers`, {
        hint: `Look at ${entry.from}: if its QEMU is gone, the guest cannot be completed. Ferry changed nothing on either host.`,
      });
    }
    const status = await destinationMonitor.query<{ status: string }>('query-status');
    if (status.status === 'inmigrate') throw new FerryError('migration-failed', `the VM on ${entry.to} is still receiving its state`);
    if (status.status !== 'running') {
      await destinationMonitor.command('nbd-server-stop').catch(() => undefined);
      await destinationMonitor.command('cont');
    }
    await sourceMonitor.quit().catch(() => undefined);
  } finally {
    await destinationMonitor.close();
    await sourceMonitor.close();
  }
}

/** One try at resuming a paused postcopy: the destination listens again, the source reconnects. */
async function offerResume(entry: JournalEntry, destination: HostTransport, source: MonitorHandle, target: MonitorHandle): Promise<void> {
  const address = entry.destinationAddress;
  if (!address) throw new FerryError('unsupported', 'This journal entry does not record the migration address');
  const incoming = await target.query<MigrateInfo>('query-migrate');
  let port = Number(incoming['socket-address']?.[0]?.port ?? 0);
  if (incoming.status === 'postcopy-paused' && port === 0) {
    const [free] = await freePorts(destination, 49152, 1);
    if (free === undefined) return;
    port = free;
    // Only once per pause: QEMU refuses a second recover while the first still listens.
    await target.command('migrate-recover', { uri: `tcp:${uriHost(address)}:${port}` });
  }
  if (port === 0) return;
  await source.command('migrate', { uri: `tcp:${uriHost(address)}:${port}`, resume: true });
}
