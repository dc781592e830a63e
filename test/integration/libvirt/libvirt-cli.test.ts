import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostCheckReport, HostSummary, VmSummary } from '../../../src-main/core/api/types.js';
import { runFerry } from '../../support/cli-runner.js';
import { requireLab } from '../../support/lab-engine.js';
import { ensureLibvirtd, labDomainXml, virsh, virshWithXml } from '../../lab/libvirt.js';
import type { LabHost, LabStatus } from '../../lab/types.js';

/** `ferry host add` of a libvirt host, by --libvirt and by URI, through the built CLI (`npx tsc -p tsconfig.main.json` first). */
let lab: LabStatus;
let scratch: string;
let env: NodeJS.ProcessEnv;
const domain = `lv-core-cli-${process.pid}-${Date.now().toString(36)}`;
const hostA = (): LabHost => lab.hosts[0] as LabHost;

const ferry = (...args: string[]) => runFerry(env, args);

describe('ferry host add for libvirt hosts', () => {
  beforeAll(async () => {
    lab = requireLab();
    await ensureLibvirtd(lab, hostA());
    await virshWithXml(hostA(), 'define', labDomainXml({
      name: domain, memoryMiB: 128, accel: lab.guest.accel, kernel: lab.guest.kernel, initrd: lab.guest.initrd, append: 'console=ttyS0', serialLog: `/var/lib/libvirt/${domain}.serial.log`,
    }));
    scratch = mkdtempSync(join(tmpdir(), 'ferry-lv-cli-'));
    const ferryHome = join(scratch, 'ferry-home');
    mkdirSync(ferryHome, { recursive: true });
    writeFileSync(join(ferryHome, 'known_hosts'), `${hostA().knownHostsLine}\n`, { mode: 0o600 });
    env = { PATH: process.env['PATH'], HOME: join(scratch, 'home'), FERRY_HOME: ferryHome, LANG: 'C.UTF-8' };
  });

  afterAll(async () => {
    if (lab) await virsh(hostA(), ['undefine', domain], true);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('adds a libvirt host from a qemu+ssh URI and with --libvirt; both say libvirt and list its domains', async () => {
    const a = hostA();
    const byUri = await ferry('host', 'add', 'lvu', `qemu+ssh://root@${a.address}/system`, '--identity', a.identityFile);
    expect(byUri.stderr).toBe('');
    expect(byUri.stdout).toContain(`Added lvu  qemu+ssh://root@${a.address}/system (libvirt)  connected`);
    const byFlag = await ferry('host', 'add', 'lvs', '--ssh', `root@${a.address}`, '--libvirt', '--identity', a.identityFile);
    expect(byFlag.stdout).toContain('(libvirt)');
    const hosts = JSON.parse((await ferry('--json', 'host', 'list')).stdout) as HostSummary[];
    expect(hosts.map((host) => [host.name, host.hypervisor])).toEqual([['lvu', 'libvirt'], ['lvs', 'libvirt']]);
    expect((await ferry('host', 'list')).stdout).toMatch(/lvu\s+qemu\+ssh:\S+\s+\S+\s+libvirt/);
    const vms = JSON.parse((await ferry('--json', 'vm', 'list', 'lvu')).stdout) as VmSummary[];
    expect(vms.find((vm) => vm.name === domain)).toMatchObject({ state: 'shutoff', managedBy: 'libvirt', memoryMiB: 128 });
    const check = JSON.parse((await ferry('--json', 'host', 'check', 'lvs')).stdout) as HostCheckReport;
    expect(check.items.find((item) => item.check === 'libvirtd')?.level).toBe('ok');
  });

  it('refuses a URI that is not qemu+ssh://…/system and a mix of --ssh and a URI, saying how to write it', async () => {
    const tcp = await ferry('host', 'add', 'lvt', `qemu+tcp://${hostA().address}/system`);
    expect(tcp.code).toBe(2);
    expect(tcp.stderr).toContain('qemu+ssh://[USER@]ADDRESS[:PORT]/system');
    const both = await ferry('host', 'add', 'lvt', `qemu+ssh://root@${hostA().address}/system`, '--ssh', `root@${hostA().address}`);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Give exactly one of');
    expect((JSON.parse((await ferry('--json', 'host', 'list')).stdout) as HostSummary[]).some((host) => host.name === 'lvt')).toBe(false);
  });
});
