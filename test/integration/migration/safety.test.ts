import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, SHARED_DIR, assertTicking, badRecords, cutLinkBetween, ensurePools, lastRecord, leftovers, processesOn, removeGuest, reportOf, startGuest, uniqueName, waitFor } from './guest.js';

// Exactly one running copy, nothing lost: the commit point, doubt when a host is out of reach,
// and locks between processes. Each test makes its own guests.
let le: LabEngine;
/** These wait out real timeouts (a stalled link, a host that stopped answering) on a busy 2-core machine. */
const LONG_TEST_MS = 420_000;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await le.engine.close();
});

async function guest(options: Parameters<typeof startGuest>[1]): Promise<string> {
  const { diskPath } = await startGuest(le, options);
  cleanups.push(() => removeGuest(le, options.name, [diskPath]));
  return diskPath;
}

const journalFiles = () => {
  try {
    return readdirSync(join(le.home, 'journal')).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
};

/** `ferry …` in a child process sharing the test engine's FERRY_HOME, as a second terminal would. */
function ferryCli(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string; exited: Promise<number> } {
  const child = spawn(process.execPath, ['bin/ferry.js', ...args], { env: { ...process.env, FERRY_HOME: le.home } });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return { child, output: () => text, exited };
}

describe('postcopy is the point of no return', () => {
  it('cancel is refused once postcopy runs; the VM finishes on the destination, nothing is deleted', async () => {
    const vm = uniqueName('safe-pc');
    const diskPath = await guest({ host: 'a', name: vm, directory: SHARED_DIR, diskMiB: 64, dirtyMiB: 64, memoryMiB: 256 });
    const started = await le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'live', postcopy: true, bandwidthMiBps: 4, transport: 'tcp' });
    expect(started.committed).toBe(false);
    await waitFor(async () => (await le.engine.call('migrations.get', { id: started.id })).samples.some((sample) => sample.ram.transferredBytes > 8 * 1024 * 1024), 60_000, 'memory to move');
    await le.engine.call('migrations.tune', { id: started.id, startPostcopy: true });
    await waitFor(async () => (await le.engine.call('migrations.get', { id: started.id })).committed, 30_000, 'the commit point');
    await expect(le.engine.call('migrations.cancel', { id: started.id })).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining('can no longer be cancelled') });
    const report = reportOf(await le.engine.migrations.settled(started.id));
    expect(report.outcome).toBe('completed');
    expect(report.foundOn).toEqual([{ host: 'a', state: 'absent' }, { host: 'b', state: 'running' }]);
    await assertTicking(le, 'b', vm);
    expect(processesOn(le, 'a', `guest=${vm},`)).toEqual([]);
    const written = await lastRecord(le, 'b', vm);
    await le.engine.call('vms.destroy', { host: 'b', name: vm });
    expect(await badRecords(le, 'b', diskPath, written)).toEqual([]);
  }, LONG_TEST_MS);
});

describe('a link cut during postcopy', () => {
  it('undoes nothing: the migration waits in doubt, and finishes forwards once the link is back', async () => {
    const vm = uniqueName('safe-pclink');
    const diskPath = await guest({ host: 'a', name: vm, directory: SHARED_DIR, diskMiB: 64, dirtyMiB: 64, memoryMiB: 256 });
    const started = await le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'live', postcopy: true, bandwidthMiBps: 2, transport: 'tcp' });
    await waitFor(async () => (await le.engine.call('migrations.get', { id: started.id })).samples.some((sample) => sample.ram.transferredBytes > 4 * 1024 * 1024), 60_000, 'memory to move');
    await le.engine.call('migrations.tune', { id: started.id, startPostcopy: true });
    await waitFor(async () => (await le.engine.call('migrations.get', { id: started.id })).committed, 30_000, 'the commit point');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await cutLinkBetween(le, 'a', 'b', true);
    try {
      const report = reportOf(await le.engine.migrations.settled(started.id));
      expect(report.outcome).toBe('in-doubt');
      expect(report.error?.message).toMatch(/postcopy is paused/);
      // Both halves of the guest are kept: the destination runs it, the source holds the rest of its memory.
      expect(processesOn(le, 'b', `guest=${vm},`)).toHaveLength(1);
      expect(processesOn(le, 'a', `guest=${vm},`)).toHaveLength(1);
      expect(journalFiles()).toContain(`${started.id}.json`);
      await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'live' })).rejects.toMatchObject({ code: 'busy' });
    } finally {
      await cutLinkBetween(le, 'a', 'b', false);
    }
    const settled = await le.engine.call('migrations.recover', {});
    const mine = settled.find((summary) => summary.id === started.id);
    expect(mine?.report?.outcome, mine?.report?.error?.message).toBe('completed');
    expect(mine?.report?.foundOn).toEqual([{ host: 'a', state: 'absent' }, { host: 'b', state: 'running' }]);
    expect(journalFiles()).not.toContain(`${started.id}.json`);
    await assertTicking(le, 'b', vm);
    const written = await lastRecord(le, 'b', vm);
    await le.engine.call('vms.destroy', { host: 'b', name: vm });
    expect(await badRecords(le, 'b', diskPath, written)).toEqual([]);
  }, LONG_TEST_MS);
});

describe('locks between processes', () => {
  it('two processes migrate two VMs while a third lists the history: both complete', async () => {
    const first = uniqueName('safe-p1');
    const second = uniqueName('safe-p2');
    const disks = [await guest({ host: 'a', name: first, directory: LOCAL_DIR, diskMiB: 64, prefillMiB: 8 }), await guest({ host: 'a', name: second, directory: LOCAL_DIR, diskMiB: 64, prefillMiB: 8 })];
    for (const disk of disks) cleanups.push(() => le.sh('b', `rm -f ${disk}`).then(() => undefined));
    const migrations = [first, second].map((vm) => ferryCli(['migrate', vm, '--from', 'a', '--to', 'b', '--mode', 'block', '--bandwidth', '24']));
    let listings = 0;
    const settled = Promise.all(migrations.map((migration) => migration.exited));
    let done = false;
    void settled.then(() => (done = true));
    while (!done) {
      const lister = ferryCli(['migration', 'list']);
      expect(await lister.exited).toBe(0);
      listings += 1;
    }
    const codes = await settled;
    expect(codes, migrations.map((migration) => migration.output()).join('\n---\n')).toEqual([0, 0]);
    expect(listings).toBeGreaterThan(0);
    for (const vm of [first, second]) {
      expect((await le.engine.call('vms.info', { host: 'b', name: vm })).state).toBe('running');
      expect(processesOn(le, 'a', `guest=${vm},`)).toEqual([]);
    }
    expect(journalFiles()).toEqual([]);
  }, LONG_TEST_MS);

  it('the same VM from two processes: the second is refused with who holds it, and the listeners are bound to the migration address', async () => {
    const vm = uniqueName('safe-same');
    const diskPath = await guest({ host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 256, prefillMiB: 48 });
    cleanups.push(() => le.sh('b', `rm -f ${diskPath}`).then(() => undefined));
    const cli = ferryCli(['migrate', vm, '--from', 'a', '--to', 'b', '--mode', 'block', '--bandwidth', '4']);
    await waitFor(async () => /copying disks/.test(cli.output()), 120_000, 'the CLI to start copying');
    // The NBD export and the incoming migration listen only where the source connects.
    const listening = (await run('ip', ['netns', 'exec', le.labHost('b').netns, 'ss', '-ltnpH'])).stdout.split('\n').filter((line) => line.includes(`pid=${processesOn(le, 'b', `guest=${vm},`)[0]},`));
    expect(listening.length).toBe(2);
    for (const line of listening) expect(line.split(/\s+/)[3]).toMatch(new RegExp(`^${le.labHost('b').address.replace(/\./g, '\\.')}:\\d+$`));
    // Another process (this test's engine) asks for the same VM.
    await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block' })).rejects.toMatchObject({
      code: 'busy',
      message: expect.stringMatching(new RegExp(`VM "${vm}" on a is being migrated by Ferry on .+ \\(process ${cli.child.pid}, migration `)),
    });
    expect(await cli.exited, cli.output()).toBe(0);
    expect((await le.engine.call('vms.info', { host: 'b', name: vm })).state).toBe('running');
  }, LONG_TEST_MS);

  it('two starts of one VM in one process: the second is refused before it asks any host', async () => {
    const vm = uniqueName('safe-twice');
    const diskPath = await guest({ host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 64 });
    cleanups.push(() => le.sh('b', `rm -f ${diskPath}`).then(() => undefined));
    const results = await Promise.allSettled([
      le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block' }),
      le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block' }),
    ]);
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'busy', message: expect.stringContaining('already being migrated') });
    const accepted = results.find((result) => result.status === 'fulfilled') as PromiseFulfilledResult<{ id: string }>;
    expect(reportOf(await le.engine.migrations.settled(accepted.value.id)).outcome).toBe('completed');
  }, LONG_TEST_MS);
});

describe('a rollback that cannot reach the destination', () => {
  it('keeps the migration in doubt instead of guessing, and settles it once the host is back', async () => {
    const vm = uniqueName('safe-doubt');
    const diskPath = await guest({ host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 256, prefillMiB: 48, dirtyMiB: 32 });
    const started = await le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block', bandwidthMiBps: 6 });
    await waitFor(async () => (await le.engine.call('migrations.get', { id: started.id })).phase === 'memory', 120_000, 'the memory phase');
    const listener = le.labHost('b').sshdPid;
    // B stops answering SSH: its listener is frozen and Ferry's sessions into it are gone.
    process.kill(listener, 'SIGSTOP');
    try {
      for (const pid of processesOn(le, 'b', 'sshd: root')) process.kill(pid, 'SIGKILL');
      await le.engine.call('migrations.cancel', { id: started.id });
      const report = reportOf(await le.engine.migrations.settled(started.id));
      expect(report.outcome).toBe('in-doubt');
      expect(report.error?.message).toMatch(/cannot confirm that the copy on b is gone/);
      expect(report.foundOn).toContainEqual({ host: 'b', state: 'unreachable' });
      expect(journalFiles()).toContain(`${started.id}.json`);
      const entry = JSON.parse(readFileSync(join(le.home, 'journal', `${started.id}.json`), 'utf8')) as { doubt: string | null; undo: Array<{ kind: string; host: string }> };
      expect(entry.doubt).toMatch(/cannot confirm/);
      expect(entry.undo.filter((step) => step.host === 'b').map((step) => step.kind)).toContain('kill-qemu');
      // While in doubt the VM stays claimed: nobody may migrate it.
      await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block' })).rejects.toMatchObject({ code: 'busy' });
    } finally {
      process.kill(listener, 'SIGCONT');
    }
    const settled = await le.engine.call('migrations.recover', {});
    const mine = settled.find((summary) => summary.id === started.id);
    expect(mine?.report?.outcome).toBe('failed');
    expect(mine?.report?.error?.message).toMatch(/ended in doubt: .*It was rolled back/);
    expect(journalFiles()).not.toContain(`${started.id}.json`);
    expect(await leftovers(le, 'b', vm, [diskPath])).toEqual([]);
    await assertTicking(le, 'a', vm);
    expect((await le.engine.call('migrations.get', { id: started.id })).report?.outcome).toBe('failed');
  }, LONG_TEST_MS);
});
