import { randomUUID } from 'node:crypto';
import type { ChannelArgs, ChannelOutput, EngineEventName, EngineEvents } from '../api/contract.js';
import type { MigrationPhase, MigrationRecord, MigrationReport, MigrationSample, MigrationSummary, PreflightReport } from '../api/types.js';
import { FerryError, isFerryError, toFerryError } from '../errors.js';
import { ferryHomeLayout } from '../paths.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import { destroyVm, shutdownVm, startVm } from '../vm/lifecycle.js';
import { destinationDefinition } from './destination.js';
import { HeartbeatProbe } from './heartbeat-probe.js';
import { History, recordToCsv } from './history.js';
import { Journal, type JournalEntry } from './journal.js';
import { runLiveMigration } from './live.js';
import { runOfflineMigration } from './offline.js';
import { planMigration, type Plan } from './plan.js';
import { finishForward, handOverDefinition, recoverEntry, removeHelpers, unwind } from './recovery.js';
import { availableModes, runPreflight } from './preflight.js';
import type { MigrationOptions, RunContext } from './run-context.js';
import type { UndoContext, UndoStep } from './undo.js';

export interface MigrationDependencies {
  home: string;
  transport(host: string): Promise<HostTransport>;
  /** The address other hosts reach this host at (its SSH address, resolved). */
  hostAddress(host: string): Promise<string>;
  publish<E extends EngineEventName>(name: E, payload: EngineEvents[E]): void;
}

/** Samples kept in memory per running migration (a ring: the oldest fall off). */
const LIVE_SAMPLE_LIMIT = 4000;
const SAMPLE_PUBLISH_INTERVAL_MS = 250;

interface Running {
  summary: MigrationSummary;
  samples: MigrationSample[];
  controller: AbortController;
  context: RunContext | undefined;
  done: Promise<void>;
  lastPublished: number;
}


export class MigrationService {
  private readonly running = new Map<string, Running>();
  private readonly journal: Journal;
  private readonly history: History;
  private recovered: Promise<void> | undefined;

  constructor(private readonly deps: MigrationDependencies) {
    const layout = ferryHomeLayout(deps.home);
    this.journal = new Journal(layout.journal);
    this.history = new History(layout.history);
  }

  private undoContext(): UndoContext {
    return {
      transport: (host) => this.deps.transport(host),
      startVm: async (host, vm) => {
        await startVm({ name: host, transport: await this.deps.transport(host) }, vm);
      },
    };
  }

  private busyWith(vm: string, from: string): string | undefined {
    return [...this.running.values()].find((entry) => entry.summary.vm === vm && entry.summary.from === from && entry.summary.report === null)?.summary.id;
  }

  async modes(args: ChannelArgs<'migrations.modes'>): Promise<ChannelOutput<'migrations.modes'>> {
    const plan = await planMigration(this.deps, args);
    return availableModes(plan.sourceState, plan.disks);
  }

  async check(args: ChannelArgs<'migrations.check'>): Promise<PreflightReport> {
    await this.recover();
    const plan = await planMigration(this.deps, args);
    return runPreflight({ ...plan, options: args, busyWith: this.busyWith(args.vm, args.from) });
  }

  async start(options: ChannelArgs<'migrations.start'>): Promise<MigrationSummary> {
    // The user's wait starts now: planning and pre-flight count in the total time.
    const startedAt = Date.now();
    await this.recover();
    const plan = await planMigration(this.deps, options);
    const report = await runPreflight({ ...plan, options, busyWith: this.busyWith(options.vm, options.from) });
    if (!report.ok) {
      const errors = report.items.filter((item) => item.level === 'error');
      throw new FerryError('preflight-failed', `Pre-flight found ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${errors.map((item) => item.message).join(' ')}`, {
        hint: errors.map((item) => item.hint).filter(Boolean).join(' ') || 'Fix the problems listed and try again.',
        details: { items: report.items },
      });
    }
    const id = randomUUID();
    const summary: MigrationSummary = { id, vm: options.vm, from: options.from, to: options.to, mode: options.mode, phase: 'preflight', startedAt: new Date(startedAt).toISOString(), report: null };
    const entry: JournalEntry = {
      id,
      vm: options.vm,
      from: options.from,
      to: options.to,
      mode: options.mode,
      startedAt: summary.startedAt,
      state: 'running',
      sourceQmpSocket: plan.sourceState === 'shutoff' ? null : plan.sourceSocket,
      destinationQmpSocket: vmLayout(options.vm).qmpSocket,
      undo: [],
      options: { ...options },
      destinationDefinition: destinationDefinition(plan.definition, plan.disks),
    };
    await this.journal.write(entry);
    const running: Running = { summary, samples: [], controller: new AbortController(), context: undefined, done: Promise.resolve(), lastPublished: 0 };
    this.running.set(id, running);
    running.done = this.execute(running, entry, plan, options, startedAt);
    this.deps.publish('migration-update', { ...summary });
    return { ...summary };
  }

  /** Resolves when the migration has ended (successfully or not); for the CLI and tests. */
  async settled(id: string): Promise<MigrationRecord> {
    await this.running.get(id)?.done;
    return this.history.get(id);
  }

  private async execute(running: Running, entry: JournalEntry, plan: Plan, options: MigrationOptions, startedAt: number): Promise<void> {
    const setPhase = (phase: MigrationPhase) => {
      running.summary.phase = phase;
      this.deps.publish('migration-update', { ...running.summary });
    };
    const context: RunContext = {
      id: entry.id,
      options,
      definition: plan.definition,
      disks: plan.disks,
      source: plan.source,
      destination: plan.destination,
      destinationAddress: plan.destinationAddress,
      kvmOnDestination: plan.destinationInfo.kvmUsable,
      signal: running.controller.signal,
      setPhase,
      emitSample: (sample) => {
        running.samples.push(sample);
        if (running.samples.length > LIVE_SAMPLE_LIMIT) running.samples.shift();
        const now = Date.now();
        if (now - running.lastPublished >= SAMPLE_PUBLISH_INTERVAL_MS) {
          running.lastPublished = now;
          this.deps.publish('migration-sample', { id: entry.id, sample });
        }
      },
      pushUndo: async (step: UndoStep) => {
        entry.undo.push(step);
        await this.journal.write(entry);
      },
      commit: async () => {
        entry.state = 'committing';
        await this.journal.write(entry);
      },
      result: { setupTimeMs: null, downtimeMs: null, ramBytes: 0, diskBytes: new Map() },
      createdImages: new Set(),
      startedAt,
    };
    running.context = context;
    const probe = this.startProbe(options, plan);
    let error: FerryError | null = null;
    let outcome: MigrationReport['outcome'] = 'completed';
    try {
      if (options.mode === 'offline') {
        await runOfflineMigration(context, plan.sourceState === 'shutoff' ? null : plan.sourceSocket, {
          stopSource: async () => {
            await shutdownVm({ name: options.from, transport: plan.source }, options.vm, options.shutdownTimeoutMs);
          },
          moveDefinition: () => handOverDefinition(plan.source, plan.destination, destinationDefinition(plan.definition, plan.disks)),
          stopSourceProcess: async () => {
            await destroyVm({ name: options.from, transport: plan.source }, options.vm);
          },
        });
      } else {
        await runLiveMigration(context, plan.sourceSocket, options.mode === 'block');
        await handOverDefinition(plan.source, plan.destination, destinationDefinition(plan.definition, plan.disks));
      }
      running.summary.phase = 'completed';
      await removeHelpers(entry, this.undoContext());
    } catch (caught) {
      error = toFerryError(caught);
      const cancelled = running.controller.signal.aborted || isFerryError(caught, 'cancelled');
      outcome = cancelled ? 'cancelled' : 'failed';
      if (entry.state === 'committing') {
        // Past the switch-over the destination owns the VM: finish forwards, never undo.
        await finishForward(entry, this.deps.transport).catch(() => undefined);
        outcome = 'completed';
      } else {
        setPhase('cleaning-up');
        const problems = await unwind(entry, this.undoContext());
        if (problems.length > 0) error = new FerryError(error.code, `${error.message} Cleanup also hit problems: ${problems.join('; ')}`, { ...(error.hint ? { hint: error.hint } : {}) });
      }
      running.summary.phase = outcome === 'completed' ? 'completed' : outcome;
    }
    const maxGap = probe?.stop() ?? null;
    await this.journal.remove(entry.id);
    const report = this.buildReport(running, context, outcome, outcome === 'completed' ? null : error, maxGap);
    running.summary.report = report;
    await this.history.save({ ...running.summary, samples: running.samples });
    this.deps.publish('migration-update', { ...running.summary });
  }

  private startProbe(options: MigrationOptions, plan: Plan): HeartbeatProbe | null {
    if (!options.probe) return null;
    if (options.probe === 'serial') {
      const log = vmLayout(options.vm).serialLog;
      return HeartbeatProbe.serial([
        { transport: plan.source, path: log },
        { transport: plan.destination, path: log },
      ]);
    }
    const match = /^tcp:(.+):(\d+)$/.exec(options.probe);
    return match?.[1] && match[2] ? HeartbeatProbe.tcp(match[1], Number(match[2])) : null;
  }

  private buildReport(running: Running, context: RunContext, outcome: MigrationReport['outcome'], error: FerryError | null, maxGap: number | null): MigrationReport {
    const finishedAt = Date.now();
    const last = running.samples[running.samples.length - 1];
    const disks = context.disks
      .filter((disk) => !disk.shared)
      .map((disk) => {
        const fromSample = last?.disks.find((entry) => entry.device === disk.source.device)?.transferredBytes ?? 0;
        const progressed = context.result.diskBytes.get(disk.source.device) ?? fromSample;
        // A mirror's progress counts unallocated areas too, which cross as cheap zero writes;
        // what really crosses is at most the data allocated in what was copied.
        const allocated = context.options.incremental ? disk.source.allocatedBytes : disk.source.chainAllocatedBytes;
        return { device: disk.source.device, path: disk.source.disk.path, bytes: Math.min(progressed, allocated) };
      });
    const ramBytes = context.result.ramBytes || last?.ram.transferredBytes || 0;
    const totalTimeMs = finishedAt - context.startedAt;
    const moved = ramBytes + disks.reduce((sum, disk) => sum + disk.bytes, 0);
    const { options } = context;
    return {
      id: context.id,
      vm: options.vm,
      from: options.from,
      to: options.to,
      mode: options.mode,
      outcome,
      startedAt: new Date(context.startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      totalTimeMs,
      setupTimeMs: context.result.setupTimeMs,
      downtimeMs: context.result.downtimeMs,
      maxHeartbeatGapMs: maxGap,
      ramBytes,
      disks,
      averageThroughputBps: totalTimeMs > 0 ? (moved * 1000) / totalTimeMs : 0,
      options: { ...options },
      error: error ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } : null,
    };
  }

  /**
   * Finds migrations a previous Ferry left unfinished (it died mid-way) and settles each: finished
   * forwards if QEMU completed it without us, rolled back otherwise. Runs once per engine.
   */
  recover(): Promise<void> {
    this.recovered ??= this.recoverAll();
    return this.recovered;
  }

  private async recoverAll(): Promise<void> {
    for (const entry of await this.journal.list()) {
      if (this.running.has(entry.id)) continue;
      const report = await recoverEntry(entry, this.deps.transport, this.undoContext());
      await this.journal.remove(entry.id);
      await this.history.save({ id: entry.id, vm: entry.vm, from: entry.from, to: entry.to, mode: entry.mode, phase: report.outcome === 'completed' ? 'completed' : 'failed', startedAt: entry.startedAt, report, samples: [] });
    }
  }

  async cancel({ id }: ChannelArgs<'migrations.cancel'>): Promise<MigrationSummary> {
    const running = this.running.get(id);
    if (!running || running.summary.report !== null) {
      const record = running?.summary ?? (await this.history.get(id));
      throw new FerryError('invalid-input', `Migration ${id} has already ended (${record.report?.outcome ?? record.phase})`, { hint: 'Only a running migration can be cancelled.' });
    }
    running.controller.abort();
    return { ...running.summary };
  }

  async tune(args: ChannelArgs<'migrations.tune'>): Promise<MigrationSummary> {
    const running = this.running.get(args.id);
    if (!running || running.summary.report !== null || !running.context) {
      throw new FerryError('invalid-input', `Migration ${args.id} is not running`, { hint: 'Live controls apply only while a migration runs.' });
    }
    const context = running.context;
    if (args.startPostcopy) {
      if (!context.options.postcopy) throw new FerryError('invalid-input', 'This migration was started without postcopy', { hint: 'Start it with the postcopy option to be able to switch.' });
      context.postcopyRequested = true;
    }
    const parameters: Record<string, unknown> = {};
    if (args.bandwidthMiBps !== undefined) parameters['max-bandwidth'] = Math.round(args.bandwidthMiBps * 1024 * 1024);
    if (args.downtimeMs !== undefined) parameters['downtime-limit'] = args.downtimeMs;
    if (Object.keys(parameters).length > 0) {
      // QEMU serves one monitor client, so the change goes through the runner's own connection.
      if (!context.sourceMonitor) throw new FerryError('busy', 'The migration is not at a stage where its speed can be changed', { hint: 'Try again once memory is being copied.' });
      await context.sourceMonitor.repeatable('migrate-set-parameters', parameters);
      if (args.bandwidthMiBps !== undefined) context.options.bandwidthMiBps = args.bandwidthMiBps;
      if (args.downtimeMs !== undefined) context.options.downtimeMs = args.downtimeMs;
    }
    return { ...running.summary };
  }

  async list(): Promise<MigrationSummary[]> {
    await this.recover();
    const records = await this.history.list();
    const active = [...this.running.values()].filter((entry) => entry.summary.report === null).map((entry) => ({ ...entry.summary }));
    return [...active, ...records.map(({ samples: _samples, ...summary }) => summary)];
  }

  async get({ id }: ChannelArgs<'migrations.get'>): Promise<MigrationRecord> {
    const running = this.running.get(id);
    if (running && running.summary.report === null) return { ...running.summary, samples: [...running.samples] };
    return this.history.get(id);
  }

  async export({ id, format }: ChannelArgs<'migrations.export'>): Promise<ChannelOutput<'migrations.export'>> {
    const record = await this.get({ id });
    const base = `ferry-migration-${record.vm}-${record.startedAt.replace(/[:.]/g, '-')}`;
    return format === 'json'
      ? { filename: `${base}.json`, mimeType: 'application/json', content: JSON.stringify(record, null, 2) }
      : { filename: `${base}.csv`, mimeType: 'text/csv', content: recordToCsv(record) };
  }
}
