import { EventEmitter } from 'node:events';
import { PassThrough, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HostCheckItem } from '../../../src-main/core/api/types.js';
import { FerryError } from '../../../src-main/core/errors.js';
import { checkHost } from '../../../src-main/core/host/check.js';
import { hostCheckScript } from '../../../src-main/core/host/check-script.js';
import { prepareRunDirScript } from '../../../src-main/core/vm/run-dir.js';
import type { ExecResult, HostTransport, StreamedCommand, TransportState } from '../../../src-main/core/ssh/transport.js';

/** What a healthy Debian 12 host prints for the check script, section by section. */
const HEALTHY: Record<string, string[]> = {
  uid: ['0'],
  which_qemu_system_x86_64: ['/usr/bin/qemu-system-x86_64'],
  which_qemu_img: ['/usr/bin/qemu-img'],
  which_qemu_nbd: ['/usr/bin/qemu-nbd'],
  which_setsid: ['/usr/bin/setsid'],
  which_mkfifo: ['/usr/bin/mkfifo'],
  which_mktemp: ['/usr/bin/mktemp'],
  which_head: ['/usr/bin/head'],
  which_wc: ['/usr/bin/wc'],
  which_timeout: ['/usr/bin/timeout'],
  which_flock: ['/usr/bin/flock'],
  which_ip: ['/usr/sbin/ip'],
  which_bash: ['/usr/bin/bash'],
  which_ss: ['/usr/bin/ss'],
  which_netstat: [],
  which_nft: [],
  which_iptables_save: [],
  version_qemu_system_x86_64: ['QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)'],
  version_qemu_img: ['qemu-img version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)'],
  version_qemu_nbd: ['qemu-nbd 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)'],
  kvm: ['usable'],
  statedir: ['/var/lib/ferry', 'writable', '/dev/vda 264212084 24282924 82107988 23% /'],
  rundir: ['/run/ferry', 'writable', 'tmpfs 12341828 8 12341820 1% /run'],
  ovmf: ['yes'],
  nft: [],
  iptables: [],
  socketprobe: ['/run/ferry/check-4240.qmp 4242'],
};

/** Stands in for SSH: answers the check script with canned sections and records the rest. */
class FakeTransport extends EventEmitter implements HostTransport {
  readonly label = 'fake';
  readonly state: TransportState = { kind: 'connected' };
  readonly commands: string[] = [];
  readonly socketsOpened: string[] = [];
  hostSessionUnavailable: string | undefined;

  constructor(private readonly sections: Record<string, string[]>, private readonly socketRefusal?: string) {
    super();
  }

  async run(command: string): Promise<string> {
    this.commands.push(command);
    return Object.entries(this.sections).map(([key, lines]) => [`@@${key}`, ...lines].join('\n')).join('\n');
  }
  async exec(command: string): Promise<ExecResult> {
    this.commands.push(command);
    return { code: 0, stdout: '', stderr: '' };
  }
  async openUnixSocket(path: string): Promise<Duplex> {
    this.socketsOpened.push(path);
    if (this.socketRefusal !== undefined) throw new FerryError('connection-failed', `fake: cannot open UNIX socket ${path}: ${this.socketRefusal}`);
    return new PassThrough();
  }
  execStream(): Promise<StreamedCommand> {
    throw new Error('not used by the check');
  }
  openTcp(): Promise<Duplex> {
    throw new Error('not used by the check');
  }
  readFile(): Promise<Buffer> {
    throw new Error('not used by the check');
  }
  writeFile(): Promise<void> {
    throw new Error('not used by the check');
  }
  async close(): Promise<void> {}
}

async function check(changes: Record<string, string[]> = {}, socketRefusal?: string): Promise<{ items: Map<string, HostCheckItem>; ok: boolean; transport: FakeTransport }> {
  const transport = new FakeTransport({ ...HEALTHY, ...changes }, socketRefusal);
  const report = await checkHost('kvm1', transport);
  expect(report.host).toBe('kvm1');
  return { items: new Map(report.items.map((item) => [item.check, item])), ok: report.ok, transport };
}

describe('checkHost', () => {
  it('passes a healthy host with every item ok, and cleans up its test socket', async () => {
    const { items, ok, transport } = await check();
    expect(ok).toBe(true);
    expect([...items.values()].filter((item) => item.level !== 'ok')).toEqual([]);
    expect(items.get('qemu-system-x86_64')?.message).toBe('QEMU 7.2.22 (/usr/bin/qemu-system-x86_64)');
    expect(items.get('qemu-nbd')?.message).toContain('7.2.22');
    expect(items.get('/var/lib/ferry')?.message).toBe('/var/lib/ferry is writable, 78.3 GiB free');
    expect(transport.socketsOpened).toEqual(['/run/ferry/check-4240.qmp']);
    expect(transport.commands[0]).toBe(hostCheckScript({ socketProbe: true }));
    expect(transport.commands[0]).toContain('-qmp "unix:$s,server=on,wait=off"');
    // The test socket is made where VMs' sockets are, the same way (a sudo host's group).
    expect(transport.commands[0]).toContain('s=/run/ferry/check-$$.qmp');
    expect(transport.commands[0]).toContain(prepareRunDirScript());
    expect(hostCheckScript({ socketProbe: false })).not.toContain('-qmp');
    expect(transport.commands[1]).toBe('kill 4242 2>/dev/null; rm -f -- /run/ferry/check-4240.qmp');
  });

  it('fails without qemu-img and says to install qemu-utils', async () => {
    const { items, ok } = await check({ which_qemu_img: [], version_qemu_img: [] });
    expect(ok).toBe(false);
    expect(items.get('qemu-img')).toMatchObject({ level: 'error', message: expect.stringContaining('not installed') as string, hint: expect.stringContaining('apt install qemu-utils') as string });
  });

  it('fails when qemu-img is there but does not run', async () => {
    const { items, ok } = await check({ version_qemu_img: ['bash: /usr/bin/qemu-img: Permission denied'] });
    expect(ok).toBe(false);
    expect(items.get('qemu-img')).toMatchObject({ level: 'error', message: expect.stringContaining('Permission denied') as string, hint: expect.stringContaining('qemu-utils') as string });
  });

  it('refuses QEMU older than 7.2 and notes an untested newer one', async () => {
    const old = await check({ version_qemu_system_x86_64: ['QEMU emulator version 6.2.0 (Debian 1:6.2+dfsg-2ubuntu6)'] });
    expect(old.ok).toBe(false);
    expect(old.items.get('qemu-system-x86_64')).toMatchObject({ level: 'error', message: expect.stringContaining('older than 7.2') as string });
    const newer = await check({ version_qemu_system_x86_64: ['QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)'] });
    expect(newer.items.get('qemu-system-x86_64')).toMatchObject({ level: 'ok', message: expect.stringContaining('tested on QEMU 7.2 and 10.0') as string });
    const missing = await check({ which_qemu_system_x86_64: [], version_qemu_system_x86_64: [], socketprobe: [] });
    expect(missing.items.get('qemu-system-x86_64')).toMatchObject({ level: 'error', hint: expect.stringContaining('qemu-system-x86') as string });
    // Without QEMU there is no test socket: the forwarding is not judged, only pointed at.
    expect(missing.items.get('stream-local')).toMatchObject({ level: 'warning', hint: expect.stringContaining('AllowStreamLocalForwarding yes') as string });
    expect(missing.transport.socketsOpened).toEqual([]);
  });

  it('fails when sshd refuses to forward the test socket, with the sshd_config line', async () => {
    const { items, ok, transport } = await check({}, '(SSH) Channel open failure: open failed');
    expect(ok).toBe(false);
    expect(items.get('stream-local')).toMatchObject({ level: 'error', hint: expect.stringContaining('AllowStreamLocalForwarding yes') as string });
    // The throwaway QEMU is stopped even then.
    expect(transport.commands[1]).toContain('kill 4242');
  });

  it('names the missing tools with their packages; the host-session ones and ip only warn', async () => {
    const { items, ok } = await check({ which_flock: [], which_setsid: [], which_ss: [], which_ip: [], which_bash: [] });
    expect(ok).toBe(false);
    expect(items.get('flock')).toMatchObject({ level: 'error', hint: 'Install it: apt install util-linux (Debian/Ubuntu).' });
    expect(items.get('setsid')).toMatchObject({ level: 'warning', hint: expect.stringContaining('util-linux') as string });
    expect(items.get('ip')).toMatchObject({ level: 'warning', hint: expect.stringContaining('iproute2') as string });
    expect(items.get('ss')).toMatchObject({ level: 'warning' });
    expect(items.get('bash')).toMatchObject({ level: 'warning', message: expect.stringContaining('pre-flight') as string });
    const withNetstat = await check({ which_ss: [], which_netstat: ['/usr/bin/netstat'] });
    expect(withNetstat.items.get('ss')).toMatchObject({ level: 'ok', message: 'netstat (/usr/bin/netstat)' });
  });

  it('fails a non-root login without sudo, and passes one through sudo', async () => {
    const plain = await check({ uid: ['1000'] });
    expect(plain.ok).toBe(false);
    expect(plain.items.get('root')).toMatchObject({ level: 'error', message: expect.stringContaining('uid 1000') as string, hint: expect.stringContaining('--sudo') as string });
    expect(plain.items.get('root')?.hint).toContain('NOPASSWD');
    const sudo = await check({ uid: ['0'], sudouser: ['ops'] });
    expect(sudo.items.get('root')).toMatchObject({ level: 'ok', message: 'logged in as ops, commands run as root through sudo' });
  });

  it('warns about missing KVM, OVMF and little free space; fails an unwritable directory', async () => {
    const { items, ok } = await check({
      kvm: ['denied'],
      ovmf: ['no'],
      uid: ['1000'],
      statedir: ['/var/lib', 'writable', '/dev/vda 264212084 24282924 204800 99% /'],
      rundir: ['/run', 'not writable: mktemp: failed to create file via template ‘/run/.ferry-check.XXXXXX’: Permission denied', ''],
    });
    expect(ok).toBe(false);
    expect(items.get('kvm')).toMatchObject({ level: 'warning', hint: expect.stringContaining('kvm group') as string });
    expect(items.get('ovmf')).toMatchObject({ level: 'warning', hint: expect.stringContaining('apt install ovmf') as string });
    expect(items.get('/var/lib/ferry')).toMatchObject({ level: 'warning', message: expect.stringContaining('200 MiB is free') as string });
    expect(items.get('/var/lib/ferry')?.message).toContain('Ferry creates it in /var/lib');
    expect(items.get('/run/ferry')).toMatchObject({ level: 'error', message: expect.stringContaining('Permission denied') as string });
    expect(await check({ kvm: ['missing'] }).then((result) => result.items.get('kvm')?.hint)).toContain('modprobe kvm_intel');
  });

  it('warns when a firewall rule or an input policy of drop blocks the migration ports', async () => {
    const nftDrop = await check({ nft: ['table inet filter {', '  chain input {', '    type filter hook input priority filter; policy accept;', '    tcp dport 49000-49200 drop', '  }', '}'] });
    expect(nftDrop.ok).toBe(true);
    expect(nftDrop.items.get('migration-ports')).toMatchObject({ level: 'warning', message: expect.stringContaining('tcp dport 49000-49200 drop') as string, hint: expect.stringContaining('49152-49351 accept') as string });

    const policyDrop = ['table inet filter {', '  chain input {', '    type filter hook input priority filter; policy drop;', '    tcp dport 22 accept', '  }', '}'];
    expect((await check({ nft: policyDrop })).items.get('migration-ports')?.level).toBe('warning');
    const opened = [...policyDrop.slice(0, 4), '    tcp dport { 22, 49152-49351 } accept', ...policyDrop.slice(4)];
    expect((await check({ nft: opened })).items.get('migration-ports')?.level).toBe('ok');

    const iptables = ['*filter', ':INPUT DROP [0:0]', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', 'COMMIT'];
    expect((await check({ iptables })).items.get('migration-ports')?.level).toBe('warning');
    const iptablesOpened = [...iptables.slice(0, 3), '-A INPUT -p tcp -m tcp --dport 49152:49351 -j ACCEPT', 'COMMIT'];
    expect((await check({ iptables: iptablesOpened })).items.get('migration-ports')).toMatchObject({ level: 'ok', message: expect.stringContaining('no firewall rule seen') as string });
  });

  it('warns when commands cannot run in a host session, with its reason', async () => {
    const transport = new FakeTransport(HEALTHY);
    transport.hostSessionUnavailable = 'ferry-session: setsid is not installed';
    const report = await checkHost('kvm1', transport);
    expect(report.ok).toBe(true);
    expect(report.items.find((item) => item.check === 'host-session')).toMatchObject({ level: 'warning', message: expect.stringContaining('setsid is not installed') as string });
  });
});
