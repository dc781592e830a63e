import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationSample } from '../../../src-main/core/api/types.js';
import { shellCommand } from '../../../src-main/core/ssh/shell.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { ensureLibvirtd, labDomainXml, virsh, virshWithXml } from '../../lab/libvirt.js';
import { allowingOneGuestPanic, badRecords, guestPanic, reportOf, uniqueName, waitFor } from '../migration/guest.js';

const IMAGE_DIR = '/var/lib/libvirt/images';
const SHARED_DIR = '/srv/ferry-shared';
/** Saved names of the lab hosts as libvirt hosts, beside the engine's Ferry-managed 'a' and 'b'. */
const [LA, LB] = ['la', 'lb'];

let le: LabEngine;
const made: Array<{ name: string; disk: string }> = [];

const labHostOf = (saved: string) => le.labHost(saved === LA ? 'a' : 'b');
const shOn = (saved: string, command: string) => le.sh(saved === LA ? 'a' : 'b', command);
const serialPath = (name: string) => `/var/lib/libvirt/${name}.serial.log`;

async function serial(saved: string, name: string): Promise<string> {
  return shOn(saved, `cat ${serialPath(name)} 2>/dev/null || true`);
}

async function beats(saved: string, name: string): Promise<number> {
  return Math.max(0, ...[...(await serial(saved, name)).matchAll(/ferry-heartbeat (\d+)/g)].map((match) => Number(match[1])));
}

async function lastRecord(saved: string, name: string): Promise<number> {
  const all = [...(await serial(saved, name)).matchAll(/ferry-heartbeat \d+ disk=(\d+)/g)];
  return Number(all[all.length - 1]?.[1] ?? 0);
}

async function domainState(saved: string, name: string): Promise<string> {
  const result = await virsh(labHostOf(saved), ['domstate', name], true);
  return result.code === 0 ? result.stdout.trim() : 'absent';
}

/** Heartbeats keep coming on this host (the guest is alive there), with the panic named if it died. */
async function assertTicking(saved: string, name: string): Promise<void> {
  const before = await beats(saved, name);
  try {
    await waitFor(async () => (await beats(saved, name)) >= before + 3, 40_000, `${name} ticking on ${saved}`);
  } catch (error) {
    const panic = guestPanic(await serial(saved, name));
    if (panic) throw new Error(`${(error as Error).message}: the guest kernel panicked there: ${panic}`);
    throw new Error(`${(error as Error).message}: the guest fell silent there while QEMU says "${await domainState(saved, name)}"`);
  }
}

/** Defines and starts the lab guest as a libvirt domain on la, writing records to its qcow2 disk. */
async function startDomain(prefix: string, directory: string, prefillMiB = 0): Promise<{ name: string; disk: string }> {
  const name = uniqueName(`lv-mig-${prefix}`);
  const disk = `${directory}/${name}.qcow2`;
  made.push({ name, disk });
  await shOn(LA, `mkdir -p ${directory} && qemu-img create -q -f qcow2 ${disk} 64M`);
  // Data past the records (which start at sector 1), so a block copy has real bytes to move.
  if (prefillMiB > 0) await shOn(LA, `qemu-io -f qcow2 -c 'write -P 0x5a 8M ${prefillMiB}M' ${disk} >/dev/null`);
  await virshWithXml(labHostOf(LA), 'define', labDomainXml({
    name, memoryMiB: 128, accel: le.lab.guest.accel, kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd,
    append: 'console=ttyS0 quiet ferry.dirty_mib=4', serialLog: serialPath(name), disk,
  }));
  await virsh(labHostOf(LA), ['start', name]);
  await waitFor(async () => (await lastRecord(LA, name)) >= 3, 90_000, `records from ${name}`);
  return { name, disk };
}

async function forget(name: string, disk: string): Promise<void> {
  for (const saved of [LA, LB]) {
    await virsh(labHostOf(saved), ['destroy', name], true);
    await virsh(labHostOf(saved), ['undefine', name], true);
    await shOn(saved, shellCommand(['rm', '-f', disk, serialPath(name), `/var/log/libvirt/qemu/${name}.log`])).catch(() => undefined);
  }
}

function samplesOf(id: string): MigrationSample[] {
  return received.filter((event) => event.id === id).map((event) => event.sample);
}
const received: Array<{ id: string; sample: MigrationSample }> = [];

async function migrate(name: string, mode: 'live' | 'block' | 'offline', extra: { bandwidthMiBps?: number; shutdownTimeoutMs?: number } = {}) {
  const summary = await le.engine.call('migrations.start', { vm: name, from: LA, to: LB, mode, transport: 'tcp', ...extra });
  return summary.id;
}

describe('libvirt domains migrate between libvirt hosts through libvirt, watched and steered by Ferry', () => {
  beforeAll(async () => {
    le = await labEngine();
    await ensureLibvirtd(le.lab, le.labHost('a'));
    await ensureLibvirtd(le.lab, le.labHost('b'));
    for (const [saved, host] of [[LA, le.labHost('a')], [LB, le.labHost('b')]] as const) {
      await le.engine.call('hosts.add', { transport: 'ssh', name: saved, address: host.address, port: host.port, user: host.user, identityFile: host.identityFile, useAgent: false, hypervisor: 'libvirt' });
    }
    le.engine.onEvent((event) => {
      if (event.name === 'migration-sample') received.push(event.payload);
    });
  }, 240_000);

  afterAll(async () => {
    for (const { name, disk } of made) await forget(name, disk);
  }, 120_000);

  it('pre-flight says libvirt is in charge and refuses a mixed pair and a name taken on the destination', async () => {
    const { name, disk } = await startDomain('pf', IMAGE_DIR);
    const report = await le.engine.call('migrations.check', { vm: name, from: LA, to: LB, mode: 'block' });
    expect(report.ok).toBe(true);
    expect(report.items.map((item) => item.message).join(' ')).toMatch(/migrated by libvirt: the source host's libvirtd runs the move/);
    // Ferry's default transport is TLS, which libvirt's migration does not get from Ferry.
    expect(report.items.find((item) => item.check === 'encryption')?.level).toBe('warning');
    const mixed = await le.engine.call('migrations.check', { vm: name, from: LA, to: 'b', mode: 'block' });
    expect(mixed.ok).toBe(false);
    expect(mixed.items.find((item) => item.check === 'host-kinds')?.message).toMatch(/not built/);
    await virshWithXml(labHostOf(LB), 'define', labDomainXml({ name, memoryMiB: 128, accel: le.lab.guest.accel, kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd, append: 'quiet', serialLog: serialPath(name) }));
    const taken = await le.engine.call('migrations.check', { vm: name, from: LA, to: LB, mode: 'block' });
    expect(taken.items.find((item) => item.check === 'name')?.level).toBe('error');
    const shared = await le.engine.call('migrations.check', { vm: name, from: LA, to: LB, mode: 'live' });
    expect(shared.items.find((item) => item.check === 'storage')?.message).toContain(disk);
    await expect(le.engine.call('migrations.start', { vm: name, from: LA, to: LB, mode: 'block' })).rejects.toThrow(/already has a domain/);
    await forget(name, disk);
  }, 240_000);

  it('moves a running domain with its disk (block copy): heartbeat goes on, records intact, charts fed', async () => {
    await allowingOneGuestPanic(le.engine, LA, async () => {
      const { name, disk } = await startDomain('blk', IMAGE_DIR, 48);
      // Limited, so the move lasts long enough for a chart of several seconds.
      const id = await migrate(name, 'block', { bandwidthMiBps: 32 });
      const record = await le.engine.migrations.settled(id);
      expect(reportOf(record).error).toBeNull();
      expect(reportOf(record).outcome).toBe('completed');
      expect(await domainState(LA, name)).toBe('absent');
      expect(await domainState(LB, name)).toBe('running');
      await assertTicking(LB, name);
      const samples = samplesOf(id);
      expect(samples.length).toBeGreaterThan(3);
      expect(samples.some((sample) => sample.ram.totalBytes > 0 && sample.ram.transferredBytes > 0)).toBe(true);
      expect(samples.some((sample) => (sample.disks[0]?.totalBytes ?? 0) > 0)).toBe(true);
      expect(record.samples.length).toBe(samples.length);
      // The report says what the chart showed: the disk's bytes, not 0 B.
      expect(reportOf(record).disks[0]?.bytes).toBe(samples[samples.length - 1]?.disks[0]?.transferredBytes);
      expect(reportOf(record).disks[0]?.bytes ?? 0).toBeGreaterThan(0);
      const upTo = await lastRecord(LB, name);
      await virsh(labHostOf(LB), ['destroy', name]);
      expect(await badRecords(le, 'b', disk, upTo)).toEqual([]);
      await forget(name, disk);
    });
  }, 600_000);

  it('`ferry migrate` moves a libvirt domain unchanged (block copy, JSON report)', async () => {
    await allowingOneGuestPanic(le.engine, LA, async () => {
      const { name, disk } = await startDomain('cli', IMAGE_DIR);
      const cli = spawnSync(process.execPath, ['bin/ferry.js', '--json', 'migrate', name, '--from', LA, '--to', LB, '--mode', 'block', '--transport', 'tcp', '--downtime', '500'], {
        env: { ...process.env, FERRY_HOME: le.home }, encoding: 'utf8', timeout: 300_000,
      });
      expect(cli.stderr).toBe('');
      expect(cli.status).toBe(0);
      const report = JSON.parse(cli.stdout) as { outcome: string; mode: string; options: { migratedBy?: string } };
      expect(report).toMatchObject({ outcome: 'completed', mode: 'block', options: { migratedBy: 'libvirt' } });
      expect(await domainState(LA, name)).toBe('absent');
      expect(await domainState(LB, name)).toBe('running');
      await assertTicking(LB, name);
      await forget(name, disk);
    });
  }, 600_000);

  it('moves a running domain over shared storage (memory only): heartbeat goes on, records intact', async () => {
    await allowingOneGuestPanic(le.engine, LA, async () => {
      const { name, disk } = await startDomain('shr', SHARED_DIR);
      const id = await migrate(name, 'live', { bandwidthMiBps: 32 });
      const record = await le.engine.migrations.settled(id);
      expect(reportOf(record).error).toBeNull();
      expect(await domainState(LA, name)).toBe('absent');
      expect(await domainState(LB, name)).toBe('running');
      await assertTicking(LB, name);
      const samples = samplesOf(id);
      expect(samples.length).toBeGreaterThan(3);
      expect(samples.some((sample) => sample.ram.transferredBytes > 0 && sample.ram.remainingBytes >= 0)).toBe(true);
      const upTo = await lastRecord(LB, name);
      await virsh(labHostOf(LB), ['destroy', name]);
      expect(await badRecords(le, 'b', disk, upTo)).toEqual([]);
      await forget(name, disk);
    });
  }, 600_000);

  it('moves a domain offline: disks copied by Ferry, definition by libvirt, started on b with every record', async () => {
    const { name, disk } = await startDomain('off', IMAGE_DIR);
    // The lab guest ignores ACPI power-off, so it is forced off after a short wait.
    const id = await migrate(name, 'offline', { shutdownTimeoutMs: 5000 });
    const record = await le.engine.migrations.settled(id);
    expect(reportOf(record).error).toBeNull();
    expect(await domainState(LA, name)).toBe('absent');
    expect(await domainState(LB, name)).toBe('running');
    const samples = samplesOf(id);
    expect(samples.some((sample) => (sample.disks[0]?.transferredBytes ?? 0) > 0)).toBe(true);
    // What the guest wrote before it was shut down is all on b's copy.
    const upTo = await lastRecord(LA, name);
    await waitFor(async () => (await beats(LB, name)) >= 2, 90_000, `${name} beating on b`);
    await virsh(labHostOf(LB), ['destroy', name]);
    expect(await badRecords(le, 'b', disk, upTo)).toEqual([]);
    await forget(name, disk);
  }, 600_000);

  it('tunes the running job, and cancel during the disk copy leaves the domain running on a only', async () => {
    const { name, disk } = await startDomain('cxl', IMAGE_DIR);
    // A slow copy, so the cancel lands while libvirt is still copying the disk.
    const id = await migrate(name, 'block', { bandwidthMiBps: 2 });
    await waitFor(async () => samplesOf(id).some((sample) => sample.phase === 'copying-disks' && (sample.disks[0]?.transferredBytes ?? 0) > 0), 60_000, 'the disk copy to start');
    // Live tuning reaches libvirt's job on the source.
    await le.engine.call('migrations.tune', { id, bandwidthMiBps: 3, downtimeMs: 450 });
    expect((await virsh(labHostOf(LA), ['migrate-getspeed', name])).stdout.trim()).toBe('3');
    expect((await virsh(labHostOf(LA), ['migrate-getmaxdowntime', name])).stdout.trim()).toBe('450');
    await expect(le.engine.call('migrations.tune', { id, startPostcopy: true })).rejects.toThrow(/not started with postcopy/);
    await le.engine.call('migrations.cancel', { id });
    const record = await le.engine.migrations.settled(id);
    expect(reportOf(record).outcome).toBe('cancelled');
    expect(await domainState(LA, name)).toBe('running');
    expect(await domainState(LB, name)).toBe('absent');
    expect(reportOf(record).foundOn).toEqual([{ host: LA, state: 'running' }, { host: LB, state: 'absent' }]);
    await assertTicking(LA, name);
    // The image Ferry made for the copy is gone from b.
    expect(await shOn(LB, `test -e ${disk} && echo present || echo gone`)).toContain('gone');
    await forget(name, disk);
  }, 300_000);
});
