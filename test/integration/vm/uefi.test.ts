import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OVMF_CODE, uefiVarsPath } from '../../../src-main/core/vm/firmware.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { rejection } from '../../support/rejection.js';
import { SHARED_DIR, assertTicking, ensurePools, heartbeats, removeGuest, reportOf, uniqueName, waitFor } from '../migration/guest.js';

// UEFI on the real lab (OVMF installed on the lab hosts): the VM boots under OVMF with its own
// variable store, which a live migration recreates on the destination.
let le: LabEngine;
const vm = uniqueName('hw-uefi');
const diskPath = `${SHARED_DIR}/${vm}.qcow2`;
const exists = async (host: string, path: string) => (await le.sh(host, `[ -f ${path} ] && echo yes || echo no`)).trim() === 'yes';

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
  await le.sh('a', `qemu-img create -q -f qcow2 ${diskPath} 64M`);
});

afterAll(async () => {
  await removeGuest(le, vm, [diskPath]);
  for (const host of le.hostNames) await le.sh(host, `rm -f ${uefiVarsPath(vm)}`);
  await le.engine.close();
});

describe('UEFI firmware', () => {
  it('boots the guest under OVMF with its own variable store, and keeps running across a live migration', async () => {
    expect(await exists('a', OVMF_CODE)).toBe(true);
    await le.engine.call('vms.define', {
      host: 'a', name: vm, memoryMiB: 256, vcpus: 1, accel: 'tcg', disks: [{ path: diskPath }], firmware: 'uefi',
      kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd, append: 'console=ttyS0 quiet ferry.dirty_mib=0',
    });
    const started = await le.engine.call('vms.start', { host: 'a', name: vm });
    expect(started.definition?.firmware).toBe('uefi');
    expect(await exists('a', uefiVarsPath(vm))).toBe(true);
    expect(await le.sh('a', `tr '\\0' ' ' < /proc/${started.pid ?? 0}/cmdline`)).toContain(`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`);
    // OVMF under TCG takes a while before it hands over to the kernel.
    await waitFor(async () => (await heartbeats(le, 'a', vm)).length >= 3, 120_000, `heartbeats from ${vm} under OVMF`);

    const check = await le.engine.call('migrations.check', { vm, from: 'a', to: 'b', mode: 'offline' });
    expect(check.items).toContainEqual(expect.objectContaining({ level: 'warning', check: 'firmware' }));
    const begun = await le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'live', probe: 'serial' });
    const record = await le.engine.migrations.settled(begun.id);
    expect(reportOf(record).error).toBeNull();
    expect(await exists('b', uefiVarsPath(vm))).toBe(true);
    await assertTicking(le, 'b', vm);
    await le.engine.call('vms.destroy', { host: 'b', name: vm });
  });

  it('refuses UEFI where the host has no OVMF, before anything is written', async () => {
    await le.sh('a', `mount --bind /var/empty /usr/share/OVMF 2>/dev/null || { mkdir -p /var/empty && mount --bind /var/empty /usr/share/OVMF; }`);
    try {
      const error = await rejection(le.engine.call('vms.define', { host: 'a', name: `${vm}-x`, memoryMiB: 64, vcpus: 1, firmware: 'uefi' }));
      expect(error).toMatchObject({ code: 'unsupported', message: expect.stringContaining('no UEFI firmware') });
      expect(error.hint).toContain('apt install ovmf');
    } finally {
      await le.sh('a', 'umount /usr/share/OVMF');
    }
  });
});
