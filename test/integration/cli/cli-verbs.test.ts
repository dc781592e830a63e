/**
 * The CLI verbs virsh and qm users reach for, with the built CLI (`npx tsc -p tsconfig.main.json`
 * first) against the lab: every host's VMs in one list, a migration without --mode, hosts named by
 * qemu+ssh:// URI, and a migration run by one `ferry` process watched, tuned and cancelled from
 * another, surviving its terminal's hangup.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostRegistry } from '../../../src-main/core/host/registry.js';
import { controlSocketPath } from '../../../src-main/core/migration/control-protocol.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { assertTicking, ensurePools, LOCAL_DIR, processesOn, removeGuest, SHARED_DIR, startGuest, uniqueName, waitFor } from '../migration/guest.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist', 'main', 'cli', 'main.js');
/** Saved in FERRY_HOME at an address nobody answers on: the list must go on without it. */
const GONE_HOST = 'verb-gone';
const LONG_TEST_MS = 420_000;
let le: LabEngine;
let scratch: string;
let env: NodeJS.ProcessEnv;
const cleanups: Array<() => Promise<void>> = [];

interface Cli {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number>;
}

/** `ferry …` as a terminal runs it; `detached` puts it in a process group of its own, as a shell does. */
function ferry(args: string[], options: { detached?: boolean } = {}): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { env, detached: options.detached === true });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stdin.end();
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : -2))));
  return { child, output: () => text, exited };
}

async function run(...args: string[]): Promise<{ code: number; output: string }> {
  const cli = ferry(args);
  const code = await cli.exited;
  return { code, output: cli.output() };
}

/**
 * Removes the guest through Ferry, then stops any QEMU of it that is still there by its pid: a
 * host session that dropped during removal must not leave a verb- guest running in the lab.
 */
async function removeGuestFully(name: string, paths: string[]): Promise<void> {
  await removeGuest(le, name, paths);
  for (const host of le.hostNames) {
    const pids = processesOn(le, host, `guest=${name},`);
    if (pids.length > 0) await le.sh(host, `kill ${pids.join(' ')}`).catch(() => undefined);
  }
}

async function guest(options: Parameters<typeof startGuest>[1]): Promise<string> {
  const diskPath = `${options.directory}/${options.name}.qcow2`;
  // Registered before the start: a guest whose start failed half-way is removed too.
  cleanups.push(() => removeGuestFully(options.name, [diskPath]));
  await startGuest(le, options);
  return diskPath;
}

const aUri = () => `qemu+ssh://${le.labHost('a').user}@${le.labHost('a').address}/system`;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.main.json` before the CLI tests');
  le = await labEngine();
  await ensurePools(le);
  scratch = mkdtempSync(join(tmpdir(), 'ferry-verb-'));
  // The CLI shares the test engine's FERRY_HOME (its saved hosts and trusted keys), as a second terminal would.
  env = { PATH: process.env['PATH'], HOME: scratch, FERRY_HOME: le.home, LANG: 'C.UTF-8' };
  const a = le.labHost('a');
  await new HostRegistry(join(le.home, 'hosts.json')).add({ transport: 'ssh', name: GONE_HOST, address: '10.231.77.250', user: 'root', identityFile: a.identityFile, useAgent: false, autoconnect: false });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  if (le) await le.engine.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('ferry vm list with no host', () => {
  it('lists every saved host\'s VMs in one table; a host that cannot be reached is a line saying so', async () => {
    const vm = uniqueName('verb-list');
    await guest({ host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 16 });
    const listed = await run('vm', 'list');
    expect(listed.code, listed.output).toBe(0);
    const lines = listed.output.split('\n');
    expect(lines[0]).toMatch(/^HOST +NAME +STATE +MEMORY +VCPUS +NOTE$/);
    expect(listed.output).toMatch(new RegExp(`^a +${vm} +running +256 MiB +1$`, 'm'));
    expect(listed.output).toMatch(/^b +\S+ +(running|shutoff|paused|no VMs)/m);
    expect(listed.output).toMatch(new RegExp(`^${GONE_HOST} +- +unreachable +- +- +\\S`, 'm'));
    const json = JSON.parse((await run('--json', 'vm', 'list')).output) as Array<{ host: string; vms?: Array<{ name: string }>; error?: { message: string } }>;
    expect(json.map((entry) => entry.host)).toEqual(['a', 'b', GONE_HOST]);
    expect(json[0]?.vms?.map((entry) => entry.name)).toContain(vm);
    expect(json[2]?.error?.message).toBeTruthy();
    // A host named by its URI, and a URI nobody saved.
    expect((await run('vm', 'list', aUri())).output).toMatch(new RegExp(`^${vm} +running`, 'm'));
    const unknown = await run('vm', 'list', 'qemu+ssh://root@10.231.77.77:2222/system');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('No saved host is qemu+ssh://root@10.231.77.77:2222/system');
    expect(unknown.output).toContain('ferry host add NAME --ssh root@10.231.77.77:2222');
  });
});

describe('ferry migrate without --mode', () => {
  it('takes the recommended mode, says which and why, and moves the VM (hosts named by URI)', async () => {
    const vm = uniqueName('verb-mode');
    const diskPath = await guest({ host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 32, prefillMiB: 4 });
    cleanups.push(() => le.sh('b', `rm -f ${diskPath}`).then(() => undefined));
    const moved = await run('migrate', vm, '--from', aUri(), '--to', `qemu+ssh://${le.labHost('b').address}/system`, '--transport', 'tcp');
    expect(moved.code, moved.output).toBe(0);
    expect(moved.output).toMatch(/^Mode: block \(recommended\): Copies .*\.qcow2 while the VM runs/m);
    expect(moved.output).toMatch(/Migration \S+: .* a → b \(block\) COMPLETED/);
    expect((await le.engine.call('vms.info', { host: 'b', name: vm })).state).toBe('running');
    // A VM that is not there: the move is refused with why.
    const nowhere = await run('migrate', 'verb-nowhere', '--from', 'a', '--to', 'b');
    expect(nowhere.code).not.toBe(0);
    expect(nowhere.output).toMatch(/verb-nowhere/);
    expect(nowhere.output).not.toMatch(/^Mode:/m);
  }, LONG_TEST_MS);
});

describe('a migration steered from another terminal', () => {
  it('is watched, tuned and cancelled from a second ferry; a hangup of the first does not stop it; the source VM keeps running', async () => {
    const vm = uniqueName('verb-ctl');
    await guest({ host: 'a', name: vm, directory: SHARED_DIR, diskMiB: 16, dirtyMiB: 32, memoryMiB: 256 });
    const first = ferry(['migrate', vm, '--from', 'a', '--to', 'b', '--mode', 'live', '--bandwidth', '2', '--transport', 'tcp'], { detached: true });
    cleanups.push(async () => {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    });
    await waitFor(async () => /Migration \S+ started\./.test(first.output()) || first.child.exitCode !== null, 120_000, 'the migration to start');
    const id = /Migration (\S+) started\. Closing this terminal does not stop the migration; `ferry migration watch \1` follows it, `ferry migration cancel \1` cancels it\./.exec(first.output())?.[1];
    expect(id, first.output()).toBeTruthy();
    if (!id) return;
    expect(existsSync(controlSocketPath(le.home, id))).toBe(true);

    // The terminal closes: the whole process group gets SIGHUP and nobody reads its output any more.
    process.kill(-(first.child.pid ?? 0), 'SIGHUP');
    first.child.stdout.destroy();
    first.child.stderr.destroy();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(first.child.exitCode).toBe(null);
    expect(first.child.signalCode).toBe(null);

    // Watched from elsewhere: the migration's summary and its progress, still moving memory.
    const watcher = ferry(['migration', 'watch', id]);
    await waitFor(async () => /• memory/.test(watcher.output()), 60_000, 'the watcher to show memory moving');
    expect(watcher.output()).toContain(`Watching migration ${id}: ${vm} a → b (live)`);

    // Listed by any other Ferry of this user (a third ferry, this test's engine) as running there.
    const listed = await run('migration', 'list');
    expect(listed.output).toMatch(new RegExp(`^${id} +${vm} +a +b +live +\\S+ +memory \\(in another Ferry process\\)`, 'm'));
    expect((await le.engine.call('migrations.list', {})).find((entry) => entry.id === id)).toMatchObject({ phase: 'memory', elsewhere: true, report: null });
    expect((await le.engine.call('migrations.get', { id })).samples.length).toBeGreaterThan(0);

    const tuned = await run('migration', 'tune', id, '--bandwidth', '3', '--downtime', '400');
    expect(tuned.code, tuned.output).toBe(0);
    expect(tuned.output).toMatch(new RegExp(`^Tuned migration ${id} \\(memory\\): bandwidth 3 MiB/s, downtime 400 ms$`, 'm'));
    const badTune = await run('migration', 'tune', id, '--bandwidth', '-5');
    expect(badTune.code).toBe(2);
    expect(badTune.output).toContain('Cannot tune migration');
    // Refused by the running migration itself, and the refusal comes back to this terminal.
    const noPostcopy = await run('migration', 'tune', id, '--postcopy');
    expect(noPostcopy.code).toBe(2);
    expect(noPostcopy.output).toContain('This migration was started without postcopy');
    const nothing = await run('migration', 'tune', id);
    expect(nothing.code).toBe(2);
    expect(nothing.output).toContain('Nothing to tune');

    const cancelled = await run('migration', 'cancel', id);
    expect(cancelled.code, cancelled.output).toBe(0);
    expect(cancelled.output).toContain(`Cancelling migration ${id}`);

    // Both the migrating process and the watcher see the end; the VM stays on the source.
    expect(await first.exited).toBe(1);
    expect(await watcher.exited).toBe(1);
    expect(watcher.output()).toMatch(new RegExp(`Migration ${id}: ${vm} a → b \\(live\\) CANCELLED`));
    const record = await le.engine.call('migrations.get', { id });
    expect(record.report?.outcome).toBe('cancelled');
    // The limits the run kept are the tuned ones: QEMU took them (they are kept only once it has).
    expect(record.report?.options).toMatchObject({ bandwidthMiBps: 3, downtimeMs: 400 });
    expect(record.report?.foundOn).toEqual([{ host: 'a', state: 'running' }, { host: 'b', state: 'absent' }]);
    expect(processesOn(le, 'b', `guest=${vm},`)).toEqual([]);
    await assertTicking(le, 'a', vm);
    expect(existsSync(controlSocketPath(le.home, id))).toBe(false);

    // Ended: watch shows the report from the history, cancel says it is over.
    const later = await run('migration', 'watch', id);
    expect(later.code).toBe(1);
    expect(later.output).toMatch(/\(live\) CANCELLED/);
    const again = await run('migration', 'cancel', id);
    expect(again.code).toBe(2);
    expect(again.output).toContain(`Migration ${id} has already ended (cancelled)`);
    const unknown = await run('migration', 'watch', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('is not running in any Ferry process');
    expect(unknown.output).toContain('ferry migration recover');
  }, LONG_TEST_MS);
});
