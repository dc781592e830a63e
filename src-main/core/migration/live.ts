import { FerryError, isFerryError } from '../errors.js';
import { expectVm, processIsScript, stopVmQemu, vmQemuPid } from '../vm/qemu-process.js';
import { vmLayout } from '../vm/layout.js';
import { freePorts } from './ports.js';
import { applyCapabilities, applyParameters } from './capabilities.js';
import { destinationDefinition, prepareDestinationImages, startDestinationQemu } from './destination.js';
import type { QmpClient, QmpEvent } from '../qmp/index.js';
import { MonitorHandle } from './monitor-handle.js';
import { sleep, throwIfCancelled, type RunContext } from './run-context.js';
import { Sampler, sampledDisks, type BlockJobInfo, type MigrateInfo } from './sampler.js';
import { addPskCredentials, installPsk, tlsCredsId } from './tls.js';
import { uriHost } from '../api/host-address.js';

const SAMPLE_INTERVAL_MS = 300;
/** How often the destination's pid is checked although its monitor is still connected. */
const DESTINATION_CHECK_INTERVAL_MS = 3_000;
/** No byte moved for this long means the link or a peer is gone, even if TCP has not noticed yet. */
export const STALL_TIMEOUT_MS = 30_000;

interface JobInfo {
  id: string;
  type: string;
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

const mirrorJob = (index: number) => `ferry-mirror${index}`;
const nbdNode = (index: number) => `ferry-nbd${index}`;
const exportName = (index: number) => `ferry-disk${index}`;

/**
 * Live migration, with or without a block copy, in the order libvirt uses: destination QEMU
 * waiting with -incoming defer, NBD exports of its disks, mirrors from the source until READY,
 * then memory; at pre-switchover the mirrors are completed, then the switch is allowed.
 */
export async function runLiveMigration(context: RunContext, sourceSocket: string, blockCopy: boolean): Promise<void> {
  const { options } = context;
  context.setPhase('preparing-destination');
  const copied = context.disks.filter((disk) => !disk.shared);
  const mirroring = blockCopy && copied.length > 0;
  const source = new MonitorHandle(context.source, sourceSocket);
  context.controls.lend(source);
  let destination: MonitorHandle | undefined;
  let sourceReady: Promise<void> | undefined;
  let sourcePidRead: Promise<number | null> = Promise.resolve(null);
  try {
    if (blockCopy) await prepareDestinationImages(context, options.incremental);
    throwIfCancelled(context.signal);
    const tlsDirectory = options.transport === 'tls' ? await installPsk(context) : null;
    const tlsId = tlsDirectory ? tlsCredsId(context.id) : null;
    // Read while nothing waits on it, for the hand-over at the end (the pid does not change).
    sourcePidRead = vmQemuPid(context.source, context.definition.name, context.definition.adopted?.qmpSocket);
    sourcePidRead.catch(() => undefined);
    // The source's settings do not depend on the destination: they are made while it starts.
    sourceReady = (async () => {
      if (tlsDirectory) await addPskCredentials(await source.open(), tlsCredsId(context.id), tlsDirectory, 'client');
      await applyCapabilities(await source.open(), 'source', options, mirroring, context.source.label);
      await applyParameters(await source.open(), 'source', options, tlsId);
    })();
    const destinationSocket = await startDestinationQemu(context, destinationDefinition(context.definition, context.disks));
    destination = new MonitorHandle(context.destination, destinationSocket);
    if (tlsDirectory) await addPskCredentials(await destination.open(), tlsCredsId(context.id), tlsDirectory, 'server');
    await applyCapabilities(await destination.open(), 'destination', options, mirroring, context.destination.label);
    await applyParameters(await destination.open(), 'destination', options, tlsId);
    const firstPort = options.port ?? 49152;
    let nbdPort: number | null = null;
    if (mirroring) {
      nbdPort = await startNbdServer(context, destination, firstPort + 1, tlsId);
      for (const disk of copied) {
        await destination.command('block-export-add', { type: 'nbd', id: exportName(disk.source.index), 'node-name': disk.source.device, name: exportName(disk.source.index), writable: true });
      }
    }
    const port = await startIncoming(context, destination, firstPort, nbdPort);
    await sourceReady;
    throwIfCancelled(context.signal);

    await context.pushUndo({ kind: 'cancel-source-migration', host: options.from, qmpSocket: sourceSocket, nbdNodes: copied.map((disk) => nbdNode(disk.source.index)) });
    if (context.sourceRunning) await context.pushUndo({ kind: 'resume-source', host: options.from, qmpSocket: sourceSocket });
    const watch = new DestinationWatch(context, destination);

    const sampler = new Sampler(context.startedAt, sampledDisks(context.disks, context.options.incremental));
    if (mirroring && nbdPort !== null) {
      context.setPhase('copying-disks');
      for (const disk of copied) {
        const index = disk.source.index;
        // A node left by an earlier attempt whose cleanup could not finish would block the name.
        await source.command('blockdev-del', { 'node-name': nbdNode(index) }).catch(() => undefined);
        await source.command('blockdev-add', {
          driver: 'nbd',
          'node-name': nbdNode(index),
          server: { type: 'inet', host: context.destinationAddress, port: String(nbdPort) },
          export: exportName(index),
          ...(tlsId ? { 'tls-creds': tlsId } : {}),
        });
        await source.command('blockdev-mirror', {
          'job-id': mirrorJob(index),
          device: disk.source.device,
          target: nbdNode(index),
          sync: options.incremental ? 'top' : 'full',
          'auto-finalize': true,
          'auto-dismiss': false,
          ...(options.bandwidthMiBps !== undefined ? { speed: Math.round(options.bandwidthMiBps * 1024 * 1024) } : {}),
        });
      }
      await waitForMirrorsReady(context, source, sampler, watch, copied.map((disk) => disk.source.index));
    }

    context.setPhase('memory');
    // Listening before `migrate`, so not even the first state change can slip by.
    const latch = new EventLatch(source, new Set(['MIGRATION']));
    await latch.listen();
    await source.command('migrate', { uri: `tcp:${uriHost(context.destinationAddress)}:${port}` });
    const final = await watchMemory(context, source, sampler, watch, mirroring ? copied.map((disk) => disk.source.index) : [], latch).finally(() => latch.stop());
    context.result.setupTimeMs = final['setup-time'] ?? null;
    context.result.downtimeMs = final.downtime ?? null;
    context.result.ramBytes = final.ram?.transferred ?? 0;

    // The destination now holds the only up-to-date copy of the guest.
    await context.commit();
    context.setPhase('finishing');
    if (nbdPort !== null) await destination.command('nbd-server-stop');
    await destination.command('cont');
    const status = await destination.query<{ status: string }>('query-status');
    if (status.status !== 'running') {
      throw new FerryError('migration-failed', `The VM arrived on ${options.to} but is ${status.status}, not running`, { hint: 'Look at the VM on the destination; the source copy has been stopped.' });
    }
    // QEMU removes its pid file as it quits, so its pid was taken before and the wait follows the
    // process itself: no stale copy of the guest may outlive the hand-over.
    const adopted = context.definition.adopted?.qmpSocket;
    const sourcePid = await sourcePidRead;
    await source.quit();
    if (sourcePid !== null) {
      const stopped = await stopVmQemu(context.source, context.definition.name, { pid: sourcePid, waitMs: 5_000, graceMs: 2_000, ...(adopted ? { adoptedMonitorSocket: adopted } : {}) });
      if (stopped.result === 'survived') throw new FerryError('migration-failed', `The source QEMU on ${options.from} (pid ${sourcePid}) would not exit after the VM moved`, { hint: 'It is stuck in the kernel; the VM runs on the destination. Look at the source host.' });
    }
  } finally {
    // Never leave the source's settings half-applied behind a failure on the destination side.
    await sourceReady?.catch(() => undefined);
    context.controls.lend(undefined);
    await destination?.close();
    await source.close();
  }
}

/**
 * Notices a dead destination QEMU. The source learns of it only through the return path, and
 * asking the host every tick costs an SSH round trip, so the destination's monitor connection
 * closing is the signal, with a slow check by pid as a safety net.
 */
class DestinationWatch {
  private lastChecked = Date.now();

  constructor(
    private readonly context: RunContext,
    private readonly monitor: MonitorHandle,
  ) {}

  async check(): Promise<void> {
    const closed = !this.monitor.isOpen;
    if (!closed && Date.now() - this.lastChecked < DESTINATION_CHECK_INTERVAL_MS) return;
    await requireDestinationAlive(this.context);
    this.lastChecked = Date.now();
    // Alive but disconnected (SSH came back): watch again on a fresh connection.
    if (closed) await this.monitor.open().catch(() => undefined);
  }
}

async function startNbdServer(context: RunContext, destination: MonitorHandle, from: number, tlsId: string | null): Promise<number> {
  let lastRefusal = '';
  for (const port of await freePorts(context.destination, from, 10)) {
    try {
      // Only on the address the source uses: the export is writable and has no other guard than TLS.
      await destination.command('nbd-server-start', { addr: { type: 'inet', data: { host: context.destinationAddress, port: String(port) } }, ...(tlsId ? { 'tls-creds': tlsId } : {}) });
      return port;
    } catch (error) {
      if (!(isFerryError(error, 'qmp-error') && /in use|Failed to (bind|find)/i.test(error.message))) throw error;
      lastRefusal = error.message;
    }
  }
  throw new FerryError('busy', `No free port for the disk copy on ${context.options.to} (QEMU: ${lastRefusal})`, { hint: 'Choose another --port.' });
}

/** Starts listening for the memory stream; with no port given QEMU picks a free one and says which. */
async function startIncoming(context: RunContext, destination: MonitorHandle, first: number, avoid: number | null): Promise<number> {
  const candidates = context.options.port === undefined ? [0] : await freePorts(context.destination, first, 5, new Set(avoid === null ? [] : [avoid]));
  for (const candidate of candidates) {
    try {
      await destination.command('migrate-incoming', { uri: `tcp:${uriHost(context.destinationAddress)}:${candidate}` });
      const info = await destination.query<{ 'socket-address'?: Array<{ port?: string }> }>('query-migrate');
      const port = Number(info['socket-address']?.[0]?.port ?? candidate);
      if (port > 0) return port;
    } catch (error) {
      if (!(isFerryError(error, 'qmp-error') && /in use|Failed to find/i.test(error.message))) throw error;
    }
  }
  throw new FerryError('busy', `No free migration port from ${first} on ${context.options.to}`, { hint: 'Choose another --port.' });
}

async function blockJobs(context: RunContext, source: MonitorHandle): Promise<BlockJobInfo[]> {
  const jobs = await source.query<Array<{ device: string; offset: number; len: number; ready: boolean }>>('query-block-jobs');
  const mapped = jobs.map((job) => ({ device: job.device.replace('ferry-mirror', 'ferry-disk'), offset: job.offset, len: job.len, ready: job.ready }));
  // The jobs vanish at switch-over; the report keeps the most each one copied.
  for (const job of mapped) context.result.diskBytes.set(job.device, Math.max(job.offset, context.result.diskBytes.get(job.device) ?? 0));
  return mapped;
}

async function failedMirror(source: MonitorHandle): Promise<string | null> {
  const jobs = await source.query<JobInfo[]>('query-jobs');
  const failed = jobs.find((job) => job.id.startsWith('ferry-mirror') && (job.error !== undefined || job.status === 'aborting'));
  return failed ? `${failed.id}: ${failed.error ?? failed.status}` : null;
}

class StallWatch {
  private lastBytes = -1;
  private lastChange = Date.now();

  check(bytes: number, what: string): void {
    if (bytes !== this.lastBytes) {
      this.lastBytes = bytes;
      this.lastChange = Date.now();
      return;
    }
    if (Date.now() - this.lastChange > STALL_TIMEOUT_MS) {
      throw new FerryError('migration-failed', `No ${what} has moved for ${STALL_TIMEOUT_MS / 1000} s`, { hint: 'The link between the hosts or the destination QEMU is gone. Check the migration network and try again.' });
    }
  }
}

async function waitForMirrorsReady(context: RunContext, source: MonitorHandle, sampler: Sampler, watch: DestinationWatch, indices: number[]): Promise<void> {
  const stall = new StallWatch();
  const latch = new EventLatch(source, new Set(['BLOCK_JOB_READY']));
  await latch.listen();
  try {
    await pollMirrors(context, source, sampler, watch, indices, stall, latch);
  } finally {
    latch.stop();
  }
}

async function pollMirrors(context: RunContext, source: MonitorHandle, sampler: Sampler, watch: DestinationWatch, indices: number[], stall: StallWatch, latch: EventLatch): Promise<void> {
  for (;;) {
    throwIfCancelled(context.signal);
    const jobs = await blockJobs(context, source);
    const failure = await failedMirror(source);
    if (failure) throw new FerryError('migration-failed', `The disk copy failed: ${failure}`, { hint: 'Check free space on the destination and the link between the hosts.' });
    context.emitSample(sampler.sample(Date.now(), 'copying-disks', null, jobs));
    const mine = jobs.filter((job) => indices.some((index) => job.device === `ferry-disk${index}`));
    if (mine.length < indices.length) throw new FerryError('migration-failed', 'A disk copy job vanished', { hint: 'The destination may have stopped; try again.' });
    if (mine.every((job) => job.ready)) return;
    stall.check(mine.reduce((sum, job) => sum + job.offset, 0), 'disk data');
    await watch.check();
    await latch.next(SAMPLE_INTERVAL_MS, context.signal);
  }
}

/**
 * Completes every mirror while the source is paused at pre-switchover, as libvirt does. The guest
 * is paused here, so completion is awaited by event rather than by polling.
 */
async function completeMirrors(context: RunContext, source: MonitorHandle, sampler: Sampler, indices: number[]): Promise<void> {
  for (const index of indices) await source.command('block-job-cancel', { device: mirrorJob(index) });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = await source.open();
    const changed = client.waitForEvent('JOB_STATUS_CHANGE', undefined, 50).catch(() => undefined);
    const jobs = await source.query<JobInfo[]>('query-jobs');
    const mine = jobs.filter((job) => indices.some((index) => job.id === mirrorJob(index)));
    for (const job of mine) {
      const device = job.id.replace('ferry-mirror', 'ferry-disk');
      context.result.diskBytes.set(device, Math.max(job['current-progress'], context.result.diskBytes.get(device) ?? 0));
    }
    const failed = mine.find((job) => job.error !== undefined);
    if (failed) throw new FerryError('migration-failed', `Finishing the disk copy failed: ${failed.error}`, { hint: 'Ferry undoes the move; the report says where the VM is.' });
    if (mine.every((job) => job.status === 'concluded')) {
      for (const job of mine) sampler.mirrorConcluded(job.id.replace('ferry-mirror', 'ferry-disk'));
      return;
    }
    if (Date.now() > deadline) throw new FerryError('timeout', 'The disk copies did not finish at switch-over', { hint: 'Ferry undoes the move; the report says where the VM is.' });
    await changed;
  }
}

/** Completes the mirrors and lets the paused source go on; returns true once it has. */
async function switchOver(context: RunContext, source: MonitorHandle, sampler: Sampler, mirrorIndices: number[]): Promise<boolean> {
  context.setPhase('switchover');
  await completeMirrors(context, source, sampler, mirrorIndices);
  // Once the source continues, the destination receives the device state and is the copy that
  // runs: from here the migration only goes forwards.
  await context.commit();
  await source.command('migrate-continue', { state: 'pre-switchover' });
  await dismissMirrors(source, mirrorIndices);
  return true;
}

/** Concluded mirrors and their NBD clients go once the switch-over is under way (off the downtime). */
async function dismissMirrors(source: MonitorHandle, indices: number[]): Promise<void> {
  for (const index of indices) {
    await source.command('job-dismiss', { id: mirrorJob(index) });
    await source.command('blockdev-del', { 'node-name': nbdNode(index) });
  }
}

/** The source learns of a dead destination only through the return path; look at the process too. */
async function requireDestinationAlive(context: RunContext): Promise<void> {
  const alive = await context.destination.exec(processIsScript(vmLayout(context.definition.name).pidFile, expectVm(context.definition.name)));
  if (alive.code !== 0) {
    throw new FerryError('migration-failed', `The destination QEMU on ${context.options.to} stopped during the migration`, { hint: 'Check the destination host (memory, QEMU version) and try again.' });
  }
}

async function watchMemory(context: RunContext, source: MonitorHandle, sampler: Sampler, watch: DestinationWatch, mirrorIndices: number[], latch: EventLatch): Promise<MigrateInfo> {
  const stall = new StallWatch();
  let postcopyStarted = false;
  let announced: string | undefined;
  let switchedOver = false;
  for (;;) {
    throwIfCancelled(context.signal);
    // At pre-switchover the guest is paused: act on the event at once, without a query first.
    if (announced === 'pre-switchover' && !switchedOver) switchedOver = await switchOver(context, source, sampler, mirrorIndices);
    const info = await source.query<MigrateInfo>('query-migrate');
    const status = info.status ?? 'none';
    const jobs = mirrorIndices.length > 0 && !switchedOver ? await blockJobs(context, source) : [];
    switch (status) {
      case 'completed':
        context.emitSample(sampler.sample(Date.now(), 'switchover', info, jobs));
        return info;
      case 'failed':
      case 'cancelled':
        throw new FerryError('migration-failed', `QEMU reports the migration ${status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`, { hint: 'Check the link and the destination host, then try again.' });
      case 'pre-switchover':
        // Once only: a query racing the continue can still read pre-switchover.
        if (!switchedOver) switchedOver = await switchOver(context, source, sampler, mirrorIndices);
        break;
      case 'device':
        context.setPhase('switchover');
        break;
      default: {
        const phase = status === 'postcopy-active' ? 'switchover' : 'memory';
        const sample = sampler.sample(Date.now(), phase, info, jobs);
        context.emitSample(sample);
        if (sample.notConverging !== null) await context.controls.relaxDefaultDowntime(sample.pass);
        if (status === 'active' || status === 'postcopy-active') stall.check(info.ram?.transferred ?? 0, 'memory');
        if (context.options.postcopy && !postcopyStarted && context.controls.postcopyRequested) {
          // In postcopy the destination runs the guest and pulls the rest of its memory: the
          // source no longer holds a whole copy, so there is no way back.
          await context.commit();
          await source.command('migrate-start-postcopy');
          postcopyStarted = true;
        }
      }
    }
    await watch.check();
    announced = announcedStatus(await latch.next(SAMPLE_INTERVAL_MS, context.signal));
  }
}

/**
 * Wakes the sample loop early when QEMU announces a change. It listens all the time, so an event
 * that arrives while the loop is busy with commands is not lost: at pre-switchover and at the end
 * the guest is paused, and a missed event would cost a whole sample interval of downtime.
 */
class EventLatch {
  private readonly seen: QmpEvent[] = [];
  private wake: (() => void) | undefined;
  private client: QmpClient | undefined;
  private readonly onEvent = (event: QmpEvent) => {
    if (!this.names.has(event.event)) return;
    this.seen.push(event);
    this.wake?.();
  };

  constructor(
    private readonly monitor: MonitorHandle,
    private readonly names: ReadonlySet<string>,
  ) {}

  /** Listens on the monitor's current connection (a new one after an SSH drop). */
  async listen(): Promise<void> {
    const client = await this.monitor.open().catch(() => undefined);
    if (client === undefined || client === this.client) return;
    this.client?.off('event', this.onEvent);
    client.on('event', this.onEvent);
    this.client = client;
  }

  /** Events seen since the last call, waiting up to `ms` for one when there are none yet. */
  async next(ms: number, signal: AbortSignal): Promise<QmpEvent[]> {
    await this.listen();
    if (this.seen.length === 0) {
      await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), sleep(ms, signal)]);
      this.wake = undefined;
    }
    return this.seen.splice(0);
  }

  stop(): void {
    this.client?.off('event', this.onEvent);
    this.client = undefined;
  }
}

/** The newest migration state among the events, if any announced one. */
function announcedStatus(events: QmpEvent[]): string | undefined {
  const status = events.filter((event) => event.event === 'MIGRATION').map((event) => (event.data as { status?: unknown } | undefined)?.status).pop();
  return typeof status === 'string' ? status : undefined;
}
