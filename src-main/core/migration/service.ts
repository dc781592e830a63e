import { randomUUID } from 'node:crypto';
import type { ChannelArgs, ChannelOutput, EngineEventName, EngineEvents } from '../api/contract.js';
import type { MigrationRecord, MigrationReport, MigrationSummary, PreflightReport, VmLocation } from '../api/types.js';
import { FerryError } from '../errors.js';
import { ferryHomeLayout } from '../paths.js';
import { migrationsRunningElsewhere, runningRecord } from './control-client.js';
import { ControlSockets } from './control-socket.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import { startVm, vmDetails } from '../vm/lifecycle.js';
import { livePids } from '../vm/state.js';
import { destinationDefinition } from './destination.js';
import { History, recordToCsv } from './history.js';
import { Journal, type JournalEntry } from './journal.js';
import { currentOwner, OwnerLock } from './owner-lock.js';
import { planMigration } from './plan.js';
import { predictForPlan } from './predict-measure.js';
import { availableModes, runPreflight, startEarlyChecks, type EarlyChecks } from './preflight.js';
import { settleEntry } from './recovery.js';
import { MigrationRun } from './run.js';
import type { UndoContext } from './undo.js';
import { releaseClaim, VmClaim } from './vm-claim.js';
import { within } from './within.js';
import { libvirtModes, libvirtPreflight, type HypervisorKind } from '../libvirt/migration-preflight.js';
import { LibvirtMigrationRun } from '../libvirt/migration-run.js';

/** A host that has not answered where the VM is within this long is reported unreachable. */
const LOCATE_TIMEOUT_MS = 15_000;

export interface MigrationDependencies {
  home: string;
  transport(host: string): Promise<HostTransport>;
  /** The address other hosts reach this host at (its SSH address, resolved). */
  hostAddress(host: string): Promise<string>;
  publish<E extends EngineEventName>(name: E, payload: EngineEvents[E]): void;
  /** Which kind of host this is; absent: every host is Ferry-managed. libvirt domains are migrated by libvirt. */
  hypervisor?(host: string): Promise<HypervisorKind>;
}

/**
 * The registry of migrations: starts each as a MigrationRun, finds running and past ones, and
 * settles journal entries whose process is gone. Read-only calls never settle anything.
 */
export class MigrationService {
  private readonly runs = new Map<string, MigrationRun | LibvirtMigrationRun>();
  /** "host/vm" → migration id, claimed synchronously before any await so two starts cannot race. */
  private readonly claimed = new Map<string, string>();
  private readonly journal: Journal;
  private readonly history: History;
  private recovering: Promise<MigrationSummary[]> | undefined;
  private readonly controlSockets: ControlSockets;
  /** What each run is given: its events also go to its control socket, for watchers in other processes. */
  private readonly runDeps: MigrationDependencies;

  constructor(private readonly deps: MigrationDependencies) {
    this.controlSockets = new ControlSockets(deps.home);
    this.runDeps = {
      home: deps.home,
      transport: (host) => deps.transport(host),
      hostAddress: (host) => deps.hostAddress(host),
      publish: (name, payload) => {
        deps.publish(name, payload);
        this.controlSockets.publish(name, payload);
      },
      ...(deps.hypervisor ? { hypervisor: deps.hypervisor } : {}),
    };
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
      isVmRunning: async (host, vm) => (await livePids(await this.deps.transport(host), [vm])).has(vm),
    };
  }

  /** Whether a migration of this process holds the VM on this host (so holds its monitor too). */
  isMigrating(host: string, vm: string): boolean {
    return this.claimed.has(`${host}/${vm}`);
  }

  private busyWith(vm: string, from: string): string | undefined {
    return this.claimed.get(`${from}/${vm}`);
  }

  async modes(args: ChannelArgs<'migrations.modes'>): Promise<ChannelOutput<'migrations.modes'>> {
    if ((await this.hostKinds(args)).source === 'libvirt') return libvirtModes();
    const plan = await planMigration(this.deps, args);
    return availableModes(plan.sourceState, plan.disks);
  }

  /**
   * Pre-flight as the Migrate dialog and `ferry migrate --check` ask for it, with a prediction of
   * the move. Starting a migration runs the same checks without the prediction: measuring the
   * dirty rate takes a second the user already spent in the dialog.
   */
  async check(args: ChannelArgs<'migrations.check'>): Promise<PreflightReport> {
    const kinds = await this.hostKinds(args);
    if (kinds.source === 'libvirt' || kinds.destination === 'libvirt') {
      const [source, destination] = await Promise.all([this.deps.transport(args.from), this.deps.transport(args.to)]);
      return { ...(await libvirtPreflight({ options: args, kinds, source, destination })), prediction: null };
    }
    const early = await this.earlyChecks(args);
    const plan = await planMigration(this.deps, args);
    const [report, prediction] = await Promise.all([
      runPreflight({ ...plan, options: args, busyWith: this.busyWith(args.vm, args.from) }, early),
      predictForPlan(plan, args, this.history).catch(() => null),
    ]);
    return { ...report, prediction };
  }

  private async earlyChecks(options: ChannelArgs<'migrations.check'>): Promise<EarlyChecks> {
    const [source, destination, destinationAddress] = await Promise.all([this.deps.transport(options.from), this.deps.transport(options.to), options.address ?? this.deps.hostAddress(options.to)]);
    return startEarlyChecks({ options, source, destination, destinationAddress });
  }

  /** Each end's host kind; a pair with a libvirt host goes to libvirt's own migration (or is refused when mixed). */
  private async hostKinds(args: { from: string; to: string }): Promise<{ source: HypervisorKind; destination: HypervisorKind }> {
    const kind = (host: string) => this.deps.hypervisor?.(host) ?? Promise.resolve<HypervisorKind>('ferry');
    const [source, destination] = await Promise.all([kind(args.from), kind(args.to)]);
    return { source, destination };
  }

  /**
   * A libvirt domain: pre-flight, then a LibvirtMigrationRun that leaves the move to the source's
   * libvirtd. No journal entry or claim file on the hosts: libvirt holds the domain's job itself
   * and refuses a second migration of it.
   */
  private async startLibvirt(options: ChannelArgs<'migrations.start'>, kinds: { source: HypervisorKind; destination: HypervisorKind }, startedAt: number, id: string, keys: string[]): Promise<MigrationSummary> {
    const [source, destination, destinationAddress] = await Promise.all([this.deps.transport(options.from), this.deps.transport(options.to), options.address ?? this.deps.hostAddress(options.to)]);
    const report = await libvirtPreflight({ options, kinds, source, destination });
    if (!report.ok) {
      const errors = report.items.filter((item) => item.level === 'error');
      throw new FerryError('preflight-failed', `Pre-flight found ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${errors.map((item) => item.message).join(' ')}`, {
        hint: errors.map((item) => item.hint).filter(Boolean).join(' ') || 'Fix the problems listed and try again.',
        details: { items: report.items },
      });
    }
    const run = new LibvirtMigrationRun({ publish: this.runDeps.publish, history: this.history }, { id, options, startedAt, source, destination, destinationAddress });
    return this.track(run, keys);
  }

  /**
   * A started run (Ferry's or libvirt's) is listed, served on its control socket before start()
   * returns (so the ID the user is shown can be watched at once; a migration whose socket could not
   * be made still runs, only other processes lose sight of it), and releases its claims when done.
   */
  private async track(run: MigrationRun | LibvirtMigrationRun, keys: readonly string[]): Promise<MigrationSummary> {
    const { id } = run;
    this.runs.set(id, run);
    const serving = this.controlSockets.serve(id, { record: () => run.record(), cancel: () => this.cancel({ id }), tune: (settings) => this.tune({ ...settings, id }) }).catch(() => undefined);
    void run.done.finally(async () => {
      for (const key of keys) if (this.claimed.get(key) === id) this.claimed.delete(key);
      await serving;
      await this.controlSockets.close(id);
    });
    await serving;
    this.deps.publish('migration-update', { ...run.summary });
    return { ...run.summary };
  }

  async start(options: ChannelArgs<'migrations.start'>): Promise<MigrationSummary> {
    // The user's wait starts now: planning and pre-flight count in the total time.
    const startedAt = Date.now();
    const id = randomUUID();
    const keys = [`${options.from}/${options.vm}`, `${options.to}/${options.vm}`];
    const holder = keys.map((key) => this.claimed.get(key)).find((found) => found !== undefined);
    if (holder !== undefined) {
      throw new FerryError('busy', `VM "${options.vm}" is already being migrated (migration ${holder})`, { hint: `Wait for it to end, or cancel it: \`ferry migration list\` shows it.` });
    }
    for (const key of keys) this.claimed.set(key, id);
    const kinds = await this.hostKinds(options).catch((error: unknown) => {
      for (const key of keys) if (this.claimed.get(key) === id) this.claimed.delete(key);
      throw error;
    });
    if (kinds.source === 'libvirt' || kinds.destination === 'libvirt') {
      try {
        return await this.startLibvirt(options, kinds, startedAt, id, keys);
      } catch (error) {
        for (const key of keys) if (this.claimed.get(key) === id) this.claimed.delete(key);
        throw error;
      }
    }
    let ownerLock: OwnerLock | null = null;
    const claims: VmClaim[] = [];
    try {
      // Migrations a Ferry that died left behind may hold this VM; settle them before judging it.
      // (Those that ended in doubt wait for an explicit recover or the next launch.)
      await this.recoverOrphans();
      const [source, destination] = await Promise.all([this.deps.transport(options.from), this.deps.transport(options.to)]);
      const owner = currentOwner();
      // Claimed before anything is read, so what pre-flight sees cannot change under another Ferry.
      // Both at once: a claim never waits for a holder (it fails at once), so the order cannot
      // deadlock two Ferrys, and one that was won is given back by the catch below.
      const claimed = await Promise.allSettled([
        VmClaim.acquire(source, options.from, options.vm, id, owner),
        VmClaim.acquire(destination, options.to, options.vm, id, owner),
      ]);
      for (const outcome of claimed) if (outcome.status === 'fulfilled') claims.push(outcome.value);
      const refused = claimed.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (refused !== undefined) throw refused.reason;
      const early = await this.earlyChecks(options);
      const plan = await planMigration(this.deps, options);
      const report = await runPreflight({ ...plan, options, busyWith: undefined }, early);
      if (!report.ok) {
        const errors = report.items.filter((item) => item.level === 'error');
        throw new FerryError('preflight-failed', `Pre-flight found ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${errors.map((item) => item.message).join(' ')}`, {
          hint: errors.map((item) => item.hint).filter(Boolean).join(' ') || 'Fix the problems listed and try again.',
          details: { items: report.items },
        });
      }
      ownerLock = await OwnerLock.tryAcquire(this.journal.lockFile(id));
      if (!ownerLock) throw new FerryError('internal', `The journal lock of migration ${id} is taken`);
      const entry: JournalEntry = {
        id,
        vm: options.vm,
        from: options.from,
        to: options.to,
        mode: options.mode,
        startedAt: new Date(startedAt).toISOString(),
        state: 'running',
        doubt: null,
        owner,
        sourceQmpSocket: plan.sourceState === 'shutoff' ? null : plan.sourceSocket,
        destinationQmpSocket: vmLayout(options.vm).qmpSocket,
        destinationAddress: plan.destinationAddress,
        undo: [],
        options: { ...options },
        destinationDefinition: destinationDefinition(plan.definition, plan.disks),
      };
      await this.journal.write(entry);
      const run = new MigrationRun(this.runDeps, {
        entry, plan, options, startedAt, journal: this.journal, history: this.history, ownerLock, claims, undoContext: this.undoContext(),
        locate: () => this.locate(options.vm, [options.from, options.to]),
      });
      return await this.track(run, keys);
    } catch (error) {
      for (const key of keys) if (this.claimed.get(key) === id) this.claimed.delete(key);
      for (const claim of claims) await claim.release().catch(() => undefined);
      await ownerLock?.release();
      throw error;
    }
  }

  /** Where the VM's QEMU runs, host by host, as the hosts say. */
  private async locate(vm: string, hosts: string[]): Promise<VmLocation[]> {
    return Promise.all(
      hosts.map(async (host): Promise<VmLocation> => {
        try {
          const details = await within(LOCATE_TIMEOUT_MS, (async () => vmDetails({ name: host, transport: await this.deps.transport(host) }, vm))());
          return { host, state: details.pid === undefined ? 'absent' : details.state };
        } catch (error) {
          return { host, state: error instanceof FerryError && error.code === 'not-found' ? 'absent' : 'unreachable' };
        }
      }),
    );
  }

  /** Resolves when the migration has ended (successfully or not); for the CLI and tests. */
  async settled(id: string): Promise<MigrationRecord> {
    await this.runs.get(id)?.done;
    return this.history.get(id);
  }

  /**
   * Settles every journal entry whose owner is gone (that process died, or the entry was left in
   * doubt), each under its own lock so two processes never settle one entry twice. Entries of
   * live processes are left alone.
   */
  recoverNow(): Promise<MigrationSummary[]> {
    this.recovering ??= this.recoverOnce(true).finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /** Only entries whose Ferry died mid-way; one in doubt was already tried and said so. */
  private async recoverOrphans(): Promise<void> {
    if (this.recovering) await this.recovering.catch(() => undefined);
    await this.recoverOnce(false);
  }

  private async recoverOnce(includeInDoubt: boolean): Promise<MigrationSummary[]> {
    const settled: MigrationSummary[] = [];
    for (const entry of await this.journal.list()) {
      if (this.runs.get(entry.id)?.ended === false) continue;
      if (entry.doubt !== null && !includeInDoubt) continue;
      const lock = await OwnerLock.tryAcquire(this.journal.lockFile(entry.id));
      if (!lock) continue;
      try {
        // Read again under the lock: another process may have settled it since the listing, and
        // undoing a settled migration again could stop a newer migration of the same VM.
        const current = await this.journal.read(entry.id);
        if (current === null) await this.journal.remove(entry.id);
        else settled.push(await this.settleOrphan(current));
      } finally {
        await lock.release();
      }
    }
    return settled;
  }

  private async settleOrphan(entry: JournalEntry): Promise<MigrationSummary> {
    const settlement = await settleEntry(entry, this.deps.transport, this.undoContext());
    const outcome: MigrationReport['outcome'] = settlement.outcome === 'completed' ? 'completed' : settlement.outcome === 'in-doubt' ? 'in-doubt' : 'failed';
    const previous = entry.doubt;
    if (settlement.outcome === 'in-doubt' || settlement.remaining.length > 0) {
      entry.undo = settlement.remaining;
      entry.doubt = settlement.message;
      await this.journal.write(entry);
    } else {
      await this.journal.remove(entry.id);
      for (const host of [entry.from, entry.to]) {
        const transport = await this.deps.transport(host).catch(() => null);
        if (transport) await releaseClaim(transport, entry.vm, entry.id).catch(() => undefined);
      }
    }
    const why = previous === null ? 'Ferry stopped during this migration.' : `It had ended in doubt: ${previous}`;
    const report: MigrationReport = {
      id: entry.id, vm: entry.vm, from: entry.from, to: entry.to, mode: entry.mode, outcome, startedAt: entry.startedAt, finishedAt: new Date().toISOString(),
      totalTimeMs: Date.now() - Date.parse(entry.startedAt), setupTimeMs: null, downtimeMs: null, maxHeartbeatGapMs: null, ramBytes: 0, disks: [],
      averageThroughputBps: 0, options: entry.options,
      error: outcome === 'completed' ? null : { code: 'migration-failed', message: `${why} ${settlement.message}`, ...(outcome === 'in-doubt' ? { hint: 'Run `ferry migration recover` again once both hosts can be reached.' } : {}) },
      foundOn: await this.locate(entry.vm, [entry.from, entry.to]),
    };
    // A recovered migration keeps the samples recorded while it ran, if any.
    const earlier = await this.history.get(entry.id).catch(() => null);
    const summary: MigrationSummary = { id: entry.id, vm: entry.vm, from: entry.from, to: entry.to, mode: entry.mode, phase: outcome, startedAt: entry.startedAt, committed: entry.state === 'committed', report };
    await this.history.save({ ...summary, samples: earlier?.samples ?? [] });
    this.deps.publish('migration-update', summary);
    return summary;
  }

  async cancel({ id }: ChannelArgs<'migrations.cancel'>): Promise<MigrationSummary> {
    const run = this.runs.get(id);
    if (!run || run.ended) {
      const record = run?.summary ?? (await this.history.get(id));
      throw new FerryError('invalid-input', `Migration ${id} has already ended (${record.report?.outcome ?? record.phase})`, { hint: 'Only a running migration can be cancelled.' });
    }
    run.cancel();
    return { ...run.summary };
  }

  async tune(args: ChannelArgs<'migrations.tune'>): Promise<MigrationSummary> {
    const run = this.runs.get(args.id);
    if (!run || run.ended) throw new FerryError('invalid-input', `Migration ${args.id} is not running`, { hint: 'Live controls apply only while a migration runs.' });
    await run.tune(args);
    return { ...run.summary };
  }

  /** Running here, running in another Ferry process of this user (asked over its control socket), then the recorded ones. */
  async list(): Promise<MigrationSummary[]> {
    const active = [...this.runs.values()].filter((run) => !run.ended).map((run) => ({ ...run.summary }));
    const [records, elsewhere] = await Promise.all([this.history.list(), migrationsRunningElsewhere(this.deps.home, new Set(this.runs.keys()))]);
    const running = [...active, ...elsewhere.map(({ samples: _samples, ...summary }): MigrationSummary => ({ ...summary, elsewhere: true }))];
    const activeIds = new Set(running.map((summary) => summary.id));
    return [...running, ...records.filter((record) => !activeIds.has(record.id)).map(({ samples: _samples, ...summary }) => ({ ...summary, committed: summary.committed ?? false }))];
  }

  async get({ id }: ChannelArgs<'migrations.get'>): Promise<MigrationRecord> {
    const run = this.runs.get(id);
    if (run && !run.ended) return run.record();
    if (!run) {
      const elsewhere = await runningRecord(this.deps.home, id);
      if (elsewhere !== undefined && elsewhere.report === null) return { ...elsewhere, elsewhere: true };
    }
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
