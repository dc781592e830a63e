import type { ChannelArgs, EngineEventName, EngineEvents } from '../api/contract.js';
import type { MigrationPhase, MigrationRecord, MigrationReport, MigrationSample, MigrationSummary, VmLocation } from '../api/types.js';
import { FerryError, isFerryError, toFerryError } from '../errors.js';
import { isSameFile } from '../migration/disks.js';
import type { History } from '../migration/history.js';
import type { HostTransport } from '../ssh/transport.js';
import { runStateFromLibvirtText } from './domain-state.js';
import { parseDomainXml } from './domain-xml.js';
import { bridgeDestinationLibvirt, type LibvirtBridge } from './migration-bridge.js';
import { copyDisksOffline, createDestinationImages, removeDestinationImages, type MigratedDisk } from './migration-disks.js';
import { JOB_RUNNING, parseJobStats, sampleFromJob, type LibvirtJobStats } from './migration-job.js';
import { libvirtBandwidth, liveMigrateArgs, offlineMigrateArgs, type LibvirtMigrationOptions } from './migration-plan.js';
import { stopDomain } from './migration-stop.js';
import { runVirsh, virshCommand, virshFailure } from './virsh.js';

/** libvirt's job statistics read this often while the job runs (3 Hz). */
const POLL_INTERVAL_MS = 333;
const LIVE_SAMPLE_LIMIT = 4000;

export interface LibvirtRunDependencies {
  publish<E extends EngineEventName>(name: E, payload: EngineEvents[E]): void;
  history: History;
}

export interface LibvirtRunSetup {
  id: string;
  options: LibvirtMigrationOptions;
  startedAt: number;
  source: HostTransport;
  destination: HostTransport;
  /** The destination's address as the source host reaches it: the migration data goes there. */
  destinationAddress: string;
  /** Called once the run has ended (claims released by the service). */
  onEnded?: () => void;
}

/**
 * One migration of a libvirt domain, run by the source host's libvirtd (`virsh migrate --p2p`).
 * It publishes the same 'migration-update' and 'migration-sample' events and saves the same
 * record as Ferry's own MigrationRun, so charts, History and export treat both alike. libvirt
 * keeps its own state, so there is no journal entry: a Ferry that stops leaves libvirt to finish
 * or abort the job.
 */
export class LibvirtMigrationRun {
  readonly summary: MigrationSummary;
  readonly samples: MigrationSample[] = [];
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private postcopyStarted = false;
  private liveJob = false;
  private result = { setupTimeMs: null as number | null, downtimeMs: null as number | null, diskBytes: 0 };
  private disks: MigratedDisk[] = [];

  constructor(
    private readonly deps: LibvirtRunDependencies,
    private readonly setup: LibvirtRunSetup,
  ) {
    const { id, options, startedAt } = setup;
    this.summary = { id, vm: options.vm, from: options.from, to: options.to, mode: options.mode, phase: 'preflight', startedAt: new Date(startedAt).toISOString(), committed: false, report: null };
    this.done = this.execute();
  }

  get id(): string {
    return this.summary.id;
  }

  get ended(): boolean {
    return this.summary.report !== null;
  }

  record(): MigrationRecord {
    return { ...this.summary, samples: [...this.samples] };
  }

  cancel(): void {
    if (this.summary.committed) {
      throw new FerryError('busy', `Migration ${this.id} can no longer be cancelled: ${this.summary.vm} is already being handed over to ${this.summary.to}`, {
        hint: this.postcopyStarted ? 'Postcopy has started: the guest runs on the destination now, and libvirt finishes the move.' : 'The domain\'s definition has already moved; the migration finishes on its own.',
      });
    }
    this.controller.abort();
    // libvirt's own cancel: the source domain keeps running and the destination's is removed.
    if (this.liveJob) void this.setup.source.exec(virshCommand(['domjobabort', this.summary.vm])).catch(() => undefined);
  }

  async tune(args: ChannelArgs<'migrations.tune'>): Promise<void> {
    if (!this.liveJob) throw new FerryError('invalid-input', 'Live controls apply only while libvirt moves a running domain', { hint: 'Wait for the memory phase of a live or block migration.' });
    const { source } = this.setup;
    const vm = this.summary.vm;
    if (args.bandwidthMiBps !== undefined) await runVirsh(source, ['migrate-setspeed', vm, libvirtBandwidth(args.bandwidthMiBps)]);
    if (args.downtimeMs !== undefined) await runVirsh(source, ['migrate-setmaxdowntime', vm, String(args.downtimeMs)]);
    if (args.startPostcopy) {
      if (!this.setup.options.postcopy) throw new FerryError('invalid-input', 'This migration was not started with postcopy', { hint: 'Start the migration with postcopy allowed (--postcopy) to switch to it later.' });
      await runVirsh(source, ['migrate-postcopy', vm]);
      this.postcopyStarted = true;
      this.commit();
    }
  }

  private setPhase(phase: MigrationPhase): void {
    this.summary.phase = phase;
    this.deps.publish('migration-update', { ...this.summary });
  }

  private commit(): void {
    if (this.summary.committed) return;
    this.summary.committed = true;
    this.deps.publish('migration-update', { ...this.summary });
  }

  private emitSample(sample: MigrationSample): void {
    this.samples.push(sample);
    if (this.samples.length > LIVE_SAMPLE_LIMIT) this.samples.shift();
    this.deps.publish('migration-sample', { id: this.id, sample });
  }

  private async execute(): Promise<void> {
    let error: FerryError | null = null;
    let bridge: LibvirtBridge | null = null;
    try {
      this.setPhase('preparing-destination');
      const { source, destination, options, id } = this.setup;
      const domain = parseDomainXml(await runVirsh(source, ['dumpxml', '--inactive', options.vm]));
      this.disks = domain.disks.filter((disk) => disk.device === 'disk' && disk.path !== null && !disk.readOnly).map((disk) => ({ device: disk.target, path: disk.path as string }));
      bridge = await bridgeDestinationLibvirt(source, destination, id);
      if (options.mode === 'offline') await this.runOffline(bridge);
      else await this.runLive(bridge);
    } catch (caught) {
      error = toFerryError(caught);
    } finally {
      await bridge?.close().catch(() => undefined);
    }
    await this.finish(error);
  }

  private async runLive(bridge: LibvirtBridge): Promise<void> {
    const { source, destination, options, destinationAddress } = this.setup;
    const created = options.mode === 'block' ? await createDestinationImages(source, destination, this.disks, options) : [];
    try {
      if (this.controller.signal.aborted) throw cancelledError();
      this.setPhase(options.mode === 'block' ? 'copying-disks' : 'memory');
      this.liveJob = true;
      const provenShared = options.mode === 'live' && (await Promise.all(this.disks.map((disk) => isSameFile(source, destination, disk.path)))).every(Boolean);
      const args = liveMigrateArgs(options, bridge.uri, destinationAddress, provenShared);
      const migrating = source.exec(virshCommand(args), { timeoutMs: null });
      const polling = this.pollJob(migrating);
      const result = await migrating;
      await polling;
      this.liveJob = false;
      if (result.code !== 0) {
        if (this.controller.signal.aborted || /canceled by client|operation aborted/i.test(result.stderr)) throw cancelledError();
        throw withMigrationCode(virshFailure(args, result));
      }
      this.commit();
      this.setPhase('finishing');
      await this.readCompletedStats();
    } catch (error) {
      this.liveJob = false;
      // Before the hand-over the source domain still runs: only what Ferry made goes away. But a
      // failed `virsh migrate` (or a dropped SSH connection) does not prove libvirt did not hand the
      // domain over (p2p runs on in libvirtd; postcopy starts on its own): the images go only when
      // the destination's libvirtd has no such domain. In doubt they stay, and the report's
      // "found on" says where the domain is.
      if (!this.summary.committed && (await this.absentOnDestination())) await removeDestinationImages(destination, created);
      throw error;
    }
  }

  private async pollJob(migrating: Promise<unknown>): Promise<void> {
    let finished = false;
    void migrating.finally(() => (finished = true)).catch(() => undefined);
    const { source, options } = this.setup;
    let downtimeSet = false;
    while (!finished) {
      // A cancel that came before libvirt had the job running found nothing to abort: ask again.
      if (this.controller.signal.aborted) await source.exec(virshCommand(['domjobabort', options.vm]), { timeoutMs: 10_000 }).catch(() => undefined);
      const read = await source.exec(virshCommand(['domjobinfo', '--rawstats', options.vm]), { timeoutMs: 10_000 }).catch(() => null);
      if (read?.code === 0) {
        const stats = parseJobStats(read.stdout);
        if (stats.jobType === JOB_RUNNING) {
          // virsh migrate takes no downtime limit: it is set on the job as soon as there is one.
          if (!downtimeSet && options.downtimeMs !== undefined) downtimeSet = (await source.exec(virshCommand(['migrate-setmaxdowntime', options.vm, String(options.downtimeMs)])).catch(() => null))?.code === 0;
          this.sampleFrom(stats);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  private sampleFrom(stats: LibvirtJobStats): void {
    const sample = sampleFromJob(stats, this.samples[this.samples.length - 1], Date.now() - this.setup.startedAt, this.disks);
    if (sample.phase !== this.summary.phase && (sample.phase === 'memory' || sample.phase === 'copying-disks')) this.setPhase(sample.phase);
    if (stats.postcopyRequests > 0) this.postcopyStarted = true;
    this.result.diskBytes = Math.max(this.result.diskBytes, stats.disk.processed);
    this.emitSample(sample);
  }

  /** The finished job as the destination's libvirtd recorded it: the real downtime and setup time. */
  private async readCompletedStats(): Promise<void> {
    const read = await this.setup.destination.exec(virshCommand(['domjobinfo', '--completed', '--rawstats', this.summary.vm]), { timeoutMs: 15_000 }).catch(() => null);
    if (read?.code !== 0 || !read) return;
    const stats = parseJobStats(read.stdout);
    this.result.downtimeMs = stats.downtimeMs;
    this.result.setupTimeMs = stats.setupTimeMs;
    const last = this.samples[this.samples.length - 1];
    if (stats.memory.total > 0) this.emitSample({ ...sampleFromJob(stats, last, Date.now() - this.setup.startedAt, this.disks), phase: 'switchover', expectedDowntimeMs: stats.downtimeMs });
  }

  private async runOffline(bridge: LibvirtBridge): Promise<void> {
    const { source, destination, options } = this.setup;
    const wasRunning = (await runVirsh(source, ['domstate', options.vm])).trim() === 'running';
    let copied: string[] = [];
    try {
      if (wasRunning) {
        this.setPhase('preparing-destination');
        await stopDomain(source, options.vm, options.shutdownTimeoutMs, this.controller.signal);
      }
      this.setPhase('copying-disks');
      copied = await copyDisksOffline(source, destination, this.disks, {
        signal: this.controller.signal,
        reuseImages: options.reuseImages,
        onProgress: (progress) => {
          this.result.diskBytes = progress.reduce((sum, disk) => sum + disk.transferredBytes, 0);
          const t = Date.now() - this.setup.startedAt;
          const last = this.samples[this.samples.length - 1];
          const throughputBps = last && t > last.t ? Math.max(0, ((this.result.diskBytes - last.disks.reduce((sum, disk) => sum + disk.transferredBytes, 0)) * 1000) / (t - last.t)) : 0;
          this.emitSample({ t, phase: 'copying-disks', pass: 0, ram: { transferredBytes: 0, remainingBytes: 0, totalBytes: 0 }, disks: progress, throughputBps, dirtyRateBps: 0, expectedDowntimeMs: null, timeLeftMs: null, throttlePercent: 0, notConverging: null });
        },
      });
      if (this.controller.signal.aborted) throw cancelledError();
      // The point of no return: libvirt defines the domain on the destination and removes it here.
      this.commit();
      this.setPhase('switchover');
      await runVirsh(source, offlineMigrateArgs(options, bridge.uri), { timeoutMs: 120_000 });
    } catch (error) {
      if (!this.summary.committed) {
        if (!options.reuseImages) await removeDestinationImages(destination, copied);
        if (wasRunning) await runVirsh(source, ['start', options.vm]).catch(() => undefined);
      }
      throw error;
    }
    this.setPhase('finishing');
    if (wasRunning && !options.noStart) await runVirsh(destination, ['start', options.vm]);
  }

  private async finish(error: FerryError | null): Promise<void> {
    const cancelled = error !== null && (this.controller.signal.aborted || isFerryError(error, 'cancelled'));
    const outcome: MigrationReport['outcome'] = error === null ? 'completed' : cancelled ? 'cancelled' : 'failed';
    this.summary.phase = outcome;
    const foundOn = await this.locate();
    const finishedAt = Date.now();
    const { options, startedAt } = this.setup;
    const last = this.samples[this.samples.length - 1];
    const ramBytes = last?.ram.transferredBytes ?? 0;
    const perDisk = this.disks.map((disk, index) => ({ device: disk.device, path: disk.path, bytes: last?.disks[index]?.transferredBytes ?? 0 }));
    const moved = ramBytes + perDisk.reduce((sum, disk) => sum + disk.bytes, 0);
    const totalTimeMs = finishedAt - startedAt;
    this.summary.report = {
      id: this.id, vm: options.vm, from: options.from, to: options.to, mode: options.mode, outcome,
      startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(finishedAt).toISOString(), totalTimeMs,
      setupTimeMs: this.result.setupTimeMs, downtimeMs: options.mode === 'offline' ? null : this.result.downtimeMs, maxHeartbeatGapMs: null,
      ramBytes, disks: perDisk, averageThroughputBps: totalTimeMs > 0 ? (moved * 1000) / totalTimeMs : 0,
      options: { ...options, migratedBy: 'libvirt' },
      error: error === null ? null : { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      foundOn,
    };
    await this.deps.history.save({ ...this.summary, samples: this.samples }).catch(() => undefined);
    this.setup.onEnded?.();
    this.deps.publish('migration-update', { ...this.summary });
  }

  /** The destination's libvirtd answered that it has no domain of this name. */
  private async absentOnDestination(): Promise<boolean> {
    const [, there] = await this.locate();
    return there?.state === 'absent';
  }

  /** Where libvirt says the domain runs now, on both hosts. */
  private async locate(): Promise<VmLocation[]> {
    const { source, destination, options } = this.setup;
    return Promise.all(
      [[options.from, source], [options.to, destination]].map(async ([host, transport]): Promise<VmLocation> => {
        const read = await (transport as HostTransport).exec(virshCommand(['domstate', options.vm]), { timeoutMs: 15_000 }).catch(() => null);
        if (read === null) return { host: host as string, state: 'unreachable' };
        return { host: host as string, state: read.code === 0 ? runStateFromLibvirtText(read.stdout) : 'absent' };
      }),
    );
  }
}

function cancelledError(): FerryError {
  return new FerryError('cancelled', 'The migration was cancelled; the domain stays on the source host', { hint: 'Start it again when you are ready.' });
}

function withMigrationCode(error: FerryError): FerryError {
  return error.code === 'remote-command-failed' ? new FerryError('migration-failed', error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { ...error.details } }) : error;
}

