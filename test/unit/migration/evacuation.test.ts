import { describe, expect, it } from 'vitest';
import type { ChannelArgs } from '../../../src-main/core/api/contract.js';
import { evacuationInput } from '../../../src-main/core/api/contract.js';
import type { EvacuationSummary, MigrationRecord, MigrationReport, MigrationSummary, ModeAvailability, VmSummary } from '../../../src-main/core/api/types.js';
import { FerryError } from '../../../src-main/core/errors.js';
import { EvacuationService, type EvacuationMigrations } from '../../../src-main/core/migration/evacuation.js';

type Outcome = MigrationReport['outcome'];

interface FakeRun {
  summary: MigrationSummary;
  finish(outcome: Outcome, error?: string): void;
}

/**
 * The layer below an evacuation, played in memory: each start() is a migration that ends only when
 * the test (or a cancel) finishes it. It counts how many run at once.
 */
class FakeMigrations implements EvacuationMigrations {
  readonly runs = new Map<string, FakeRun>();
  readonly started: ChannelArgs<'migrations.start'>[] = [];
  readonly committed = new Set<string>();
  readonly failStart = new Map<string, FerryError>();
  /** Set to hold start() open until released (a migration still being set up). */
  holdStart: Promise<void> | null = null;
  active = 0;
  maxActive = 0;
  private readonly settledBy = new Map<string, Promise<MigrationRecord>>();
  private nextId = 1;

  constructor(private readonly modesByVm: Record<string, ModeAvailability[]>) {}

  async modes({ vm }: { vm: string }): Promise<ModeAvailability[]> {
    const modes = this.modesByVm[vm];
    if (!modes) throw new FerryError('not-found', `no plan for ${vm}`);
    return modes;
  }

  async start(options: ChannelArgs<'migrations.start'>): Promise<MigrationSummary> {
    this.started.push(options);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    if (this.holdStart) await this.holdStart;
    const failure = this.failStart.get(options.vm);
    if (failure) {
      this.active -= 1;
      throw failure;
    }
    const id = `m${this.nextId++}`;
    const summary: MigrationSummary = { id, vm: options.vm, from: options.from, to: options.to, mode: options.mode, phase: 'memory', startedAt: new Date().toISOString(), committed: false, report: null };
    let finish!: FakeRun['finish'];
    this.settledBy.set(
      id,
      new Promise((resolve) => {
        finish = (outcome, error) => {
          if (summary.report) return;
          this.active -= 1;
          const foundOn = [
            { host: options.from, state: outcome === 'completed' ? ('absent' as const) : ('running' as const) },
            { host: options.to, state: outcome === 'completed' ? ('running' as const) : ('absent' as const) },
          ];
          summary.report = {
            id, vm: options.vm, from: options.from, to: options.to, mode: options.mode, outcome, startedAt: summary.startedAt, finishedAt: new Date().toISOString(),
            totalTimeMs: 1234, setupTimeMs: null, downtimeMs: null, maxHeartbeatGapMs: null, ramBytes: 0, disks: [], averageThroughputBps: 0, options: {},
            error: error ? { code: 'migration-failed', message: error } : null, foundOn,
          };
          summary.phase = outcome;
          resolve({ ...summary, samples: [] });
        };
      }),
    );
    this.runs.set(options.vm, { summary, finish });
    return { ...summary };
  }

  settled(id: string): Promise<MigrationRecord> {
    const settled = this.settledBy.get(id);
    if (!settled) throw new Error(`unknown migration ${id}`);
    return settled;
  }

  async cancel({ id }: { id: string }): Promise<MigrationSummary> {
    const run = [...this.runs.values()].find((candidate) => candidate.summary.id === id)!;
    if (this.committed.has(run.summary.vm)) throw new FerryError('busy', `Migration ${id} can no longer be cancelled`);
    // Cancelling takes a moment (the destination is cleaned up), like the real one.
    setTimeout(() => run.finish('cancelled', 'Cancelled'), 5);
    return { ...run.summary };
  }

  finish(vm: string, outcome: Outcome = 'completed', error?: string): void {
    const run = this.runs.get(vm);
    if (!run) throw new Error(`${vm} was never started`);
    run.finish(outcome, error);
  }
}

const live: ModeAvailability[] = [
  { mode: 'live', possible: true, recommended: true, reason: 'shared' },
  { mode: 'block', possible: true, recommended: false, reason: 'copies nothing' },
  { mode: 'offline', possible: true, recommended: false, reason: 'shuts down' },
];
const block: ModeAvailability[] = [
  { mode: 'live', possible: false, recommended: false, reason: 'Not on shared storage: d.qcow2.' },
  { mode: 'block', possible: true, recommended: true, reason: 'copies d.qcow2' },
  { mode: 'offline', possible: true, recommended: false, reason: 'shuts down' },
];

const vm = (name: string, state: VmSummary['state'] = 'running'): VmSummary => ({ name, host: 'a', state, memoryMiB: 128, vcpus: 1, defined: true });

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 500; tries += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function setup(vms: VmSummary[], modes: Record<string, ModeAvailability[]>, options: { failingListener?: boolean } = {}) {
  const migrations = new FakeMigrations(modes);
  const updates: EvacuationSummary[] = [];
  const service = new EvacuationService({
    migrations,
    // Like the engine: named VMs are looked up one by one, and a name not there fails.
    listVms: async (_host, only) =>
      only?.map((name) => {
        const found = vms.find((candidate) => candidate.name === name);
        if (!found) throw new FerryError('not-found', `There is no VM "${name}" on a`);
        return found;
      }) ?? vms,
    connect: async (host) => {
      if (host === 'nowhere') throw new FerryError('not-found', 'There is no host "nowhere"');
    },
    publish: (summary) => {
      updates.push(summary);
      if (options.failingListener) throw new Error('listener failed');
    },
  });
  const start = (input: Record<string, unknown>) => service.start(evacuationInput.parse({ host: 'a', to: 'b', ...input }));
  return { migrations, updates, service, start };
}

const states = (summary: EvacuationSummary) => Object.fromEntries(summary.vms.map((entry) => [entry.vm, entry.state]));

describe('EvacuationService', () => {
  it('never runs more than `parallel` migrations at once, uses the recommended mode and reports each VM', async () => {
    const names = ['v1', 'v2', 'v3', 'v4', 'v5'];
    const { migrations, start, service, updates } = setup(names.map((name) => vm(name)), { v1: live, v2: block, v3: live, v4: block, v5: live });
    const evacuation = await start({ parallel: 2 });
    expect(evacuation.parallel).toBe(2);
    for (const name of names) {
      await until(() => migrations.runs.has(name), `${name} to start`);
      expect(migrations.active).toBeLessThanOrEqual(2);
      migrations.finish(name);
    }
    const final = await service.settled(evacuation.id);
    expect(migrations.maxActive).toBe(2);
    expect(migrations.started.map((options) => [options.vm, options.mode, options.transport])).toEqual([
      ['v1', 'live', 'tls'], ['v2', 'block', 'tls'], ['v3', 'live', 'tls'], ['v4', 'block', 'tls'], ['v5', 'live', 'tls'],
    ]);
    expect(final.state).toBe('completed');
    expect(final.finishedAt).not.toBeNull();
    expect(Object.values(states(final))).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    expect(final.vms[0]?.foundOn).toEqual([{ host: 'a', state: 'absent' }, { host: 'b', state: 'running' }]);
    expect(final.vms[0]?.totalTimeMs).toBe(1234);
    expect(final.vms.every((entry) => entry.migrationId !== null)).toBe(true);
    expect(updates.at(-1)?.state).toBe('completed');
    expect(service.get(evacuation.id)).toEqual(final);
    expect(service.list().map((summary) => summary.id)).toEqual([evacuation.id]);
  });

  it('with parallel 1, runs one at a time in order', async () => {
    const { migrations, start, service } = setup([vm('v1'), vm('v2'), vm('v3')], { v1: live, v2: live, v3: live });
    const evacuation = await start({ parallel: 1, transport: 'tcp', bandwidthMiBps: 50 });
    for (const name of ['v1', 'v2', 'v3']) {
      await until(() => migrations.runs.has(name), `${name} to start`);
      expect(migrations.runs.size).toBe(['v1', 'v2', 'v3'].indexOf(name) + 1);
      migrations.finish(name);
    }
    await service.settled(evacuation.id);
    expect(migrations.maxActive).toBe(1);
    expect(migrations.started.every((options) => options.transport === 'tcp' && options.bandwidthMiBps === 50)).toBe(true);
  });

  it('cancel starts no new migration, cancels the running one and leaves the finished one', async () => {
    const { migrations, start, service } = setup([vm('v1'), vm('v2'), vm('v3'), vm('v4')], { v1: live, v2: live, v3: block, v4: live });
    const evacuation = await start({ parallel: 1 });
    await until(() => migrations.runs.has('v1'), 'v1 to start');
    migrations.finish('v1');
    await until(() => migrations.runs.has('v2'), 'v2 to start');
    const afterCancel = await service.cancel(evacuation.id);
    expect(states(afterCancel)).toEqual({ v1: 'completed', v2: 'migrating', v3: 'cancelled', v4: 'cancelled' });
    const final = await service.settled(evacuation.id);
    expect(migrations.started.map((options) => options.vm)).toEqual(['v1', 'v2']);
    expect(states(final)).toEqual({ v1: 'completed', v2: 'cancelled', v3: 'cancelled', v4: 'cancelled' });
    expect(final.vms[2]?.message).toMatch(/not started/i);
    expect(final.vms[1]?.foundOn).toEqual([{ host: 'a', state: 'running' }, { host: 'b', state: 'absent' }]);
    expect(final.state).toBe('cancelled');
    await expect(service.cancel(evacuation.id)).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('a migration past its commit point finishes forwards when cancelled, and says so', async () => {
    const { migrations, start, service } = setup([vm('v1'), vm('v2'), vm('v3')], { v1: live, v2: block, v3: live });
    const evacuation = await start({ parallel: 2 });
    await until(() => migrations.runs.has('v1') && migrations.runs.has('v2'), 'two to start');
    migrations.committed.add('v1');
    const afterCancel = await service.cancel(evacuation.id);
    expect(afterCancel.vms[0]).toMatchObject({ vm: 'v1', state: 'migrating', pastCommitPoint: true });
    expect(afterCancel.vms[0]?.message).toMatch(/commit point/);
    expect(afterCancel.vms[1]?.pastCommitPoint).toBeUndefined();
    migrations.finish('v1');
    const final = await service.settled(evacuation.id);
    expect(states(final)).toEqual({ v1: 'completed', v2: 'cancelled', v3: 'cancelled' });
    expect(final.vms[0]?.message).toMatch(/finished on b/);
    expect(final.state).toBe('cancelled');
  });

  it('a cancel while a migration is still being set up cancels it once it has started', async () => {
    const { migrations, start, service } = setup([vm('v1'), vm('v2')], { v1: live, v2: live });
    let release!: () => void;
    migrations.holdStart = new Promise((resolve) => (release = resolve));
    const evacuation = await start({ parallel: 1 });
    await until(() => migrations.started.length === 1, 'v1 to be starting');
    await service.cancel(evacuation.id);
    release();
    const final = await service.settled(evacuation.id);
    expect(states(final)).toEqual({ v1: 'cancelled', v2: 'cancelled' });
    expect(migrations.started).toHaveLength(1);
  });

  it('skips VMs that are not running or have no mode, honours overrides, and fails when a running VM is not moved', async () => {
    const { migrations, start, service } = setup([vm('up'), vm('off', 'shutoff'), vm('local'), vm('lost'), vm('broken')], { up: live, local: block, broken: live });
    migrations.failStart.set('broken', new FerryError('preflight-failed', 'Pre-flight found 1 problem: no memory', { hint: 'Free memory.' }));
    const evacuation = await start({ parallel: 3, modes: { local: 'offline' } });
    expect(states(evacuation)).toMatchObject({ off: 'skipped', lost: 'skipped' });
    expect(evacuation.vms.find((entry) => entry.vm === 'off')?.message).toMatch(/not running \(shutoff\)/i);
    expect(evacuation.vms.find((entry) => entry.vm === 'lost')?.message).toMatch(/no plan for lost/);
    await until(() => migrations.runs.has('up') && migrations.runs.has('local'), 'both to start');
    expect(migrations.started.find((options) => options.vm === 'local')?.mode).toBe('offline');
    migrations.finish('up');
    migrations.finish('local', 'in-doubt', 'host b out of reach');
    const final = await service.settled(evacuation.id);
    expect(states(final)).toEqual({ up: 'completed', off: 'skipped', local: 'in-doubt', lost: 'skipped', broken: 'failed' });
    expect(final.vms.find((entry) => entry.vm === 'broken')?.message).toBe('Pre-flight found 1 problem: no memory. Free memory.');
    expect(final.vms.find((entry) => entry.vm === 'local')?.message).toBe('host b out of reach');
    expect(final.state).toBe('failed');
  });

  it('moves only the VMs it was given, in the order given', async () => {
    const { migrations, start, service } = setup([vm('v1'), vm('v2'), vm('v3')], { v1: live, v2: live, v3: block });
    const evacuation = await start({ vms: ['v3', 'v1'], modes: { v3: 'offline' } });
    expect(evacuation.vms.map((entry) => entry.vm)).toEqual(['v3', 'v1']);
    await until(() => migrations.runs.has('v1') && migrations.runs.has('v3'), 'both to start');
    migrations.finish('v1');
    migrations.finish('v3');
    expect((await service.settled(evacuation.id)).state).toBe('completed');
    expect(migrations.started.map((options) => [options.vm, options.mode])).toEqual([['v3', 'offline'], ['v1', 'live']]);
    await expect(start({ vms: ['v1', 'ghost'] })).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/no VM "ghost" on a/) });
    await expect(start({ vms: ['v1'], modes: { v2: 'live' } })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/v2, which is not among the VMs to move/) });
  });

  it('a front end whose listener throws does not stop the evacuation', async () => {
    const { migrations, start, service, updates } = setup([vm('v1')], { v1: live }, { failingListener: true });
    const evacuation = await start({});
    await until(() => migrations.runs.has('v1'), 'v1 to start');
    migrations.finish('v1');
    expect((await service.settled(evacuation.id)).state).toBe('completed');
    expect(updates.at(-1)?.state).toBe('completed');
  });

  it('an evacuation whose only failure is a running VM without a mode is failed', async () => {
    const { start, service } = setup([vm('lost')], {});
    const evacuation = await start({});
    expect((await service.settled(evacuation.id)).state).toBe('failed');
  });

  it('refuses bad requests with what to do', async () => {
    const { start, service, migrations } = setup([vm('v1'), vm('off', 'shutoff')], { v1: block });
    await expect(start({ to: 'a' })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/onto itself/) });
    await expect(start({ to: 'nowhere' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(start({ modes: { ghost: 'live' } })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/No VM "ghost" on a/) });
    await expect(start({ modes: { v1: 'live' } })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/live migration is not possible for v1: Not on shared storage/) });
    await expect(start({ modes: { off: 'offline' } })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/off is not running/) });
    expect(() => evacuationInput.parse({ host: 'a', to: 'b', parallel: 9 })).toThrow();
    expect(() => evacuationInput.parse({ host: 'a', to: 'b', parallel: 0 })).toThrow();
    expect(evacuationInput.parse({ host: 'a', to: 'b' }).parallel).toBe(2);
    expect(migrations.started).toHaveLength(0);
    const first = await start({});
    await expect(start({})).rejects.toMatchObject({ code: 'busy' });
    expect(() => service.get('missing')).toThrow(/no evacuation missing/);
    await until(() => migrations.runs.has('v1'), 'v1 to start');
    migrations.finish('v1');
    await service.settled(first.id);
  });
});
