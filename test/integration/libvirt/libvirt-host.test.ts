import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInventory } from '../../../src-main/core/api/types.js';
import { shellCommand } from '../../../src-main/core/ssh/shell.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { run } from '../../lab/exec.js';
import { readHeartbeats } from '../../lab/guest.js';
import { ensureLibvirtd, labDomainXml, virsh, virshWithXml } from '../../lab/libvirt.js';
import { waitFor } from '../migration/guest.js';

/** Lab host a saved a second time, as a libvirt host, beside the engine's Ferry-managed 'a'. */
const LV = 'lva';
const tag = `${process.pid}-${Date.now().toString(36)}`;
const domain = `lv-core-${tag}`;
const pool = `lv-core-pool-${tag}`;
const poolDir = `/var/lib/libvirt/images/${pool}`;
const serialLog = `/var/lib/libvirt/${domain}.serial.log`;

let le: LabEngine;
const hostA = () => le.labHost('a');

async function heartbeats(): Promise<number> {
  const { text } = await le.engine.call('vms.serial', { host: LV, name: domain, tailBytes: 65_536 });
  return Math.max(0, ...readHeartbeats(text));
}

async function labState(): Promise<string> {
  return (await virsh(hostA(), ['domstate', domain])).stdout.trim();
}

describe('a libvirt host: its domains, their lifecycle, pools and volumes through virsh over Ferry\'s connection', () => {
  beforeAll(async () => {
    le = await labEngine();
    await ensureLibvirtd(le.lab, hostA());
    const a = hostA();
    await le.engine.call('hosts.add', { transport: 'ssh', name: LV, address: a.address, port: a.port, user: a.user, identityFile: a.identityFile, useAgent: false, hypervisor: 'libvirt' });
    await virshWithXml(a, 'define', labDomainXml({
      name: domain, memoryMiB: 128, accel: le.lab.guest.accel, kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd, append: 'console=ttyS0 quiet', serialLog,
    }));
    await le.sh('a', shellCommand(['mkdir', '-p', poolDir]));
    await virsh(a, ['pool-define-as', pool, 'dir', '--target', poolDir]);
    await virsh(a, ['pool-start', pool]);
  });

  afterAll(async () => {
    if (!le) return;
    const a = hostA();
    await virsh(a, ['destroy', domain], true);
    await virsh(a, ['undefine', domain], true);
    await virsh(a, ['pool-destroy', pool], true);
    await virsh(a, ['pool-undefine', pool], true);
    await le.sh('a', shellCommand(['rm', '-rf', '--', poolDir, serialLog])).catch(() => undefined);
    await le.engine.close();
  });

  it('is saved as a libvirt host, says so, and its check has virsh and libvirtd', async () => {
    const hosts = await le.engine.call('hosts.list', {});
    expect(hosts.find((host) => host.name === LV)).toMatchObject({ hypervisor: 'libvirt', state: 'connected', uri: `qemu+ssh://root@${hostA().address}/system` });
    expect(hosts.find((host) => host.name === 'a')?.hypervisor).toBe('ferry');
    const check = await le.engine.call('hosts.check', { host: LV });
    expect(check.items.find((item) => item.check === 'virsh')).toMatchObject({ level: 'ok' });
    expect(check.items.find((item) => item.check === 'libvirtd')).toMatchObject({ level: 'ok', message: expect.stringContaining('QEMU 7.') });
    // The Ferry-managed entry of the same machine gets no libvirt items.
    expect((await le.engine.call('hosts.check', { host: 'a' })).items.some((item) => item.check === 'libvirtd')).toBe(false);
  });

  it('lists the domain shut off with its memory and vCPUs, and reads its details from the domain XML', async () => {
    const listed = (await le.engine.call('vms.list', { host: LV })).find((vm) => vm.name === domain);
    expect(listed).toEqual({ name: domain, host: LV, state: 'shutoff', memoryMiB: 128, vcpus: 1, defined: true, managedBy: 'libvirt' });
    // The Ferry-managed view of the same machine does not show libvirt's domains as its own.
    expect((await le.engine.call('vms.list', { host: 'a' })).some((vm) => vm.name === domain)).toBe(false);
    const details = await le.engine.call('vms.info', { host: LV, name: domain });
    expect(details).toMatchObject({ state: 'shutoff', managedBy: 'libvirt', serialLog, definition: { machineType: expect.stringMatching(/^pc-q35-/), cpuModel: 'qemu64', firmware: 'bios', disks: [] } });
    expect(details.libvirt).toMatchObject({ autostart: false, persistent: true, id: null, serialFile: serialLog, cpuMode: 'custom', stateText: expect.stringMatching(/^shut off/) });
    expect(details.libvirt?.uuid).toBe((await virsh(hostA(), ['domuuid', domain])).stdout.trim());
  });

  it('starts, pauses, resumes, shuts down and forces off the domain, each state as libvirt has it, the guest alive while it runs', async () => {
    expect((await le.engine.call('vms.start', { host: LV, name: domain })).state).toBe('running');
    expect(await labState()).toBe('running');
    await waitFor(async () => (await heartbeats()) >= 2, 120_000, 'heartbeats of the libvirt guest');

    expect((await le.engine.call('vms.pause', { host: LV, name: domain })).state).toBe('paused');
    expect(await labState()).toBe('paused');
    expect((await le.engine.call('vms.list', { host: LV })).find((vm) => vm.name === domain)?.state).toBe('paused');

    expect((await le.engine.call('vms.resume', { host: LV, name: domain })).state).toBe('running');
    const resumedAt = await heartbeats();
    await waitFor(async () => (await heartbeats()) >= resumedAt + 2, 60_000, 'heartbeats after resume');

    // The lab guest has no ACPI daemon: after the wait it is forced off, as Ferry does for its own VMs.
    const stopped = await le.engine.call('vms.shutdown', { host: LV, name: domain, timeoutMs: 2_000 });
    expect(stopped.state).toBe('shutoff');
    expect(await labState()).toBe('shut off');

    await le.engine.call('vms.start', { host: LV, name: domain });
    const destroyed = await le.engine.call('vms.destroy', { host: LV, name: domain });
    expect(destroyed).toMatchObject({ state: 'shutoff', qemuStatus: 'shut off (destroyed)' });
    await expect(le.engine.call('vms.destroy', { host: LV, name: domain })).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining('libvirt:') });
  });

  it('sets and clears the autostart flag, and refuses hardware changes with what to use instead', async () => {
    const autostarted = await le.engine.call('vms.update', { host: LV, name: domain, autostart: true });
    expect([autostarted.libvirt?.autostart, autostarted.definition?.autostart]).toEqual([true, true]);
    expect((await virsh(hostA(), ['dominfo', domain])).stdout).toMatch(/Autostart:\s+enable/);
    expect((await le.engine.call('vms.update', { host: LV, name: domain, autostart: false })).libvirt?.autostart).toBe(false);
    expect((await virsh(hostA(), ['dominfo', domain])).stdout).toMatch(/Autostart:\s+disable/);
    await expect(le.engine.call('vms.update', { host: LV, name: domain, memoryMiB: 256 })).rejects.toMatchObject({ code: 'unsupported', hint: expect.stringContaining(`virsh edit ${domain}`) });
    await expect(le.engine.call('consoles.open', { host: LV, name: domain, kind: 'vnc' })).rejects.toMatchObject({ code: 'unsupported', hint: expect.stringContaining('virsh console') });
    await expect(le.engine.call('vms.info', { host: LV, name: 'lv-core-none' })).rejects.toMatchObject({ code: 'not-found', message: "libvirt: failed to get domain 'lv-core-none'" });
  });

  it('lists libvirt\'s pools with sizes and creates qcow2 and raw volumes that libvirt and qemu-img see', async () => {
    const listed = (await le.engine.call('pools.list', { host: LV })).find((entry) => entry.name === pool);
    expect(listed).toMatchObject({ managedBy: 'libvirt', libvirtType: 'dir', type: 'dir', path: poolDir, active: true, autostart: false });
    expect(listed?.capacityBytes).toBeGreaterThan(0);
    const qcow2 = await le.engine.call('volumes.create', { host: LV, pool, name: 'disk0.qcow2', capacity: '64M', format: 'qcow2' });
    expect(qcow2).toMatchObject({ name: 'disk0.qcow2', pool, path: `${poolDir}/disk0.qcow2`, format: 'qcow2', virtualSizeBytes: 64 * 1024 * 1024 });
    const raw = await le.engine.call('volumes.create', { host: LV, pool, name: 'disk1.raw', capacity: 8 * 1024 * 1024, format: 'raw' });
    expect(raw).toMatchObject({ format: 'raw', virtualSizeBytes: 8 * 1024 * 1024 });
    const info = JSON.parse(await le.sh('a', shellCommand(['qemu-img', 'info', '--output=json', `${poolDir}/disk0.qcow2`]))) as { format: string; 'virtual-size': number };
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 64 * 1024 * 1024 });
    expect((await le.engine.call('volumes.list', { host: LV, pool })).map((volume) => volume.name)).toEqual(['disk0.qcow2', 'disk1.raw']);
    expect((await virsh(hostA(), ['vol-list', pool])).stdout).toContain('disk1.raw');
    await expect(le.engine.call('volumes.create', { host: LV, pool, name: 'disk0.qcow2', capacity: '1M' })).rejects.toMatchObject({ code: 'already-exists' });
    await expect(le.engine.call('pools.define', { host: LV, pool: 'lv-core-x', type: 'dir', path: '/var/lib/libvirt/images/x' })).rejects.toMatchObject({ code: 'unsupported', hint: expect.stringContaining('virsh pool-define-as') });
  });

  it('keeps the live inventory of the libvirt host: its domains and pools, and a started domain turns running there', async () => {
    const inventories: HostInventory[] = [];
    const stop = le.engine.onEvent((event) => {
      if (event.name === 'inventory' && event.payload.host === LV && event.payload.inventory) inventories.push(event.payload.inventory);
    });
    try {
      await le.engine.call('inventory.subscribe', {});
      const latest = () => inventories[inventories.length - 1];
      await waitFor(async () => latest()?.vms?.some((vm) => vm.name === domain) === true && latest()?.volumes[pool] !== undefined, 30_000, 'the libvirt host in the inventory');
      expect(latest()?.pools?.find((entry) => entry.name === pool)?.managedBy).toBe('libvirt');
      expect(latest()?.volumes[pool]?.map((volume) => volume.name)).toEqual(['disk0.qcow2', 'disk1.raw']);
      await virsh(hostA(), ['start', domain]);
      await waitFor(async () => latest()?.vms?.find((vm) => vm.name === domain)?.state === 'running', 15_000, 'the domain started outside Ferry turning running in the inventory');
      await virsh(hostA(), ['destroy', domain]);
      await waitFor(async () => latest()?.vms?.find((vm) => vm.name === domain)?.state === 'shutoff', 15_000, 'the domain turning shut off in the inventory');
    } finally {
      stop();
    }
  });

  it('undefines the shut-off domain (refused while it runs)', async () => {
    await le.engine.call('vms.start', { host: LV, name: domain });
    await expect(le.engine.call('vms.undefine', { host: LV, name: domain })).rejects.toMatchObject({ code: 'busy' });
    await le.engine.call('vms.destroy', { host: LV, name: domain });
    expect(await le.engine.call('vms.undefine', { host: LV, name: domain })).toEqual({ undefined: domain });
    expect((await virsh(hostA(), ['list', '--all', '--name'])).stdout).not.toContain(domain);
  });

  it('refuses to save a libvirt host whose libvirtd does not answer, saying how to start it', async () => {
    // This machine itself has virsh (the lab uses it) but runs no libvirtd of its own: each lab host's is private to it.
    expect((await run('virsh', ['-c', 'qemu:///system', 'version'], { allowFail: true })).code).not.toBe(0);
    await expect(le.engine.call('hosts.add', { transport: 'local', name: 'lv-core-here', hypervisor: 'libvirt' })).rejects.toMatchObject({
      code: 'connection-failed',
      message: expect.stringContaining('libvirtd does not answer'),
      hint: expect.stringContaining('systemctl start libvirtd'),
    });
    expect((await le.engine.call('hosts.list', {})).some((host) => host.name === 'lv-core-here')).toBe(false);
    // Saved earlier (here: written into hosts.json by hand), connecting to it gives the same refusal.
    const hostsFile = join(le.home, 'hosts.json');
    const saved = JSON.parse(readFileSync(hostsFile, 'utf8')) as { version: 1; hosts: unknown[] };
    writeFileSync(hostsFile, JSON.stringify({ ...saved, hosts: [...saved.hosts, { transport: 'local', name: 'lv-core-here', autoconnect: false, hypervisor: 'libvirt' }] }));
    await expect(le.engine.call('hosts.connect', { name: 'lv-core-here' })).rejects.toMatchObject({ code: 'connection-failed', hint: expect.stringContaining('systemctl start libvirtd') });
    expect((await le.engine.call('hosts.connect', { name: LV })).hypervisor).toBe('libvirt');
  });
});
