import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationMode } from '../../src-main/core/api/types.js';
import { labEngine, type LabEngine } from '../support/lab-engine.js';
import {
  LOCAL_DIR,
  SHARED_DIR,
  allowingOneGuestPanic,
  assertTicking,
  badRecords,
  ensurePools,
  heartbeats,
  lastRecord,
  processesOn,
  removeGuest,
  reportOf,
  startGuest,
  uniqueName,
} from '../integration/migration/guest.js';

// A rolling upgrade on the lab of the "upgrade" project: host a runs Debian's QEMU 7.2, host b
// QEMU 10.0 from backports. modes.test.ts runs every mode a → b (the upgrade direction) in the
// same project; this file checks what only a mixed pair has: the machine type stays pinned on the
// new QEMU, VMs with that type can go back 10.0 → 7.2, and a VM made on 10.0 is refused with why.
let le: LabEngine;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await le.engine.close();
});

async function migrate(vm: string, from: string, to: string, mode: MigrationMode, reuseImages = false) {
  const started = await le.engine.call('migrations.start', { vm, from, to, mode, probe: 'serial', reuseImages });
  return reportOf(await le.engine.migrations.settled(started.id));
}

/** The -machine value the VM's QEMU on `host` runs with, from its command line. */
function runningMachineType(host: string, vm: string): string | undefined {
  const [pid] = processesOn(le, host, `guest=${vm},`);
  if (pid === undefined) return undefined;
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return argv[argv.indexOf('-machine') + 1]?.split(',')[0];
}

/** The guest keeps ticking on `host` and every record it wrote is on its disk there. */
async function expectIntactOn(host: string, vm: string, diskPath: string): Promise<void> {
  await assertTicking(le, host, vm);
  const written = await lastRecord(le, host, vm);
  expect(written).toBeGreaterThan(5);
  expect(await badRecords(le, host, diskPath, written)).toEqual([]);
}

describe('a lab with QEMU 7.2 on a and 10.0 on b', () => {
  it('is what the hosts say, features read from each QEMU', async () => {
    const [a, b] = await Promise.all([le.engine.call('hosts.info', { host: 'a' }), le.engine.call('hosts.info', { host: 'b' })]);
    expect(a.qemuVersion).toMatch(/^7\.2\./);
    expect(b.qemuVersion).toMatch(/^10\.0\./);
    expect(a.qemuFeatures?.blockMigrationCapability).toBe(true);
    expect(b.qemuFeatures).toEqual({ postcopy: true, multifd: true, tls: true, blockExport: true, blockMigrationCapability: false });
    expect(b.machineTypes).toContain('pc-q35-7.2');
    expect(a.machineTypes).not.toContain('pc-q35-10.0');
  });
});

describe('upgrade and back', () => {
  it('block copy 7.2 → 10.0 keeps the machine type, and offline 10.0 → 7.2 brings the VM back', async () => {
    await allowingOneGuestPanic(le.engine, 'a', async () => {
      const vm = uniqueName('upg-local');
      const { diskPath } = await startGuest(le, { host: 'a', name: vm, directory: LOCAL_DIR, diskMiB: 64 });
      cleanups.push(() => removeGuest(le, vm, [diskPath]));
      expect(runningMachineType('a', vm)).toBe('pc-q35-7.2');

      expect(await migrate(vm, 'a', 'b', 'block')).toMatchObject({ outcome: 'completed', error: null });
      expect(runningMachineType('b', vm)).toBe('pc-q35-7.2');
      expect((await le.engine.call('vms.info', { host: 'b', name: vm })).definition?.machineType).toBe('pc-q35-7.2');
      await expectIntactOn('b', vm, diskPath);

      // The block copy left the source image on a (Ferry never deletes a source disk): write over it.
      expect(await migrate(vm, 'b', 'a', 'offline', true)).toMatchObject({ outcome: 'completed', error: null });
      expect(runningMachineType('a', vm)).toBe('pc-q35-7.2');
      await expectIntactOn('a', vm, diskPath);
    });
  });

  it('live over shared storage 7.2 → 10.0 and back 10.0 → 7.2, with a warning before going back', async () => {
    await allowingOneGuestPanic(le.engine, 'a', async () => {
      const vm = uniqueName('upg-shared');
      const { diskPath } = await startGuest(le, { host: 'a', name: vm, directory: SHARED_DIR, diskMiB: 64 });
      cleanups.push(() => removeGuest(le, vm, [diskPath]));
      expect(await migrate(vm, 'a', 'b', 'live')).toMatchObject({ outcome: 'completed', error: null });
      const ticksOnB = await heartbeats(le, 'b', vm);
      expect(ticksOnB.length).toBeGreaterThan(0);

      const back = await le.engine.call('migrations.check', { vm, from: 'b', to: 'a', mode: 'live' });
      expect(back.items.find((item) => item.check === 'qemu')).toMatchObject({ level: 'warning', message: expect.stringContaining('older QEMU (7.2') as string });
      expect(back.items.find((item) => item.check === 'machine')?.level).toBe('ok');
      expect(await migrate(vm, 'b', 'a', 'live')).toMatchObject({ outcome: 'completed', error: null });
      expect(runningMachineType('a', vm)).toBe('pc-q35-7.2');
      await expectIntactOn('a', vm, diskPath);
    });
  });

  it('refuses to take a VM made on 10.0 (its machine type is pc-q35-10.0) to 7.2, and says how to make VMs that can go back', async () => {
    const vm = uniqueName('upg-new');
    const diskPath = `${LOCAL_DIR}/${vm}.qcow2`;
    await le.sh('b', `qemu-img create -q -f qcow2 ${diskPath} 16M`);
    cleanups.push(() => removeGuest(le, vm, [diskPath]));
    await le.engine.call('vms.define', { host: 'b', name: vm, memoryMiB: 128, vcpus: 1, accel: 'tcg', disks: [{ path: diskPath }], kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd, append: 'console=ttyS0 quiet' });
    expect((await le.engine.call('vms.info', { host: 'b', name: vm })).definition?.machineType).toBe('pc-q35-10.0');
    for (const mode of ['offline', 'block'] as const) {
      const report = await le.engine.call('migrations.check', { vm, from: 'b', to: 'a', mode });
      const machine = report.items.find((item) => item.check === 'machine');
      expect(machine).toMatchObject({ level: 'error', message: 'QEMU 7.2.22 on a has no machine type pc-q35-10.0.'.replace('7.2.22', (await le.engine.call('hosts.info', { host: 'a' })).qemuVersion) });
      expect(machine?.hint).toContain('pc-q35-7.2');
      expect(machine?.hint).toContain('rolling upgrade');
    }
  });
});
