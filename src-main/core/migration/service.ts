import { randomUUID } from 'node:crypto';
import type { ChannelArgs, ChannelOutput, EngineEventName, EngineEvents } from '../api/contract.js';
import type { HostInfo, MigrationPhase, MigrationRecord, MigrationReport, MigrationSample, MigrationSummary, PreflightReport, VmDefinition } from '../api/types.js';
import { FerryError, isFerryError, toFerryError } from '../errors.js';
import { readHostInfo } from '../host/info.js';
import { ferryHomeLayout } from '../paths.js';
import { writeJsonFile } from '../remote/json-files.js';
import { listPools } from '../storage/pools.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import { destroyVm, loadDefinition, monitorSocket, shutdownVm, startVm, vmDetails } from '../vm/lifecycle.js';
import { destinationDefinition } from './destination.js';
import { destinationPath, inspectDisks, isSameFile } from './disks.js';
import { HeartbeatProbe } from './heartbeat-probe.js';
import { History, recordToCsv } from './history.js';
import { Journal, type JournalEntry } from './journal.js';
import { runLiveMigration } from './live.js';
import { MonitorHandle } from './monitor-handle.js';
import { runOfflineMigration } from './offline.js';
import { availableModes, runPreflight } from './preflight.js';
import type { MigrationOptions, PlannedDisk, RunContext } from './run-context.js';
import { describeUndoStep, runUndoStep, type UndoContext, type UndoStep } from './undo.js';

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

interface Plan {
  definition: VmDefinition;
  source: HostTransport;
  destination: HostTransport;
  sourceInfo: HostInfo;
  destinationInfo: HostInfo;
  disks: PlannedDisk[];
  sourceState: Awaited<ReturnType<typeof vmDetails>>['state'];
  sourceSocket: string;
  destinationAddress: string;
  destPoolPath: string | undefined;
  destPoolProblem: string | undefined;
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

  private async plan(options: Pick<MigrationOptions, 'vm' | 'from' | 'to' | 'destPool'> & { address?: string | undefined }): Promise<Plan> {
    const [source, destination] = await Promise.all([this.deps.transport(options.from), this.deps.transport(options.to)]);
    const definitionRead = loadDefinition({ name: options.from, transport: source }, options.vm).then((found) => {
      if (!found) throw new FerryError('not-found', `There is no VM "${options.vm}" on ${options.from}`, { hint: `\`ferry vm list ${options.from}\` shows the VMs there.` });
      return found;
    });
    // Everything that asks a host runs side by side: each is a round trip, some spawn QEMU.
    const [definition, details, sourceInfo, destinationInfo, sourceDisks, pools, destinationAddress] = await Promise.all([
      definitionRead,
      vmDetails({ name: options.from, transport: source }, options.vm),
      readHostInfo(options.from, source),
      readHostInfo(options.to, destination),
      definitionRead.then((found) => inspectDisks(source, found)),
      options.destPool ? listPools(destination) : Promise.resolve([]),
      options.address ?? this.deps.hostAddress(options.to),
    ]);
    let destPoolPath: string | undefined;
    let destPoolProblem: string | undefined;
    if (options.destPool) {
      const pool = pools.find((candidate) => candidate.name === options.destPool);
      if (!pool) destPoolProblem = `There is no pool ${options.destPool} on ${options.to}.`;
      else if (pool.problem !== undefined) destPoolProblem = `Pool ${options.destPool} on ${options.to}: ${pool.problem}.`;
      else if (!pool.active) destPoolProblem = `Pool ${options.destPool} on ${options.to} is not started.`;
      else destPoolPath = pool.path;
    }
    const disks = await Promise.all(
      sourceDisks.map(async (disk): Promise<PlannedDisk> => {
        const target = destinationPath(disk, destPoolPath);
        const shared = target === disk.disk.path && !disk.isBlockDevice && (await isSameFile(source, destination, disk.disk.path));
        return { source: disk, destinationPath: disk.isBlockDevice && destPoolPath ? `${target}.raw` : target, shared };
      }),
    );
    return {
      definition,
      source,
      destination,
      sourceInfo,
      destinationInfo,
      disks,
      sourceState: details.state,
      sourceSocket: monitorSocket(definition, options.vm),
      destinationAddress,
      destPoolPath,
      destPoolProblem,
    };
  }

  private busyWith(vm: string, from: string): string | undefined {
    return [...this.running.values()].find((entry) => entry.summary.vm === vm && entry.summary.from === from && entry.summary.report === null)?.summary.id;
  }

  async modes(args: ChannelArgs<'migrations.modes'>): Promise<ChannelOutput<'migrations.modes'>> {
    const plan = await this.plan(args);
    return availableModes(plan.sourceState, plan.disks);
  }

  async check(args: ChannelArgs<'migrations.check'>): Promise<PreflightReport> {
    await this.recover();
    const plan = await this.plan(args);
    return runPreflight({ ...plan, options: args, busyWith: this.busyWith(args.vm, args.from) });
  }

  async start(options: ChannelArgs<'migrations.start'>): Promise<MigrationSummary> {
    // The user's wait starts now: planning and pre-flight count in the total time.
    const startedAt = Date.now();
    await this.recover();
    const plan = await this.plan(options);
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
          moveDefinition: () => this.moveDefinition(plan, options),
          stopSourceProcess: async () => {
            await destroyVm({ name: options.from, transport: plan.source }, options.vm);
          },
        });
      } else {
        await runLiveMigration(context, plan.sourceSocket, options.mode === 'block');
        await this.moveDefinition(plan, options);
      }
      running.summary.phase = 'completed';
      await this.removeHelpers(entry);
    } catch (caught) {
      error = toFerryError(caught);
      const cancelled = running.controller.signal.aborted || isFerryError(caught, 'cancelled');
      outcome = cancelled ? 'cancelled' : 'failed';
      if (entry.state === 'committing') {
        // Past the switch-over the destination owns the VM: finish forwards, never undo.
        await this.finishForward(entry).catch(() => undefined);
        outcome = 'completed';
      } else {
        setPhase('cleaning-up');
        const problems = await this.unwind(entry);
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

  /** The destination owns the VM now: its definition is written there and removed from the source. */
  private async moveDefinition(plan: Plan, options: MigrationOptions): Promise<void> {
    const layout = vmLayout(options.vm);
    // The source QEMU was told to quit; a stale copy of the guest must not linger behind the
    // moved VM, so it is given a few seconds and then killed before its files go.
    const pidFile = shellQuote(layout.pidFile);
    const reap = `p=; { read -r p < ${pidFile}; } 2>/dev/null; if [ -n "$p" ]; then i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; kill -9 "$p" 2>/dev/null; fi`;
    // Written there before it is removed here: a failure in between leaves two copies, never none.
    await writeJsonFile(plan.destination, layout.definition, destinationDefinition(plan.definition, plan.disks));
    await plan.source.run(`${reap}; ${shellCommand(['rm', '-f', '--', layout.definition, layout.pidFile, layout.qmpSocket, layout.vncSocket])}`);
  }

  /** Keys and helper processes go in every outcome; on success nothing else is undone. */
  private async removeHelpers(entry: JournalEntry): Promise<void> {
    for (const step of entry.undo.filter((candidate) => candidate.kind === 'remove-key-dir' || candidate.kind === 'kill-process')) {
      await withTimeout(runUndoStep(step, this.undoContext()), 60_000, describeUndoStep(step)).catch(() => undefined);
    }
  }

  /** Runs every recorded undo step, newest first; a failing step does not stop the others. */
  private async unwind(entry: JournalEntry): Promise<string[]> {
    const problems: string[] = [];
    for (const step of [...entry.undo].reverse()) {
      try {
        await withTimeout(runUndoStep(step, this.undoContext()), 60_000, describeUndoStep(step));
      } catch (caught) {
        problems.push(`could not ${describeUndoStep(step)}: ${(caught as Error).message}`);
      }
    }
    return problems;
  }

  /** After a crash at or past the switch-over: make the destination's copy the one that runs. */
  private async finishForward(entry: JournalEntry): Promise<void> {
    const destination = await this.deps.transport(entry.to);
    const source = await this.deps.transport(entry.from);
    if (entry.destinationQmpSocket && entry.mode !== 'offline') {
      const monitor = new MonitorHandle(destination, entry.destinationQmpSocket);
      try {
        const status = await monitor.query<{ status: string }>('query-status');
        // A destination still receiving has an incomplete copy; running it would lose data.
        if (status.status === 'inmigrate') throw new FerryError('migration-failed', `The VM on ${entry.to} never received the whole state`, { hint: 'It was rolled back instead.' });
        if (status.status !== 'running') {
          await monitor.command('nbd-server-stop').catch(() => undefined);
          await monitor.command('cont');
        }
      } finally {
        await monitor.close();
      }
    }
    if (entry.sourceQmpSocket) {
      const monitor = new MonitorHandle(source, entry.sourceQmpSocket);
      await monitor.quit().catch(() => undefined);
    }
    const layout = vmLayout(entry.vm);
    if ((await destination.exec(shellCommand(['test', '-e', layout.definition]))).code !== 0) await writeJsonFile(destination, layout.definition, entry.destinationDefinition);
    await source.run(shellCommand(['rm', '-f', '--', layout.definition, layout.pidFile, layout.qmpSocket, layout.vncSocket]));
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
      let outcome: MigrationReport['outcome'] = 'failed';
      let message = 'Ferry stopped during this migration; it was rolled back when Ferry started again.';
      try {
        if (entry.state === 'committing' || (await this.completedWithoutUs(entry))) {
          await this.finishForward(entry);
          outcome = 'completed';
          message = 'Ferry stopped during this migration; QEMU finished it and Ferry completed the hand-over when it started again.';
        } else {
          await this.unwind(entry);
        }
      } catch (caught) {
        outcome = 'failed';
        message = `Ferry stopped during this migration. Recovery hit a problem: ${(caught as Error).message}`;
        if (entry.state !== 'committing') await this.unwind(entry);
      }
      await this.journal.remove(entry.id);
      const now = new Date().toISOString();
      const report: MigrationReport = {
        id: entry.id, vm: entry.vm, from: entry.from, to: entry.to, mode: entry.mode, outcome, startedAt: entry.startedAt, finishedAt: now,
        totalTimeMs: Date.now() - Date.parse(entry.startedAt), setupTimeMs: null, downtimeMs: null, maxHeartbeatGapMs: null, ramBytes: 0, disks: [],
        averageThroughputBps: 0, options: entry.options, error: outcome === 'completed' ? null : { code: 'migration-failed', message },
      };
      await this.history.save({ id: entry.id, vm: entry.vm, from: entry.from, to: entry.to, mode: entry.mode, phase: outcome === 'completed' ? 'completed' : 'failed', startedAt: entry.startedAt, report, samples: [] });
    }
  }

  /**
   * Whether the source QEMU finished sending the VM on its own after Ferry died. query-migrate
   * alone is not enough: a VM that once arrived by migration reports that incoming one as
   * completed, so the source must also be in "postmigrate" (it sent itself away).
   */
  private async completedWithoutUs(entry: JournalEntry): Promise<boolean> {
    if (!entry.sourceQmpSocket || entry.mode === 'offline') return false;
    const source = await this.deps.transport(entry.from);
    const monitor = new MonitorHandle(source, entry.sourceQmpSocket);
    try {
      const status = await monitor.command<{ status: string }>('query-status');
      const info = await monitor.command<{ status?: string }>('query-migrate');
      return status.status === 'postmigrate' && info.status === 'completed';
    } catch {
      return false;
    } finally {
      await monitor.close();
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
      await context.sourceMonitor.command('migrate-set-parameters', parameters);
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

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FerryError('timeout', `${what} took longer than ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
