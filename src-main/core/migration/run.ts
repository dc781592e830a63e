import type { ChannelArgs } from '../api/contract.js';
import type { MigrationPhase, MigrationRecord, MigrationReport, MigrationSample, MigrationSummary, VmLocation } from '../api/types.js';
import { FerryError, isFerryError, toFerryError } from '../errors.js';
import { vmLayout } from '../vm/layout.js';
import { destroyVm, shutdownVm } from '../vm/lifecycle.js';
import { destinationDefinition } from './destination.js';
import { HeartbeatProbe } from './heartbeat-probe.js';
import type { History } from './history.js';
import type { Journal, JournalEntry } from './journal.js';
import { runLiveMigration } from './live.js';
import { runOfflineMigration } from './offline.js';
import type { OwnerLock } from './owner-lock.js';
import type { Plan } from './plan.js';
import { finishForward, handOverDefinition, removeHelpers, settleBeforeCommit, type Settlement } from './recovery.js';
import type { MigrationOptions, RunContext } from './run-context.js';
import { reportedDisks } from './sampler.js';
import { LiveControls } from './live-controls.js';
import type { UndoContext, UndoStep } from './undo.js';
import type { VmClaim } from './vm-claim.js';
import { within } from './within.js';
import type { MigrationDependencies } from './service.js';

/** Samples kept in memory per running migration (a ring: the oldest fall off). */
const LIVE_SAMPLE_LIMIT = 4000;
const CLAIM_TIMEOUT_MS = 15_000;
const IN_RUN_FORWARD_WAIT_MS = 90_000;

export interface RunResources {
  entry: JournalEntry;
  plan: Plan;
  options: MigrationOptions;
  startedAt: number;
  journal: Journal;
  history: History;
  /** The OS lock that says this process owns the journal entry. */
  ownerLock: OwnerLock;
  /** The VM's name claimed on the source and on the destination host. */
  claims: VmClaim[];
  undoContext: UndoContext;
  /** Where the VM's QEMU runs now, asked of the hosts. */
  locate(): Promise<VmLocation[]>;
}

/**
 * One running migration and everything it owns: its journal entry and locks, its sample buffer,
 * its cancel and live controls, and its commit point. Before the commit point a failure is
 * undone; after it, the migration can only be finished forwards, and cancel is refused.
 */
export class MigrationRun {
  readonly summary: MigrationSummary;
  readonly samples: MigrationSample[] = [];
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private readonly controls: LiveControls;

  constructor(
    private readonly deps: MigrationDependencies,
    private readonly resources: RunResources,
  ) {
    const { entry, options, startedAt } = resources;
    this.controls = new LiveControls(options);
    this.summary = { id: entry.id, vm: options.vm, from: options.from, to: options.to, mode: options.mode, phase: 'preflight', startedAt: new Date(startedAt).toISOString(), committed: false, report: null };
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
      throw new FerryError('busy', `Migration ${this.id} can no longer be cancelled: ${this.summary.vm}'s state is already on ${this.summary.to}`, {
        hint: `It is past the point of no return (postcopy, or the switch-over has begun) and is finishing on ${this.summary.to}; cancelling now would lose the guest's memory.`,
      });
    }
    this.controller.abort();
  }

  async tune(args: ChannelArgs<'migrations.tune'>): Promise<void> {
    if (args.startPostcopy) this.controls.requestPostcopy();
    await this.controls.setSpeed(args);
  }

  private setPhase(phase: MigrationPhase): void {
    this.summary.phase = phase;
    this.deps.publish('migration-update', { ...this.summary });
  }

  /**
   * Every sample is kept and published: the front ends' one throttle (web/throttle.ts, used by the
   * bridge and by Electron) decides what to draw and always delivers the last one, so the live
   * chart and the history draw the same series.
   */
  private emitSample(sample: MigrationSample): void {
    this.samples.push(sample);
    if (this.samples.length > LIVE_SAMPLE_LIMIT) this.samples.shift();
    this.deps.publish('migration-sample', { id: this.id, sample });
  }

  /** The point of no return: written to the journal before the step that makes it so. */
  private async commit(): Promise<void> {
    const { entry, journal } = this.resources;
    if (entry.state === 'committed') return;
    entry.state = 'committed';
    await journal.write(entry);
    this.summary.committed = true;
    this.deps.publish('migration-update', { ...this.summary });
  }

  private buildContext(): RunContext {
    const { entry, plan, options, startedAt, journal } = this.resources;
    return {
      id: entry.id,
      options,
      definition: plan.definition,
      disks: plan.disks,
      source: plan.source,
      destination: plan.destination,
      destinationAddress: plan.destinationAddress,
      kvmOnDestination: plan.destinationInfo.kvmUsable,
      sourceRunning: plan.sourceState === 'running',
      signal: this.controller.signal,
      setPhase: (phase) => this.setPhase(phase),
      emitSample: (sample) => this.emitSample(sample),
      pushUndo: async (step: UndoStep) => {
        entry.undo.push(step);
        await journal.write(entry);
      },
      commit: () => this.commit(),
      result: { setupTimeMs: null, downtimeMs: null, ramBytes: 0, diskBytes: new Map() },
      createdImages: new Set(),
      startedAt,
      controls: this.controls,
    };
  }

  private async runMode(context: RunContext): Promise<void> {
    const { plan, options } = this.resources;
    const moveDefinition = () => handOverDefinition(plan.source, plan.destination, destinationDefinition(plan.definition, plan.disks));
    if (options.mode === 'offline') {
      await runOfflineMigration(context, plan.sourceState === 'shutoff' ? null : plan.sourceSocket, {
        stopSource: async () => {
          await shutdownVm({ name: options.from, transport: plan.source }, options.vm, options.shutdownTimeoutMs);
        },
        moveDefinition,
        stopSourceProcess: async () => {
          await destroyVm({ name: options.from, transport: plan.source }, options.vm);
        },
      });
    } else {
      await runLiveMigration(context, plan.sourceSocket, options.mode === 'block');
      await moveDefinition();
    }
  }

  private async execute(): Promise<void> {
    const { entry, history, undoContext } = this.resources;
    const context = this.buildContext();
    const probe = this.startProbe();
    let error: FerryError | null = null;
    let settlement: Settlement;
    try {
      await this.runMode(context);
      const left = await removeHelpers(entry.undo, undoContext);
      settlement = { outcome: 'completed', message: '', remaining: left };
    } catch (caught) {
      error = toFerryError(caught);
      if (entry.state === 'committed') {
        this.setPhase('finishing');
        // QEMU may still be moving the guest (a broken postcopy link can heal): give it a while
        // here, and leave the rest to recovery.
        settlement = await finishForward(entry, this.deps.transport, undoContext, IN_RUN_FORWARD_WAIT_MS);
      } else {
        this.setPhase('cleaning-up');
        settlement = await settleBeforeCommit(entry, undoContext);
      }
    }
    const cancelled = this.controller.signal.aborted || (error !== null && isFerryError(error, 'cancelled'));
    const outcome: MigrationReport['outcome'] =
      settlement.outcome === 'completed' ? 'completed' : settlement.outcome === 'in-doubt' ? 'in-doubt' : cancelled ? 'cancelled' : 'failed';
    await this.settleJournal(settlement);
    const maxGap = probe?.stop() ?? null;
    this.summary.phase = outcome;
    const foundOn = await this.resources.locate();
    const reportError = this.reportError(outcome, error, settlement);
    const report = buildReport(this.summary, context, this.samples, outcome, reportError, maxGap, foundOn);
    this.summary.report = report;
    await history.save({ ...this.summary, samples: this.samples });
    await this.resources.ownerLock.release();
    this.deps.publish('migration-update', { ...this.summary });
  }

  /**
   * A settled migration leaves the journal and frees the VM; one in doubt keeps both. Helpers
   * (keys, qemu-nbd) that could not be removed keep the entry too, so recovery removes them later.
   */
  private async settleJournal(settlement: Settlement): Promise<void> {
    const { entry, journal, claims } = this.resources;
    const inDoubt = settlement.outcome === 'in-doubt';
    if (settlement.remaining.length > 0 || inDoubt) {
      entry.undo = settlement.remaining;
      entry.doubt = inDoubt ? settlement.message : `Cleanup still to do: ${settlement.remaining.length} step(s) on the hosts.`;
      await journal.write(entry);
    } else {
      await journal.remove(entry.id);
    }
    // Side by side and bounded: a host out of reach must not hold up the report (its lease expires).
    await Promise.all(claims.map((claim) => within(CLAIM_TIMEOUT_MS, inDoubt ? claim.hold() : claim.release()).catch(() => undefined)));
  }

  private reportError(outcome: MigrationReport['outcome'], error: FerryError | null, settlement: Settlement): MigrationReport['error'] {
    if (outcome === 'completed') return null;
    const base = error ?? new FerryError('migration-failed', 'The migration stopped');
    if (outcome === 'in-doubt') {
      return {
        code: base.code,
        message: `${base.message}. ${settlement.message}`,
        hint: 'Ferry keeps this migration in its journal and retries it: at its next start, or now with `ferry migration recover` (or Recover in the History view) once both hosts can be reached.',
      };
    }
    return { code: base.code, message: base.message, ...(base.hint ? { hint: base.hint } : {}) };
  }

  private startProbe(): HeartbeatProbe | null {
    const { options, plan } = this.resources;
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
}

function buildReport(
  summary: MigrationSummary,
  context: RunContext,
  samples: MigrationSample[],
  outcome: MigrationReport['outcome'],
  error: MigrationReport['error'],
  maxGap: number | null,
  foundOn: VmLocation[],
): MigrationReport {
  const finishedAt = Date.now();
  const last = samples[samples.length - 1];
  const disks = reportedDisks(context.disks, last, context.result.diskBytes, context.options.incremental);
  const ramBytes = context.result.ramBytes || last?.ram.transferredBytes || 0;
  const totalTimeMs = finishedAt - context.startedAt;
  const moved = ramBytes + disks.reduce((sum, disk) => sum + disk.bytes, 0);
  const { options } = context;
  return {
    id: summary.id,
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
    error,
    foundOn,
  };
}
