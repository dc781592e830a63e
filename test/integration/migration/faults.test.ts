import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationPhase } from '../../../src-main/core/api/types.js';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, assertTicking, cutLinkBetween, badRecords, ensurePools, lastRecord, leftovers, processesOn, removeGuest, reportOf, startGuest, uniqueName, waitFor } from './guest.js';

// Every fault must end the same way: the source keeps running with its data, and the
// destination is left exactly as it was. One guest serves all of them, since it stays on the source.
let le: LabEngine;
let vm: string;
let diskPath: string;
const addressOf = (host: string) => le.labHost(host).address;

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
  vm = uniqueName('mig-fault');
  ({ diskPath } = await startGuest(le, { host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 256, prefillMiB: 48, dirtyMiB: 32 }));
});

afterAll(async () => {
  await cutLink(false).catch(() => undefined);
  await removeGuest(le, vm, [diskPath]);
  await le.engine.close();
});

async function phaseReached(id: string, phases: MigrationPhase[], timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => {
    const record = await le.engine.call('migrations.get', { id });
    if (record.report) throw new Error(`migration ended (${record.report.outcome}: ${record.report.error?.message}) before reaching ${phases.join('/')}`);
    return phases.includes(record.phase) && (record.phase !== 'copying-disks' || record.samples.some((sample) => (sample.disks[0]?.transferredBytes ?? 0) > 0));
  }, timeoutMs, `phase ${phases.join('/')}`);
}

/** The guest is still alive on the source, and nothing of the attempt is left on the destination. */
async function expectSourceIntactAndDestinationClean(): Promise<void> {
  const info = await le.engine.call('vms.info', { host: 'a', name: vm });
  expect(info.state).toBe('running');
  await assertTicking(le, 'a', vm);
  expect(await leftovers(le, 'b', vm, [diskPath])).toEqual([]);
}

/** Blocks traffic between the two hosts only; Ferry still reaches both. */
const cutLink = (cut: boolean) => cutLinkBetween(le, 'a', 'b', cut);

const slowBlock = { vm: '', from: 'a', to: 'b', mode: 'block' as const, bandwidthMiBps: 6 };

describe('cancel', () => {
  for (const phase of ['preparing-destination', 'copying-disks', 'memory'] as const) {
    it(`in ${phase} leaves the VM running on the source`, async () => {
      const started = await le.engine.call('migrations.start', { ...slowBlock, vm });
      if (phase !== 'preparing-destination') await phaseReached(started.id, [phase]);
      await le.engine.call('migrations.cancel', { id: started.id });
      const record = await le.engine.migrations.settled(started.id);
      expect(reportOf(record).outcome).toBe('cancelled');
      await expectSourceIntactAndDestinationClean();
    });
  }

  it('cannot cancel a migration that has ended', async () => {
    const [last] = await le.engine.call('migrations.list', {});
    if (!last) throw new Error('no migration recorded');
    await expect(le.engine.call('migrations.cancel', { id: last.id })).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('faults', () => {
  it('the destination QEMU killed mid-migration', async () => {
    const started = await le.engine.call('migrations.start', { ...slowBlock, vm });
    await phaseReached(started.id, ['memory']);
    const pids = processesOn(le, 'b', `guest=${vm},`);
    expect(pids.length).toBe(1);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const report = reportOf(await le.engine.migrations.settled(started.id));
    expect(report.outcome).toBe('failed');
    expect(report.error?.message).toBeTruthy();
    await expectSourceIntactAndDestinationClean();
  });

  it('the link between the hosts cut mid-copy', async () => {
    const started = await le.engine.call('migrations.start', { ...slowBlock, vm });
    await phaseReached(started.id, ['copying-disks']);
    await cutLink(true);
    // Ferry must notice the copy stalled, then clean up; the link comes back while it cleans up.
    await phaseReached(started.id, ['cleaning-up'], 120_000).catch(() => undefined);
    await cutLink(false);
    const report = reportOf(await le.engine.migrations.settled(started.id));
    expect(report.outcome).toBe('failed');
    expect(report.error?.message).toMatch(/moved|failed|disk/i);
    await expectSourceIntactAndDestinationClean();
  });

  it("Ferry's SSH connection to the source dropped mid-migration: it reconnects and finishes", async () => {
    const states: string[] = [];
    const stop = le.engine.onEvent((event) => {
      if (event.name === 'host-state' && event.payload.host === 'a') states.push(event.payload.state);
    });
    const started = await le.engine.call('migrations.start', { ...slowBlock, vm, mode: 'block' });
    await phaseReached(started.id, ['memory']);
    killSshSessions('a');
    await waitFor(async () => states.includes('lost') && states[states.length - 1] === 'connected', 60_000, 'the engine to reconnect');
    // The guest dirties memory faster than 6 MiB/s; lifting the limit through the reconnected
    // monitor lets it converge (and proves live controls survive the drop).
    await le.engine.call('migrations.tune', { id: started.id, bandwidthMiBps: 100_000 });
    const record = await le.engine.migrations.settled(started.id);
    stop();
    expect(reportOf(record).error).toBeNull();
    expect(reportOf(record).outcome).toBe('completed');
    expect(states).toContain('lost');
    expect(states[states.length - 1]).toBe('connected');
    expect((await le.engine.call('vms.info', { host: 'b', name: vm })).state).toBe('running');
    // Bring it back for the remaining faults. A block migration leaves the source's image behind:
    // coming back onto it takes the user's explicit consent, as for any existing image.
    await expect(le.engine.call('migrations.check', { vm, from: 'b', to: 'a', mode: 'block' })).resolves.toMatchObject({ ok: false });
    const back = await le.engine.call('migrations.start', { vm, from: 'b', to: 'a', mode: 'block', reuseImages: true });
    expect(reportOf(await le.engine.migrations.settled(back.id)).error).toBeNull();
    await le.sh('b', `rm -f ${diskPath}`);
    await assertTicking(le, 'a', vm);
  });

  it('Ferry killed mid-migration, then started again, rolls back', async () => {
    const child = spawn(process.execPath, ['bin/ferry.js', 'migrate', vm, '--from', 'a', '--to', 'b', '--mode', 'block', '--bandwidth', '6'], {
      env: { ...process.env, FERRY_HOME: le.home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(async () => /copying disks/.test(stderr) && processesOn(le, 'b', `guest=${vm},`).length === 1, 120_000, 'the CLI to start copying');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const journal = readdirSync(join(le.home, 'journal')).filter((file) => file.endsWith('.json'));
    expect(journal).toHaveLength(1);
    const id = JSON.parse(readFileSync(join(le.home, 'journal', journal[0] ?? ''), 'utf8')).id as string;

    const restarted = new FerryEngine({ home: le.home, userKnownHosts: null, sshConfigPath: join(le.home, 'no-ssh-config') });
    try {
      // Listing is read-only: it settles nothing, even for a migration whose process is gone.
      await restarted.call('migrations.list', {});
      expect(readdirSync(join(le.home, 'journal')).filter((file) => file.endsWith('.json'))).toHaveLength(1);
      const settled = await restarted.call('migrations.recover', {});
      expect(settled.map((summary) => summary.id)).toEqual([id]);
      const history = await restarted.call('migrations.list', {});
      const entry = history.find((candidate) => candidate.id === id);
      expect(entry?.report?.outcome).toBe('failed');
      expect(entry?.report?.error?.message).toMatch(/rolled back/);
      expect(readdirSync(join(le.home, 'journal')).filter((file) => file.endsWith('.json'))).toEqual([]);
    } finally {
      await restarted.close();
    }
    await expectSourceIntactAndDestinationClean();
  });
});

describe('pre-flight refusals change nothing', () => {
  it('destination pool too small', async () => {
    const small = '/var/lib/ferry/mig-small';
    await le.sh('b', `mkdir -p ${small} && (mountpoint -q ${small} || mount -t tmpfs -o size=16M ferry-mig-small ${small})`);
    try {
      await le.engine.call('pools.define', { host: 'b', pool: 'mig-small', type: 'dir', path: small });
      await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block', destPool: 'mig-small' })).rejects.toMatchObject({
        code: 'preflight-failed',
        message: expect.stringMatching(/mig-small on b has \d+ MiB free/),
      });
      expect(await le.sh('b', `ls -A ${small}`)).toBe('');
      await expectSourceIntactAndDestinationClean();
    } finally {
      await le.engine.call('pools.delete', { host: 'b', pool: 'mig-small' }).catch(() => undefined);
      await le.sh('b', `umount ${small}; rmdir ${small}`);
    }
  });

  it('the migration port cannot be reached from the source host', async () => {
    await cutLink(true);
    try {
      const check = await le.engine.call('migrations.check', { vm, from: 'a', to: 'b', mode: 'block' });
      expect(check.ok).toBe(false);
      expect(check.items.find((item) => item.check === 'network')).toMatchObject({ level: 'error', message: expect.stringContaining(`cannot connect to ${addressOf('b')}:`) });
      await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block' })).rejects.toMatchObject({ code: 'preflight-failed', message: expect.stringContaining('cannot connect') });
      // The one-shot listener that was tried is gone too.
      expect(processesOn(le, 'b', 'python3')).toEqual([]);
    } finally {
      await cutLink(false);
    }
    await expectSourceIntactAndDestinationClean();
  });

  it('a pre-existing destination image that is too small, even with --reuse-images', async () => {
    await le.sh('b', `qemu-img create -q -f qcow2 ${diskPath} 16M`);
    const before = await le.sh('b', `md5sum ${diskPath}`);
    try {
      await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'block', reuseImages: true })).rejects.toMatchObject({
        code: 'preflight-failed',
        message: expect.stringContaining('the copy needs exactly 268435456'),
      });
      expect(await le.sh('b', `md5sum ${diskPath}`)).toBe(before);
    } finally {
      await le.sh('b', `rm -f ${diskPath}`);
    }
    await expectSourceIntactAndDestinationClean();
  });

  it("another image of the same size and format at the destination path (maybe another VM's disk)", async () => {
    await le.sh('b', `qemu-img create -q -f qcow2 ${diskPath} 256M && qemu-io -f qcow2 -c 'write -P 0x77 0 1M' ${diskPath} >/dev/null`);
    const before = await le.sh('b', `md5sum ${diskPath}`);
    try {
      for (const mode of ['block', 'offline'] as const) {
        await expect(le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode })).rejects.toMatchObject({
          code: 'preflight-failed',
          message: expect.stringContaining(`${diskPath} already exists on b`),
        });
      }
      expect(await le.sh('b', `md5sum ${diskPath}`)).toBe(before);
    } finally {
      await le.sh('b', `rm -f ${diskPath}`);
    }
    await expectSourceIntactAndDestinationClean();
  });

  it('the source disk kept every record through all of it', async () => {
    const written = await lastRecord(le, 'a', vm);
    await le.engine.call('vms.destroy', { host: 'a', name: vm });
    expect(written).toBeGreaterThan(50);
    expect(await badRecords(le, 'a', diskPath, written)).toEqual([]);
  });
});

/** Kills the sshd processes serving connections into a lab host, not its listener. */
function killSshSessions(host: string): void {
  // "sshd: root@notty" and "sshd: root [priv]" serve connections; the listener reads "sshd: /usr/sbin/sshd …".
  for (const pid of processesOn(le, host, 'sshd: root')) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
