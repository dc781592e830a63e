import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellCommand } from '../../src-main/core/ssh/shell.js';
import { requireLab } from '../support/lab-engine.js';
import { sleep } from './exec.js';
import { readHeartbeats } from './guest.js';
import { hostLayout } from './layout.js';
import { ensureLibvirtd, labDomainXml, libvirtdPid, libvirtStateDir, libvirtUri, stopLibvirtd, virsh, virshWithXml } from './libvirt.js';
import { sshRun } from './ssh.js';
import type { LabHost, LabStatus } from './types.js';

let lab: LabStatus;
const hostA = (): LabHost => lab.hosts[0] as LabHost;
const hostB = (): LabHost => lab.hosts[1] as LabHost;
const tag = `${process.pid}-${Date.now().toString(36)}`;
const definedName = `lv-def-${tag}`;
const runningName = `lv-run-${tag}`;
const movedName = `lv-mig-${tag}`;

async function domainNames(host: LabHost): Promise<string[]> {
  return (await virsh(host, ['list', '--all', '--name'])).stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

function hostUuidOf(capabilitiesXml: string): string {
  const uuid = /<host>\s*<uuid>([0-9a-f-]{36})<\/uuid>/.exec(capabilitiesXml)?.[1];
  if (!uuid) throw new Error(`no host UUID in capabilities:\n${capabilitiesXml.slice(0, 300)}`);
  return uuid;
}

async function waitForHeartbeats(fileOnMachine: string, atLeast: number): Promise<number[]> {
  const deadline = Date.now() + 150_000;
  let beats: number[] = [];
  while (Date.now() < deadline) {
    beats = existsSync(fileOnMachine) ? readHeartbeats(readFileSync(fileOnMachine, 'utf8')) : [];
    if (beats.length >= atLeast) break;
    await sleep(500);
  }
  return beats;
}

async function forget(host: LabHost, name: string): Promise<void> {
  await virsh(host, ['destroy', name], true);
  await virsh(host, ['undefine', name], true);
}

describe('libvirtd in the lab hosts', () => {
  beforeAll(async () => {
    lab = requireLab();
    await ensureLibvirtd(lab, hostA());
    await ensureLibvirtd(lab, hostB());
  });

  afterAll(async () => {
    if (!lab) return;
    for (const host of [hostA(), hostB()]) {
      if (libvirtdPid(host) === undefined) continue;
      for (const name of [definedName, runningName, movedName]) await forget(host, name);
      await sshRun(lab, host, shellCommand(['rm', '-f', `/var/lib/libvirt/${movedName}.qcow2`, `/var/lib/libvirt/${movedName}.serial.log`]), { allowFail: true });
    }
  });

  it('answers virsh over TCP on each host, from the machine and from the other host', async () => {
    for (const host of [hostA(), hostB()]) {
      const local = await virsh(host, ['version']);
      expect(local.stdout).toMatch(/Running hypervisor: QEMU 7\./);
    }
    // Each daemon has a host UUID of its own (libvirt refuses to migrate to its own UUID), which
    // also tells whose daemon answered across the bridge.
    const [uuidA, uuidB] = [hostUuidOf((await virsh(hostA(), ['capabilities'])).stdout), hostUuidOf((await virsh(hostB(), ['capabilities'])).stdout)];
    expect(uuidA).not.toBe(uuidB);
    const fromB = await sshRun(lab, hostB(), shellCommand(['virsh', '-c', libvirtUri(hostA()), 'capabilities']));
    expect(hostUuidOf(fromB.stdout)).toBe(uuidA);
    const fromA = await sshRun(lab, hostA(), shellCommand(['virsh', '-c', libvirtUri(hostB()), 'capabilities']));
    expect(hostUuidOf(fromA.stdout)).toBe(uuidB);
  });

  it('keeps each host private: a domain defined on a is unknown on b and to the machine', async () => {
    const xml = labDomainXml({
      name: definedName, memoryMiB: 128, accel: lab.guest.accel, kernel: lab.guest.kernel, initrd: lab.guest.initrd,
      append: 'console=ttyS0 quiet', serialLog: `/var/lib/libvirt/${definedName}.serial.log`,
    });
    await virshWithXml(hostA(), 'define', xml);
    expect(await domainNames(hostA())).toContain(definedName);
    expect(await domainNames(hostB())).not.toContain(definedName);
    // Its definition lands in a's own /etc/libvirt copy, not in the machine's.
    expect(existsSync(join(libvirtStateDir(hostLayout(0, lab.labDir)), 'etc', 'qemu', `${definedName}.xml`))).toBe(true);
    expect(existsSync(`/etc/libvirt/qemu/${definedName}.xml`)).toBe(false);
    await virsh(hostA(), ['undefine', definedName]);
    expect(await domainNames(hostA())).not.toContain(definedName);
  });

  it('runs the lab guest (kernel + initrd, 128 MiB, serial to a file) and destroys it', async () => {
    const serialLog = `/var/lib/libvirt/${runningName}.serial.log`;
    const xml = labDomainXml({
      name: runningName, memoryMiB: 128, accel: lab.guest.accel, kernel: lab.guest.kernel, initrd: lab.guest.initrd,
      append: 'console=ttyS0 quiet ferry.dirty_mib=0', serialLog,
    });
    await virshWithXml(hostA(), 'create', xml);
    expect((await virsh(hostA(), ['domstate', runningName])).stdout.trim()).toBe('running');
    // The serial log is in a's private /var/lib/libvirt, which is this directory on the machine.
    const logOnMachine = join(libvirtStateDir(hostLayout(0, lab.labDir)), 'lib', `${runningName}.serial.log`);
    const beats = await waitForHeartbeats(logOnMachine, 2);
    expect(beats.length).toBeGreaterThanOrEqual(2);
    await virsh(hostA(), ['destroy', runningName]);
    // A transient domain is gone once destroyed.
    expect(await domainNames(hostA())).not.toContain(runningName);
    await sshRun(lab, hostA(), shellCommand(['rm', '-f', serialLog, `/var/log/libvirt/qemu/${runningName}.log`]));
  });

  it('live-migrates a guest with its local disk from a to b (virsh migrate --copy-storage-all)', async () => {
    const [a, b] = [hostA(), hostB()];
    const disk = `/var/lib/libvirt/${movedName}.qcow2`;
    const serialLog = `/var/lib/libvirt/${movedName}.serial.log`;
    // libvirt copies into an image that must already exist on the destination.
    for (const host of [a, b]) await sshRun(lab, host, shellCommand(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '64M']));
    await virshWithXml(a, 'create', labDomainXml({
      name: movedName, memoryMiB: 128, accel: lab.guest.accel, kernel: lab.guest.kernel, initrd: lab.guest.initrd,
      append: 'console=ttyS0 quiet ferry.dirty_mib=0', serialLog, disk,
    }));
    expect((await waitForHeartbeats(join(libvirtStateDir(hostLayout(0, lab.labDir)), 'lib', `${movedName}.serial.log`), 2)).length).toBeGreaterThanOrEqual(2);
    await virsh(a, ['migrate', '--live', '--copy-storage-all', movedName, libvirtUri(b)], false, 150_000);
    expect(await domainNames(a)).not.toContain(movedName);
    expect((await virsh(b, ['domstate', movedName])).stdout.trim()).toBe('running');
    // The guest goes on beating on b, into b's own copy of the serial log.
    const onB = join(libvirtStateDir(hostLayout(1, lab.labDir)), 'lib', `${movedName}.serial.log`);
    const before = readHeartbeats(existsSync(onB) ? readFileSync(onB, 'utf8') : '').length;
    expect((await waitForHeartbeats(onB, before + 2)).length).toBeGreaterThanOrEqual(before + 2);
    await virsh(b, ['destroy', movedName]);
    for (const host of [a, b]) await sshRun(lab, host, shellCommand(['rm', '-f', disk, serialLog, `/var/log/libvirt/qemu/${movedName}.log`]));
  });

  it('stops and starts again on demand, keeping the host state it had', async () => {
    const b = hostB();
    const xml = labDomainXml({
      name: definedName, memoryMiB: 128, accel: lab.guest.accel, kernel: lab.guest.kernel, initrd: lab.guest.initrd,
      append: 'console=ttyS0 quiet', serialLog: `/var/lib/libvirt/${definedName}.serial.log`,
    });
    await virshWithXml(b, 'define', xml);
    await stopLibvirtd(lab, b);
    expect(libvirtdPid(b)).toBeUndefined();
    expect((await virsh(b, ['version'], true)).code).not.toBe(0);
    // Unmounted: the host sees the machine's /etc/libvirt again, which holds no lab domain.
    const etc = await sshRun(lab, b, shellCommand(['ls', '-a', '/etc/libvirt']));
    expect(etc.stdout).not.toContain('.ferry-lab-libvirt');
    await ensureLibvirtd(lab, b);
    expect(libvirtdPid(b)).toBeDefined();
    expect(await domainNames(b)).toContain(definedName);
    await virsh(b, ['undefine', definedName]);
  });
});
