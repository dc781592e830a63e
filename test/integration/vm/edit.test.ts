import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { rejection } from '../../support/rejection.js';
import { LOCAL_DIR, heartbeats, removeGuest, uniqueName, waitFor } from '../migration/guest.js';

// vms.update on the real lab: refused while the VM runs, applied to a stopped one, and the next
// start really gets the new memory, CPUs, CD-ROM and boot order.
let le: LabEngine;
const vm = uniqueName('hw-edit');
const diskPath = `${LOCAL_DIR}/${vm}.qcow2`;
const isoPath = `${LOCAL_DIR}/${vm}.iso`;

beforeAll(async () => {
  le = await labEngine();
  await le.sh('a', `mkdir -p ${LOCAL_DIR} && qemu-img create -q -f qcow2 ${diskPath} 64M && head -c 1048576 /dev/zero > ${isoPath}`);
  await le.engine.call('vms.define', {
    host: 'a',
    name: vm,
    memoryMiB: 128,
    vcpus: 1,
    accel: 'tcg',
    disks: [{ path: diskPath }],
    nic: 'virtio-net-pci',
    kernel: le.lab.guest.kernel,
    initrd: le.lab.guest.initrd,
    append: 'console=ttyS0 quiet ferry.dirty_mib=0',
  });
});

afterAll(async () => {
  await removeGuest(le, vm, [diskPath, isoPath]);
  await le.engine.close();
});

const cmdline = async (pid: number) => le.sh('a', `tr '\\0' ' ' < /proc/${pid}/cmdline`);

describe('vms.update', () => {
  it('refuses to change a running VM, and says to shut it down first', async () => {
    await le.engine.call('vms.start', { host: 'a', name: vm });
    const error = await rejection(le.engine.call('vms.update', { host: 'a', name: vm, memoryMiB: 256 }));
    expect(error.code).toBe('busy');
    expect(error.message).toContain('running');
    expect(error.hint).toContain('Shut it down');
    expect((await le.engine.call('vms.info', { host: 'a', name: vm })).memoryMiB).toBe(128);
    await le.engine.call('vms.destroy', { host: 'a', name: vm });
  });

  it('changes a stopped VM, keeps the MAC of a kept NIC, and the next start uses the new hardware', async () => {
    const before = await le.engine.call('vms.info', { host: 'a', name: vm });
    const mac = before.definition?.nics?.[0]?.mac;
    expect(mac).toMatch(/^52:54:00:/);
    const updated = await le.engine.call('vms.update', {
      host: 'a',
      name: vm,
      memoryMiB: 192,
      vcpus: 2,
      cpuModel: 'Nehalem-v1',
      nics: [{ model: 'virtio-net-pci', mac, network: { type: 'user' } }, { model: 'e1000', network: { type: 'user' } }],
      cdrom: isoPath,
      boot: ['disk', 'cdrom'],
      autostart: true,
    });
    expect(updated.memoryMiB).toBe(192);
    expect(updated.vcpus).toBe(2);
    expect(updated.definition?.nics?.map((nic) => nic.mac)[0]).toBe(mac);
    expect(updated.definition?.nics).toHaveLength(2);
    expect(updated.definition).toMatchObject({ cdrom: isoPath, boot: ['disk', 'cdrom'], autostart: true });

    const started = await le.engine.call('vms.start', { host: 'a', name: vm });
    const line = await cmdline(started.pid ?? 0);
    expect(line).toContain('-m 192M');
    expect(line).toContain('-smp 2');
    expect(line).toContain(`filename=${isoPath},read-only=on`);
    expect(line).toContain('ide-cd,drive=ferry-cdrom,id=ferry-cd0,bootindex=2');
    expect(line).toMatch(/id=ferry-vd0[^ ]*,bootindex=1/);
    await waitFor(async () => (await heartbeats(le, 'a', vm)).length >= 2, 60_000, `heartbeats from ${vm}`);
    await le.engine.call('vms.destroy', { host: 'a', name: vm });
  });

  it('ejects the ISO with null, and refuses an ISO that is not on the host', async () => {
    const ejected = await le.engine.call('vms.update', { host: 'a', name: vm, cdrom: null });
    expect(ejected.definition?.cdrom).toBeUndefined();
    const error = await rejection(le.engine.call('vms.update', { host: 'a', name: vm, cdrom: `${LOCAL_DIR}/${vm}-missing.iso` }));
    expect(error).toMatchObject({ code: 'not-found', message: expect.stringContaining('missing.iso') });
    expect(error.hint).toContain('Copy the ISO');
  });

  it('refuses a VM that does not exist', async () => {
    const error = await rejection(le.engine.call('vms.update', { host: 'a', name: `${vm}-none`, vcpus: 2 }));
    expect(error.code).toBe('not-found');
  });
});

describe('CPU models', () => {
  it('refuses host passthrough for a VM set to TCG, and says which named model to use', async () => {
    const error = await rejection(le.engine.call('vms.update', { host: 'a', name: vm, cpuModel: 'host' }));
    expect(error).toMatchObject({ code: 'unsupported', message: expect.stringContaining('needs KVM') });
    expect(error.hint).toContain('Nehalem-v1');
  });
});
