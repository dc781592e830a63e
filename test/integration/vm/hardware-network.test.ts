import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tapDeviceName } from '../../../src-main/core/vm/nic-names.js';
import { QEMU_SANDBOX } from '../../../src-main/core/vm/qemu-argv.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { rejection } from '../../support/rejection.js';
import { SHARED_DIR, assertTicking, ensurePools, heartbeats, removeGuest, reportOf, uniqueName, waitFor } from '../migration/guest.js';

// A VM with a NIC on a host bridge and one on user-mode networking, on the real lab: the tap is in
// the bridge while QEMU runs and gone when it is not, the MAC survives a live migration, QEMU runs
// under the seccomp sandbox on both hosts, and a missing bridge is refused before anything starts.
const BRIDGE = 'hwbr0';
let le: LabEngine;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  le = await labEngine();
  await ensurePools(le);
  for (const host of le.hostNames) await le.sh(host, `ip link del ${BRIDGE} 2>/dev/null; ip link add ${BRIDGE} type bridge && ip link set ${BRIDGE} up`);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const host of le.hostNames) await le.sh(host, `ip link del ${BRIDGE} 2>/dev/null; true`);
  await le.engine.close();
});

/** The interfaces enslaved to the bridge on a host. */
async function bridgePorts(host: string): Promise<string[]> {
  const out = await le.sh(host, `ls /sys/class/net/${BRIDGE}/brif 2>/dev/null; true`);
  return out.split('\n').map((line) => line.trim()).filter(Boolean);
}

const linkExists = async (host: string, name: string) => (await le.sh(host, `[ -e /sys/class/net/${name} ] && echo yes || echo no`)).trim() === 'yes';

/** QEMU's own command line and seccomp mode, read from /proc on the host. */
async function qemuProcess(host: string, pid: number): Promise<{ cmdline: string; seccomp: string }> {
  const cmdline = await le.sh(host, `tr '\\0' ' ' < /proc/${pid}/cmdline`);
  const seccomp = (await le.sh(host, `grep '^Seccomp:' /proc/${pid}/status`)).replace('Seccomp:', '').trim();
  return { cmdline, seccomp };
}

async function defineGuest(vm: string, diskPath: string): Promise<void> {
  await le.sh('a', `qemu-img create -q -f qcow2 ${diskPath} 64M`);
  await le.engine.call('vms.define', {
    host: 'a',
    name: vm,
    memoryMiB: 256,
    vcpus: 1,
    accel: 'tcg',
    disks: [{ path: diskPath }],
    nics: [{ network: { type: 'bridge', bridge: BRIDGE } }, { model: 'e1000', network: { type: 'user' } }],
    kernel: le.lab.guest.kernel,
    initrd: le.lab.guest.initrd,
    append: 'console=ttyS0 quiet ferry.dirty_mib=0',
  });
}

describe('bridge NICs', () => {
  it('puts the tap into the bridge while QEMU runs, keeps the MAC across a live migration, and removes the tap when QEMU is gone', async () => {
    const vm = uniqueName('hw-nic');
    const diskPath = `${SHARED_DIR}/${vm}.qcow2`;
    cleanups.push(() => removeGuest(le, vm, [diskPath]));
    await defineGuest(vm, diskPath);
    const tap = tapDeviceName(vm, 0);
    const defined = await le.engine.call('vms.info', { host: 'a', name: vm });
    const macs = defined.definition?.nics?.map((nic) => nic.mac) ?? [];
    expect(macs).toHaveLength(2);

    const started = await le.engine.call('vms.start', { host: 'a', name: vm });
    expect(started.state).toBe('running');
    expect(await bridgePorts('a')).toContain(tap);
    expect((await le.sh('a', `cat /sys/class/net/${tap}/operstate`)).trim()).not.toBe('down');
    const onA = await qemuProcess('a', started.pid ?? 0);
    expect(onA.cmdline).toContain(`-sandbox ${QEMU_SANDBOX}`);
    expect(onA.seccomp).toBe('2');
    expect(onA.cmdline).toContain(`mac=${macs[0]}`);
    await waitFor(async () => (await heartbeats(le, 'a', vm)).length >= 3, 60_000, `heartbeats from ${vm}`);

    const check = await le.engine.call('migrations.check', { vm, from: 'a', to: 'b', mode: 'live' });
    expect(check.items).toContainEqual(expect.objectContaining({ level: 'ok', check: 'bridge' }));
    const begun = await le.engine.call('migrations.start', { vm, from: 'a', to: 'b', mode: 'live', probe: 'serial' });
    const record = await le.engine.migrations.settled(begun.id);
    expect(reportOf(record).error).toBeNull();
    expect(reportOf(record).outcome).toBe('completed');

    const there = await le.engine.call('vms.info', { host: 'b', name: vm });
    expect(there.state).toBe('running');
    expect(there.definition?.nics?.map((nic) => nic.mac)).toEqual(macs);
    const onB = await qemuProcess('b', there.pid ?? 0);
    expect(onB.cmdline).toContain(`mac=${macs[0]}`);
    expect(onB.cmdline).toContain(`mac=${macs[1]}`);
    expect(onB.seccomp).toBe('2');
    expect(await bridgePorts('b')).toContain(tap);
    // The source QEMU has exited, and its tap went with it.
    expect(await linkExists('a', tap)).toBe(false);
    await assertTicking(le, 'b', vm);

    await le.engine.call('vms.destroy', { host: 'b', name: vm });
    expect(await linkExists('b', tap)).toBe(false);
    expect(await bridgePorts('b')).not.toContain(tap);
  });

  it('refuses to start, and pre-flight refuses to migrate to, a host without the bridge', async () => {
    const vm = uniqueName('hw-nobr');
    const diskPath = `${SHARED_DIR}/${vm}.qcow2`;
    cleanups.push(() => removeGuest(le, vm, [diskPath]));
    await defineGuest(vm, diskPath);
    await le.sh('b', `ip link del ${BRIDGE}`);
    try {
      const check = await le.engine.call('migrations.check', { vm, from: 'a', to: 'b', mode: 'offline' });
      const item = check.items.find((candidate) => candidate.check === 'bridge');
      expect(item).toMatchObject({ level: 'error', message: expect.stringContaining(BRIDGE) });
      expect(item?.hint).toContain(`ip link add ${BRIDGE} type bridge`);
      expect(check.ok).toBe(false);

      await le.sh('a', `ip link del ${BRIDGE}`);
      const error = await rejection(le.engine.call('vms.start', { host: 'a', name: vm }));
      expect(error).toMatchObject({ code: 'not-found', message: expect.stringContaining(BRIDGE) });
      expect((await le.engine.call('vms.info', { host: 'a', name: vm })).state).toBe('shutoff');
      expect(await linkExists('a', tapDeviceName(vm, 0))).toBe(false);
    } finally {
      for (const host of le.hostNames) await le.sh(host, `[ -e /sys/class/net/${BRIDGE} ] || { ip link add ${BRIDGE} type bridge && ip link set ${BRIDGE} up; }`);
    }
  });
});
