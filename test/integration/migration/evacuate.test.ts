import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EvacuationSummary, MigrationMode } from '../../../src-main/core/api/types.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, SHARED_DIR, badRecords, ensurePools, lastRecord, processesOn, removeGuest, startGuest, uniqueName, waitFor } from './guest.js';

// Evacuating lab host a onto b with real guests, real QEMU and real migrations. Each evacuation
// names its own VMs (`vms`), so guests of other tests running on the lab at the same time stay put.
let le: LabEngine;
const cleanups: Array<() => Promise<void>> = [];
const GUEST_MEMORY_MIB = 192;
/** Guests boot one after another under TCG on two cores shared with other tests: minutes, not seconds. */
const EVACUATION_TEST_TIMEOUT_MS = 600_000;

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
});

// Right after each test: guests left running would slow the next one's boots on two cores.
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await le.engine.close();
});

interface Guest {
  vm: string;
  diskPath: string;
}

async function guest(prefix: string, directory: string): Promise<Guest> {
  const vm = uniqueName(prefix);
  cleanups.push(() => removeGuest(le, vm, [`${directory}/${vm}.qcow2`]));
  const { diskPath } = await startGuest(le, { host: 'a', name: vm, directory, memoryMiB: GUEST_MEMORY_MIB });
  return { vm, diskPath };
}

/** `ferry …` in a child process sharing the test engine's FERRY_HOME, as a terminal would (needs `npm run build:main`). */
function ferryCli(args: string[]): { child: ChildProcessWithoutNullStreams; stdout(): string; stderr(): string; exited: Promise<number> } {
  const child = spawn(process.execPath, ['bin/ferry.js', ...args], { env: { ...process.env, FERRY_HOME: le.home } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The hosts whose QEMU processes are this VM, one entry per process. */
function runningOn(vm: string): string[] {
  return ['a', 'b'].flatMap((host) => processesOn(le, host, `guest=${vm},`).map(() => host));
}

/** Every update of one evacuation, and the most migrations it ever had running at once. */
function watch(): { updates: EvacuationSummary[]; maxMigrating(): number; stop(): void } {
  const updates: EvacuationSummary[] = [];
  const stop = le.engine.onEvent((event) => {
    if (event.name === 'evacuation-update') updates.push(event.payload);
  });
  return { updates, stop, maxMigrating: () => Math.max(0, ...updates.map((update) => update.vms.filter((entry) => entry.state === 'migrating').length)) };
}

/** Stops the guest where it runs, then checks that every record it reported is on its disk there. */
async function expectRecordsIntact(host: string, { vm, diskPath }: Guest): Promise<void> {
  const written = Math.max(await lastRecord(le, 'a', vm), await lastRecord(le, 'b', vm));
  await le.engine.call('vms.destroy', { host, name: vm });
  expect(written).toBeGreaterThan(5);
  expect(await badRecords(le, host, diskPath, written)).toEqual([]);
}

describe('host evacuation', () => {
  it('moves four running VMs a→b two at a time, each in its own mode, each running exactly once on b', async () => {
    // One at a time: guests boot under TCG on two cores shared with other tests.
    const guests: Guest[] = [];
    for (const [prefix, directory] of [['evac-live1', SHARED_DIR], ['evac-live2', SHARED_DIR], ['evac-block', LOCAL_DIR], ['evac-off', LOCAL_DIR]] as const) guests.push(await guest(prefix, directory));
    const [live1, live2, block, offline] = guests as [Guest, Guest, Guest, Guest];
    const modes = await le.engine.call('migrations.modes', { vm: offline.vm, from: 'a', to: 'b' });
    expect(modes.find((mode) => mode.recommended)?.mode).toBe('block');

    const watcher = watch();
    const started = await le.engine.call('hosts.evacuate', { host: 'a', to: 'b', parallel: 2, vms: guests.map((entry) => entry.vm), modes: { [offline.vm]: 'offline' }, transport: 'tcp' });
    const final = await le.engine.evacuations.settled(started.id);
    watcher.stop();

    const expectedModes: Record<string, MigrationMode> = { [live1.vm]: 'live', [live2.vm]: 'live', [block.vm]: 'block', [offline.vm]: 'offline' };
    expect(final.vms.map((entry) => [entry.vm, entry.mode, entry.state, entry.message])).toEqual(guests.map(({ vm }) => [vm, expectedModes[vm], 'completed', undefined]));
    expect(final.state).toBe('completed');
    expect(final.finishedAt).not.toBeNull();
    expect(watcher.maxMigrating()).toBe(2);
    expect(watcher.updates.at(-1)).toEqual(final);
    expect(await le.engine.call('evacuations.get', { id: started.id })).toEqual(final);
    for (const entry of final.vms) {
      expect(runningOn(entry.vm)).toEqual(['b']);
      expect(entry.foundOn).toEqual([{ host: 'a', state: 'absent' }, { host: 'b', state: 'running' }]);
      expect((await le.engine.call('vms.info', { host: 'b', name: entry.vm })).state).toBe('running');
      // Each migration keeps its own history entry.
      expect((await le.engine.call('migrations.get', { id: entry.migrationId ?? '' })).report?.outcome).toBe('completed');
    }
    for (const entry of guests) await expectRecordsIntact('b', entry);
  }, EVACUATION_TEST_TIMEOUT_MS);

  it('`ferry host evacuate` with Ctrl-C after the first VM has moved: no VM runs twice or nowhere, each is where the table says', async () => {
    const guests: Guest[] = [];
    for (const prefix of ['evac-c1', 'evac-c2', 'evac-c3']) guests.push(await guest(prefix, SHARED_DIR));
    const [first, second, third] = guests.map((entry) => entry.vm) as [string, string, string];
    const cli = ferryCli(['host', 'evacuate', 'a', '--to', 'b', '--parallel', '1', '--vm', first, second, third, '--transport', 'tcp']);
    // Once the first VM has moved and the second's migration has begun.
    await waitFor(async () => cli.stderr().includes(`✓ ${first}: completed`) && cli.stderr().includes(`→ ${second}: live migration to b started`), 240_000, `${first} to move and ${second} to start`);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('Cancelling the evacuation');
    expect(cli.stderr()).not.toContain(`→ ${third}`);

    const outcome = (vm: string) => new RegExp(`^${vm}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(cli.stdout())?.slice(1, 3);
    expect(cli.stdout()).toMatch(/^Evacuation of a to b: CANCELLED$/m);
    expect(outcome(first)).toEqual(['live', 'completed']);
    expect(outcome(third)).toEqual(['live', 'cancelled']);
    expect(cli.stdout()).toContain(`${third}: Not started: the evacuation was cancelled.`);
    // The second was cancelled, unless it was already past its commit point: then it finished on b, and the CLI said so.
    const pastCommitPoint = cli.stderr().includes(`! ${second}: could not be cancelled`);
    expect(outcome(second)).toEqual(['live', pastCommitPoint ? 'completed' : 'cancelled']);

    const hosts: string[] = [];
    for (const vm of [first, second, third]) {
      const where = runningOn(vm);
      expect(where, `${vm} must run on exactly one host`).toHaveLength(1);
      expect(where[0]).toBe(outcome(vm)?.[1] === 'completed' ? 'b' : 'a');
      hosts.push(where[0] ?? '');
    }
    expect(hosts).toContain('a');
    expect(hosts).toContain('b');
    for (const [index, entry] of guests.entries()) await expectRecordsIntact(hosts[index] ?? 'a', entry);
  }, EVACUATION_TEST_TIMEOUT_MS);
});
