import { randomUUID } from 'node:crypto';
import { migrationInput, type ChannelArgs } from '../api/contract.js';
import type { EvacuationSummary, EvacuationVm, MigrationMode, MigrationRecord, MigrationSummary, ModeAvailability, VmSummary } from '../api/types.js';
import { FerryError, isFerryError, toFerryError } from '../errors.js';

/** The part of MigrationService an evacuation drives. */
export interface EvacuationMigrations {
  modes(args: { vm: string; from: string; to: string }): Promise<ModeAvailability[]>;
  start(options: ChannelArgs<'migrations.start'>): Promise<MigrationSummary>;
  settled(id: string): Promise<MigrationRecord>;
  cancel(args: { id: string }): Promise<MigrationSummary>;
}

export interface EvacuationDependencies {
  migrations: EvacuationMigrations;
  /** The VMs on a host; only the named ones when `only` is given (failing for a name not there). */
  listVms(host: string, only: string[] | undefined): Promise<VmSummary[]>;
  /** Fails (with the engine's own error) when the host is unknown or cannot be reached. */
  connect(host: string): Promise<unknown>;
  publish(summary: EvacuationSummary): void;
}

export type EvacuationArgs = ChannelArgs<'hosts.evacuate'>;

/** Modes are read from both hosts per VM (each spawns QEMU on them); this many at a time. */
const MODE_LOOKUPS_AT_ONCE = 4;

/** A VM with a QEMU process: paused ones count, since evacuating must leave no QEMU behind. */
const hasProcess = (vm: VmSummary) => vm.state === 'running' || vm.state === 'paused';

/** Each migration gets the contract's defaults, plus the transport and bandwidth the evacuation was given. */
function migrationOptions(args: EvacuationArgs, vm: string, mode: MigrationMode): ChannelArgs<'migrations.start'> {
  return migrationInput.parse({
    vm,
    from: args.host,
    to: args.to,
    mode,
    ...(args.transport !== undefined ? { transport: args.transport } : {}),
    ...(args.bandwidthMiBps !== undefined ? { bandwidthMiBps: args.bandwidthMiBps } : {}),
  });
}

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One evacuation: migrates its VMs `parallel` at a time in the order listed. Cancel starts no
 * further migration and cancels the running ones; those past their commit point finish forwards
 * and say so. Every VM ends in one state the hosts confirmed (each migration reports where it is).
 */
export class Evacuation {
  readonly summary: EvacuationSummary;
  readonly done: Promise<EvacuationSummary>;
  private cancelRequested = false;
  /** Running VMs skipped because no mode could be chosen for them: the host is not empty afterwards. */
  private readonly leftBehind = new Set<string>();

  constructor(
    private readonly deps: EvacuationDependencies,
    private readonly args: EvacuationArgs,
    vms: EvacuationVm[],
    leftBehind: string[],
  ) {
    for (const vm of leftBehind) this.leftBehind.add(vm);
    this.summary = { id: randomUUID(), host: args.host, to: args.to, parallel: args.parallel, startedAt: new Date().toISOString(), finishedAt: null, state: 'running', vms };
    this.done = this.execute();
  }

  get ended(): boolean {
    return this.summary.finishedAt !== null;
  }

  snapshot(): EvacuationSummary {
    return { ...this.summary, vms: this.summary.vms.map((vm) => ({ ...vm })) };
  }

  private publish(): void {
    try {
      this.deps.publish(this.snapshot());
    } catch {
      // A front end whose listener fails must not stop an evacuation half-way.
    }
  }

  private async execute(): Promise<EvacuationSummary> {
    const toMove = this.summary.vms.filter((vm) => vm.state === 'waiting');
    this.publish();
    await eachLimited(toMove, this.args.parallel, (vm) => this.move(vm));
    this.summary.finishedAt = new Date().toISOString();
    this.summary.state = this.finalState();
    this.publish();
    return this.snapshot();
  }

  private finalState(): EvacuationSummary['state'] {
    const states = this.summary.vms.map((vm) => vm.state);
    if (states.some((state) => state === 'failed' || state === 'in-doubt')) return 'failed';
    if (states.some((state) => state === 'cancelled')) return 'cancelled';
    return this.leftBehind.size > 0 ? 'failed' : 'completed';
  }

  private async move(vm: EvacuationVm): Promise<void> {
    if (this.cancelRequested || vm.mode === null) {
      // cancel() has already marked it; a worker reaching it afterwards only passes it by.
      return;
    }
    vm.state = 'migrating';
    this.publish();
    let started: MigrationSummary;
    try {
      started = await this.deps.migrations.start(migrationOptions(this.args, vm.vm, vm.mode));
    } catch (error) {
      vm.state = 'failed';
      vm.message = describeError(error);
      this.publish();
      return;
    }
    vm.migrationId = started.id;
    this.publish();
    // A cancel that came while this migration was being set up applies to it too.
    if (this.cancelRequested) await this.cancelMigration(vm);
    let record: MigrationRecord;
    try {
      record = await this.deps.migrations.settled(started.id);
    } catch (error) {
      record = { ...started, samples: [], report: null };
      vm.message = describeError(error);
    }
    const report = record.report;
    if (!report) {
      vm.state = 'in-doubt';
      vm.message = `Its migration left no report${vm.message ? ` (${vm.message})` : ''}: \`ferry migration show ${started.id}\` may say more.`;
      this.publish();
      return;
    }
    vm.state = report.outcome;
    vm.foundOn = report.foundOn;
    vm.totalTimeMs = report.totalTimeMs;
    if (report.error) vm.message = report.error.message;
    else if (vm.pastCommitPoint) vm.message = `Past its commit point when the evacuation was cancelled: it finished on ${this.args.to}.`;
    this.publish();
  }

  private async cancelMigration(vm: EvacuationVm): Promise<void> {
    if (vm.migrationId === null) return;
    try {
      await this.deps.migrations.cancel({ id: vm.migrationId });
    } catch (error) {
      if (isFerryError(error, 'busy')) {
        vm.pastCommitPoint = true;
        vm.message = `Could not be cancelled: past its commit point, it finishes on ${this.args.to}.`;
      }
      // Anything else means it has already ended; its report will say how.
    }
  }

  /** Starts no further migrations and cancels the running ones; returns once each has been asked. */
  async cancel(): Promise<EvacuationSummary> {
    if (this.ended) {
      throw new FerryError('invalid-input', `Evacuation ${this.summary.id} of ${this.summary.host} has already ended (${this.summary.state})`, { hint: 'Only a running evacuation can be cancelled.' });
    }
    this.cancelRequested = true;
    for (const vm of this.summary.vms) {
      if (vm.state === 'waiting') {
        vm.state = 'cancelled';
        vm.message = 'Not started: the evacuation was cancelled.';
      }
    }
    await Promise.all(this.summary.vms.filter((vm) => vm.state === 'migrating').map((vm) => this.cancelMigration(vm)));
    this.publish();
    return this.snapshot();
  }
}

function describeError(error: unknown): string {
  const ferry = toFerryError(error);
  return ferry.hint ? `${ferry.message}. ${ferry.hint}` : ferry.message;
}

/** The registry of evacuations in this process; none is persisted (each migration keeps its own history and journal). */
export class EvacuationService {
  private readonly evacuations = new Map<string, Evacuation>();

  constructor(private readonly deps: EvacuationDependencies) {}

  async start(args: EvacuationArgs): Promise<EvacuationSummary> {
    if (args.host === args.to) throw new FerryError('invalid-input', `Cannot evacuate ${args.host} onto itself`, { hint: 'Give another host with --to.' });
    const running = [...this.evacuations.values()].find((evacuation) => !evacuation.ended && evacuation.summary.host === args.host);
    if (running) throw new FerryError('busy', `${args.host} is already being evacuated (evacuation ${running.summary.id})`, { hint: 'Wait for it to end, or cancel it.' });
    await this.deps.connect(args.to);
    const chosen = args.vms === undefined ? null : [...new Set(args.vms)];
    const notChosen = Object.keys(args.modes).filter((name) => chosen !== null && !chosen.includes(name));
    if (notChosen.length > 0) throw new FerryError('invalid-input', `A mode was given for ${notChosen.join(', ')}, which ${notChosen.length === 1 ? 'is' : 'are'} not among the VMs to move`, { hint: 'Add them to the VMs to move, or leave out their modes.' });
    // Given names are looked up one by one, so other VMs on the host (coming and going) do not matter.
    const vms = await this.deps.listVms(args.host, chosen ?? undefined);
    const names = new Set(vms.map((vm) => vm.name));
    const unknown = Object.keys(args.modes).filter((name) => !names.has(name));
    if (unknown.length > 0) {
      throw new FerryError('invalid-input', `No VM ${unknown.map((name) => `"${name}"`).join(', ')} on ${args.host}`, { hint: `\`ferry vm list ${args.host}\` shows the VMs there.` });
    }
    const planned = new Map<string, { entry: EvacuationVm; leftBehind: boolean }>();
    await eachLimited(vms, MODE_LOOKUPS_AT_ONCE, async (vm) => {
      planned.set(vm.name, await this.planVm(args, vm));
    });
    const entries = vms.map((vm) => planned.get(vm.name)!);
    const evacuation = new Evacuation(
      this.deps,
      args,
      entries.map((planEntry) => planEntry.entry),
      entries.filter((planEntry) => planEntry.leftBehind).map((planEntry) => planEntry.entry.vm),
    );
    this.evacuations.set(evacuation.summary.id, evacuation);
    return evacuation.snapshot();
  }

  /** The mode a VM moves in (the override, else the recommended one), or why it is skipped. */
  private async planVm(args: EvacuationArgs, vm: VmSummary): Promise<{ entry: EvacuationVm; leftBehind: boolean }> {
    const override = args.modes[vm.name];
    const skip = (message: string, leftBehind: boolean) => ({ entry: { vm: vm.name, mode: null, migrationId: null, state: 'skipped' as const, message }, leftBehind });
    if (!hasProcess(vm)) {
      if (override !== undefined) throw new FerryError('invalid-input', `${vm.name} is not running (${vm.state}), so it is not moved`, { hint: `Leave out its mode, or start it first.` });
      return skip(vm.problem ? `Not running, and its definition is damaged: ${vm.problem}` : `Not running (${vm.state}): only running VMs are moved.`, false);
    }
    let modes: ModeAvailability[];
    try {
      modes = await this.deps.migrations.modes({ vm: vm.name, from: args.host, to: args.to });
    } catch (error) {
      return skip(`No mode could be chosen: ${describeError(error)}`, true);
    }
    if (override !== undefined) {
      const chosen = modes.find((mode) => mode.mode === override);
      if (!chosen?.possible) throw new FerryError('invalid-input', `${override} migration is not possible for ${vm.name}: ${chosen?.reason ?? 'unknown mode'}`, { hint: 'Choose another mode for it, or leave it out to use the recommended one.' });
      return { entry: { vm: vm.name, mode: override, migrationId: null, state: 'waiting' }, leftBehind: false };
    }
    const recommended = modes.find((mode) => mode.recommended && mode.possible) ?? modes.find((mode) => mode.possible);
    if (!recommended) return skip(`No migration mode is possible: ${modes.map((mode) => `${mode.mode}: ${mode.reason}`).join(' ')}`, true);
    return { entry: { vm: vm.name, mode: recommended.mode, migrationId: null, state: 'waiting' }, leftBehind: false };
  }

  private find(id: string): Evacuation {
    const evacuation = this.evacuations.get(id);
    if (!evacuation) throw new FerryError('not-found', `There is no evacuation ${id}`, { hint: 'Evacuations are kept only while Ferry runs; each migration stays in `ferry migration list`.' });
    return evacuation;
  }

  get(id: string): EvacuationSummary {
    return this.find(id).snapshot();
  }

  /** Resolves with the final summary once every VM's migration has ended; for the CLI and tests. */
  settled(id: string): Promise<EvacuationSummary> {
    return this.find(id).done;
  }

  cancel(id: string): Promise<EvacuationSummary> {
    return this.find(id).cancel();
  }

  list(): EvacuationSummary[] {
    return [...this.evacuations.values()].map((evacuation) => evacuation.snapshot());
  }
}
