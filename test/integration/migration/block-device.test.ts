import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInput } from '../../../src-main/core/api/contract.js';
import type { PreflightReport } from '../../../src-main/core/api/types.js';
import { runFerry } from '../../support/cli-runner.js';
import {
  createLabBlockDevice,
  createLabBlockDevicePair,
  createLabSharedBlockDevice,
  deviceDigest,
  removeLabBlockDevice,
  removeLabSharedBlockDevice,
  type LabBlockDevice,
} from '../../support/lab-block-devices.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, allowingOneGuestPanic, assertTicking, badRecords, heartbeats, lastRecord, reportOf, uniqueName, waitFor } from './guest.js';

// Disks on host block devices (issue 14), on loop devices the lab gives each host under the same
// path: a VM on a device moves offline and with a block copy onto the other host's device, device
// and image file convert into each other, and a destination device in use is refused untouched.
let le: LabEngine;
const cleanups: Array<() => Promise<void>> = [];
const MIB = 1024 * 1024;

beforeAll(async () => {
  le = await labEngine();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.warn(`cleanup: ${(error as Error).message}`));
  await le.engine.close();
});

async function devicePair(sizeMiB: { a: number; b: number }): Promise<{ a: LabBlockDevice; b: LabBlockDevice }> {
  const pair = await createLabBlockDevicePair(le, uniqueName('blk'), sizeMiB);
  cleanups.push(async () => {
    await removeLabBlockDevice(le, pair.a);
    await removeLabBlockDevice(le, pair.b);
  });
  return pair;
}

async function device(host: string, sizeMiB: number): Promise<LabBlockDevice> {
  const created = await createLabBlockDevice(le, host, uniqueName('blk'), sizeMiB);
  cleanups.push(() => removeLabBlockDevice(le, created));
  return created;
}

function removeVm(name: string): Promise<void> {
  return (async () => {
    for (const host of le.hostNames) {
      await le.engine.call('vms.destroy', { host, name }).catch(() => undefined);
      await le.engine.call('vms.undefine', { host, name }).catch(() => undefined);
      await le.sh(host, `rm -f /var/lib/ferry/logs/${name}.serial.log`).catch(() => undefined);
    }
  })();
}

/** Defines the lab guest on `host` with `disk` as its only disk; starts it and waits for disk records when asked. */
async function defineGuest(host: string, name: string, disk: string, start: boolean): Promise<void> {
  cleanups.push(() => removeVm(name));
  await le.engine.call('vms.define', {
    host,
    name,
    memoryMiB: 256,
    vcpus: 1,
    accel: 'tcg',
    disks: [{ path: disk }],
    kernel: le.lab.guest.kernel,
    initrd: le.lab.guest.initrd,
    append: 'console=ttyS0 quiet ferry.dirty_mib=0',
  });
  if (!start) return;
  await le.engine.call('vms.start', { host, name });
  await waitFor(async () => (await heartbeats(le, host, name)).length >= 3 && (await lastRecord(le, host, name)) >= 5, 90_000, `heartbeats and disk records from ${name}`);
}

async function migrate(input: ChannelInput<'migrations.start'>) {
  const started = await le.engine.call('migrations.start', input);
  return le.engine.migrations.settled(started.id);
}

const errors = (report: PreflightReport) => report.items.filter((item) => item.level === 'error');

describe('a VM on a block device', () => {
  it('starts with its disk opened as a host device, and its details say it is one, with its size', async () => {
    const { a } = await devicePair({ a: 64, b: 64 });
    const vm = uniqueName('blk-vm');
    await defineGuest('a', vm, a.linkPath, true);
    const info = await le.engine.call('vms.info', { host: 'a', name: vm });
    expect(info.definition?.disks[0]).toMatchObject({ path: a.linkPath, format: 'raw', blockDevice: true });
    expect(info.diskUsage[0]).toMatchObject({ path: a.linkPath, blockDevice: true, virtualSizeBytes: 64 * MIB, device: `${a.loopDevice}, loop device` });
    const cmdline = await le.sh('a', `tr '\\0' ' ' < /proc/$(cat /run/ferry/${vm}.pid)/cmdline`);
    expect(cmdline).toContain(`driver=host_device,node-name=ferry-file0,filename=${a.linkPath}`);
  });

  it('`ferry vm define --disk DEVICE` takes it as a raw block device; qcow2 on a device is refused with a message that says raw', async () => {
    const { a } = await devicePair({ a: 16, b: 16 });
    const env = { ...process.env, FERRY_HOME: le.home };
    const vm = uniqueName('blk-cli');
    cleanups.push(() => removeVm(vm));
    const defined = await runFerry(env, ['vm', 'define', 'a', vm, '--memory', '64', '--vcpus', '1', '--accel', 'tcg', '--disk', a.linkPath]);
    expect(defined.code, defined.stderr).toBe(0);
    const info = await runFerry(env, ['vm', 'info', 'a', vm]);
    expect(info.stdout).toMatch(new RegExp(`Disk 0: +${a.linkPath} \\(raw, cache=none, block device of 16(\\.0)? MiB\\)`));
    const refused = await runFerry(env, ['vm', 'define', 'a', uniqueName('blk-q'), '--memory', '64', '--vcpus', '1', '--accel', 'tcg', '--disk', `${a.linkPath},format=qcow2`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/is a block device in qcow2 format; Ferry uses block devices only as raw disks/);
  });

  it('moves offline onto the other host\'s device: records intact there, progress sampled', async () => {
    const { a, b } = await devicePair({ a: 64, b: 64 });
    const vm = uniqueName('blk-off');
    await defineGuest('a', vm, a.linkPath, true);
    const record = await migrate({ vm, from: 'a', to: 'b', mode: 'offline', shutdownTimeoutMs: 1000, noStart: true });
    const report = reportOf(record);
    expect(report.error).toBeNull();
    expect(report.outcome).toBe('completed');
    expect(record.samples.some((sample) => sample.phase === 'copying-disks' && sample.disks.some((disk) => disk.totalBytes === 64 * MIB))).toBe(true);
    const there = await le.engine.call('vms.info', { host: 'b', name: vm });
    expect(there.definition?.disks[0]).toMatchObject({ path: b.linkPath, format: 'raw', blockDevice: true });
    // The VM was off during the copy: the two devices are byte for byte the same.
    expect(await deviceDigest(b)).toBe(await deviceDigest(a));
    const written = await lastRecord(le, 'a', vm);
    expect(written).toBeGreaterThan(4);
    expect(await badRecords(le, 'b', b.linkPath, written)).toEqual([]);
    await le.engine.call('vms.start', { host: 'b', name: vm });
    await assertTicking(le, 'b', vm);
  });

  it('moves with a block copy onto the other host\'s device while it runs: records intact there', async () => {
    await allowingOneGuestPanic(le.engine, 'a', async () => {
      const { a, b } = await devicePair({ a: 64, b: 64 });
      const vm = uniqueName('blk-mir');
      await defineGuest('a', vm, a.linkPath, true);
      // The same path and the same backing path on both hosts, yet two devices: not shared.
      const modes = await le.engine.call('migrations.modes', { vm, from: 'a', to: 'b' });
      expect(modes.find((mode) => mode.mode === 'live')).toMatchObject({ possible: false });
      const record = await migrate({ vm, from: 'a', to: 'b', mode: 'block', probe: 'serial' });
      const report = reportOf(record);
      expect(report.error).toBeNull();
      expect(report.outcome).toBe('completed');
      expect(report.disks[0]?.bytes ?? 0).toBeGreaterThan(0);
      await assertTicking(le, 'b', vm);
      const written = await lastRecord(le, 'b', vm);
      await le.engine.call('vms.destroy', { host: 'b', name: vm });
      expect(written).toBeGreaterThan(5);
      expect(await badRecords(le, 'b', b.linkPath, written)).toEqual([]);
    });
  });
});

describe('a block device both hosts share', () => {
  it('is proven the same device, and live migration moves only memory', async () => {
    await allowingOneGuestPanic(le.engine, 'a', async () => {
      const shared = await createLabSharedBlockDevice(le, uniqueName('blk-sh'), 64);
      cleanups.push(() => removeLabSharedBlockDevice(le, shared));
      expect(shared.a.loopDevice).not.toBe(shared.b.loopDevice);
      const vm = uniqueName('blk-live');
      await defineGuest('a', vm, shared.a.linkPath, true);
      const modes = await le.engine.call('migrations.modes', { vm, from: 'a', to: 'b' });
      expect(modes.find((mode) => mode.mode === 'live')).toMatchObject({ possible: true, recommended: true });
      const record = await migrate({ vm, from: 'a', to: 'b', mode: 'live', probe: 'serial' });
      const report = reportOf(record);
      expect(report.error).toBeNull();
      expect(report.disks).toEqual([]);
      await assertTicking(le, 'b', vm);
      const written = await lastRecord(le, 'b', vm);
      await le.engine.call('vms.destroy', { host: 'b', name: vm });
      expect(await badRecords(le, 'b', shared.b.linkPath, written)).toEqual([]);
    });
  });
});

describe('device and image file, offline', () => {
  /** Writes a pattern at 1 MiB on `path` on host a and returns how to check it elsewhere. */
  const PATTERN = "write -P 0x5a 1M 8M";

  it('device → image file: the file on the destination holds the device\'s data; the VM uses the file there', async () => {
    const { a } = await devicePair({ a: 32, b: 32 });
    const vm = uniqueName('blk-d2f');
    const file = `${LOCAL_DIR}/${vm}.raw`;
    cleanups.push(() => le.sh('b', `rm -f ${file}`).then(() => undefined));
    await le.sh('a', `qemu-io -f raw -c '${PATTERN}' ${a.linkPath} >/dev/null`);
    await defineGuest('a', vm, a.linkPath, false);
    const record = await migrate({ vm, from: 'a', to: 'b', mode: 'offline', noStart: true, diskTargets: { [a.linkPath]: file } });
    expect(reportOf(record).error).toBeNull();
    const there = await le.engine.call('vms.info', { host: 'b', name: vm });
    expect(there.definition?.disks[0]).toMatchObject({ path: file, format: 'raw' });
    expect(there.definition?.disks[0]?.blockDevice).toBeUndefined();
    expect(await le.sh('b', `qemu-io -f raw -c 'read -P 0x5a 1M 8M' -c 'read -P 0 0 1M' ${file}`)).not.toMatch(/Pattern verification failed/);
    // Zeroes were not written out as data: the file stays sparse.
    expect(Number(await le.sh('b', `du -B1 ${file} | cut -f1`))).toBeLessThan(16 * MIB);
  });

  it('image file (qcow2) → device: the device holds the guest\'s data raw; the VM uses the device there', async () => {
    const target = await device('b', 32);
    const vm = uniqueName('blk-f2d');
    const file = `${LOCAL_DIR}/${vm}.qcow2`;
    cleanups.push(() => le.sh('a', `rm -f ${file}`).then(() => undefined));
    await le.sh('a', `qemu-img create -q -f qcow2 ${file} 32M && qemu-io -f qcow2 -c '${PATTERN}' ${file} >/dev/null`);
    await defineGuest('a', vm, file, false);
    const record = await migrate({ vm, from: 'a', to: 'b', mode: 'offline', noStart: true, diskTargets: { [file]: target.linkPath } });
    expect(reportOf(record).error).toBeNull();
    const there = await le.engine.call('vms.info', { host: 'b', name: vm });
    expect(there.definition?.disks[0]).toMatchObject({ path: target.linkPath, format: 'raw', blockDevice: true });
    expect(await le.sh('b', `qemu-io -f raw -c 'read -P 0x5a 1M 8M' ${target.linkPath}`)).not.toMatch(/Pattern verification failed/);
  });
});

describe('destination device safety', () => {
  let source: LabBlockDevice;
  let vm: string;
  const check = (target: LabBlockDevice, overwriteDevices: string[] = []) =>
    le.engine.call('migrations.check', { vm, from: 'a', to: 'b', mode: 'offline', diskTargets: { [source.linkPath]: target.linkPath }, overwriteDevices, noStart: true });

  beforeAll(async () => {
    source = await device('a', 32);
    vm = uniqueName('blk-safe');
    await le.sh('a', `qemu-io -f raw -c 'write -P 0x33 0 4M' ${source.linkPath} >/dev/null`);
    await defineGuest('a', vm, source.linkPath, false);
  });

  it('refuses a device that is too small, untouched', async () => {
    const small = await device('b', 16);
    const before = await deviceDigest(small);
    const report = await check(small);
    expect(report.ok).toBe(false);
    expect(errors(report).map((item) => item.message)).toContain(`${small.linkPath} on b (${small.loopDevice}) has 16 MiB; ${source.linkPath} needs 32 MiB.`);
    expect(await deviceDigest(small)).toBe(before);
  });

  it('refuses a device that does not exist: Ferry never creates one', async () => {
    const report = await le.engine.call('migrations.check', { vm, from: 'a', to: 'b', mode: 'offline', diskTargets: { [source.linkPath]: '/dev/blk-no-such-device' }, noStart: true });
    expect(errors(report).some((item) => /\/dev\/blk-no-such-device on b does not exist.*never creates or partitions/.test(item.message))).toBe(true);
  });

  it('refuses a mounted device, naming where it is mounted, untouched', async () => {
    const mounted = await device('b', 32);
    // Read-only: a mounted ext4 writes to its device by itself (lazy inode-table init, the journal),
    // and the digest must only change if Ferry wrote.
    await le.sh('b', `mkfs.ext4 -q ${mounted.linkPath} && mkdir -p /tmp/${vm}-mnt && mount -o ro ${mounted.loopDevice} /tmp/${vm}-mnt`);
    cleanups.push(() => le.sh('b', `umount /tmp/${vm}-mnt; rmdir /tmp/${vm}-mnt; true`).then(() => undefined));
    const before = await deviceDigest(mounted);
    const report = await check(mounted, [mounted.linkPath]);
    expect(report.ok).toBe(false);
    const mountedItem = errors(report).find((item) => item.check === 'device');
    expect(mountedItem?.message).toBe(`${mounted.linkPath} on b (${mounted.loopDevice}) is mounted (/tmp/${vm}-mnt).`);
    expect(mountedItem?.hint).toMatch(/Unmount it there/);
    expect(await deviceDigest(mounted)).toBe(before);
  });

  it('refuses a device a process holds open, naming the process, untouched', async () => {
    const held = await device('b', 32);
    const fd = openSync(held.loopDevice, 'r');
    let holder: ChildProcess | undefined;
    try {
      holder = spawn('sleep', ['300'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
      const pid = holder.pid;
      cleanups.push(async () => void holder?.kill());
      const before = await deviceDigest(held);
      const report = await check(held);
      // This test process opened it to hand it on, so node is named too.
      const openItem = errors(report).find((item) => item.message.startsWith(`${held.linkPath} on b (${held.loopDevice}) is open by `));
      expect(openItem?.message, JSON.stringify(report.items)).toContain(`${pid} (sleep)`);
      expect(openItem?.hint).toMatch(/Stop what uses it there/);
      expect(await deviceDigest(held)).toBe(before);
    } finally {
      holder?.kill();
      closeSync(fd);
    }
  });

  it('refuses a device with a filesystem signature untouched, and --overwrite-device lets exactly that device through', async () => {
    const formatted = await device('b', 32);
    await le.sh('b', `mkfs.ext4 -q ${formatted.linkPath}`);
    const before = await deviceDigest(formatted);
    const report = await check(formatted);
    const signature = errors(report).find((item) => /signature/.test(item.message));
    expect(signature?.message).toBe(`${formatted.linkPath} on b (${formatted.loopDevice}) carries a filesystem signature (ext4) (found by blkid -p).`);
    expect(signature?.hint).toContain(`--overwrite-device ${formatted.linkPath}`);
    expect(await deviceDigest(formatted)).toBe(before);

    // The same through the command line, allowed this time; then the migration writes it.
    const env = { ...process.env, FERRY_HOME: le.home };
    const args = ['migrate', vm, '--from', 'a', '--to', 'b', '--mode', 'offline', '--no-start', '--disk-target', `${source.linkPath}=${formatted.linkPath}`, '--overwrite-device', formatted.linkPath];
    const checked = await runFerry(env, [...args, '--check']);
    expect(checked.code, checked.stderr + checked.stdout).toBe(0);
    expect(checked.stdout).toContain(`${formatted.linkPath} on b (${formatted.loopDevice}) carries a filesystem signature (ext4); it will be overwritten, as allowed.`);
    const moved = await runFerry(env, args);
    expect(moved.code, moved.stderr + moved.stdout).toBe(0);
    expect(await le.sh('b', `qemu-io -f raw -c 'read -P 0x33 0 4M' ${formatted.linkPath}`)).not.toMatch(/Pattern verification failed/);
    expect((await le.engine.call('vms.info', { host: 'b', name: vm })).definition?.disks[0]).toMatchObject({ path: formatted.linkPath, blockDevice: true });
  });
});
