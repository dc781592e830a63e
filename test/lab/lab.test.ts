import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, sleep } from './exec.js';
import { bootGuestCommand, lastDiskRecord, readHeartbeats, shellQuote } from './guest.js';
import { labDown, labStatus, labUp } from './lab.js';
import { sshRun } from './ssh.js';
import type { LabHost, LabStatus } from './types.js';

let lab: LabStatus;
const hostA = (): LabHost => lab.hosts[0] as LabHost;
const hostB = (): LabHost => lab.hosts[1] as LabHost;
const tag = `t${process.pid}-${Date.now()}`;

/** Polls the guest's serial log over SSH until `done` accepts it. */
async function waitForLog(host: LabHost, log: string, done: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = (await sshRun(lab, host, `cat ${log} 2>/dev/null || true`)).stdout;
    if (done(text)) return text;
    await sleep(500);
  }
  throw new Error(`guest log ${log} on ${host.name} never satisfied the condition; last:\n${text.slice(-500)}`);
}

interface LiveProc {
  pid: number;
  comm: string;
  cmdline: string;
  netns: string | undefined;
}

/** Live (non-zombie) processes; zombies keep their name in /proc until PID 1 reaps them but hold nothing. */
function liveProcesses(): LiveProc[] {
  const out: LiveProc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      let netns: string | undefined;
      try {
        netns = readlinkSync(`/proc/${entry}/ns/net`);
      } catch {
        netns = undefined;
      }
      out.push({
        pid: Number(entry),
        comm: readFileSync(`/proc/${entry}/comm`, 'utf8').trim(),
        cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '),
        netns,
      });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

beforeAll(async () => {
  lab = await labUp();
});

afterAll(async () => {
  // Later test files expect a running lab.
  await labUp();
});

describe('lab', () => {
  it('reports the documented status shape', () => {
    expect(lab.up).toBe(true);
    expect(lab.bridge).toBe('ferrylab0');
    expect(lab.gateway).toBe('10.231.77.1');
    expect(lab.hosts.map((h) => h.name)).toEqual(['ferry-lab-a', 'ferry-lab-b']);
    expect(lab.hosts.map((h) => h.address)).toEqual(['10.231.77.11', '10.231.77.12']);
    for (const h of lab.hosts) {
      expect(h.knownHostsLine).toMatch(new RegExp(`^${h.address.replace(/\./g, '\\.')} ssh-ed25519 AAAA\\S+$`));
      expect(h.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(readFileSync(`/proc/${h.sshdPid}/comm`, 'utf8').trim()).toBe('sshd');
    }
    expect(hostA().hostKeyFingerprint).not.toBe(hostB().hostKeyFingerprint);
    expect(readFileSync(lab.knownHostsFile, 'utf8').trim().split('\n')).toEqual(lab.hosts.map((h) => h.knownHostsLine));
    expect(existsSync(lab.guest.kernel) && existsSync(lab.guest.initrd)).toBe(true);
    expect(['tcg', 'kvm']).toContain(lab.guest.accel);
  });

  it('is idempotent: a second up keeps the same sshd processes', async () => {
    const again = await labUp();
    expect(again.hosts.map((h) => h.sshdPid)).toEqual(lab.hosts.map((h) => h.sshdPid));
    expect(labStatus()).toEqual(again);
  });

  it('reaches each host over SSH with the lab key and strict host key checking', async () => {
    for (const h of lab.hosts) {
      const r = await sshRun(lab, h, 'id -u; ip -o -4 addr show dev eth0; ls /sys/class/net; command -v qemu-system-x86_64 qemu-img qemu-nbd');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('0');
      expect(r.stdout).toContain(`inet ${h.address}/24`);
      // /sys must be the namespace's own: only lo and eth0, not the root's bridge and veths.
      expect(r.stdout).not.toContain('ferrylab');
      expect(r.stdout).toContain('/qemu-nbd');
    }
  });

  it('gives each host a private /run and /var/lib/ferry but one shared dir', async () => {
    const a = hostA();
    const b = hostB();
    await sshRun(lab, a, `echo ${tag} > ${a.runDir}/${tag} && echo ${tag} > ${a.stateDir}/${tag} && echo ${tag} > ${a.sharedDir}/${tag}`);
    const probe = (path: string) => `test -e ${path} && echo present || echo absent`;
    const onB = await sshRun(lab, b, `${probe(`${b.runDir}/${tag}`)}; ${probe(`${b.stateDir}/${tag}`)}; cat ${b.sharedDir}/${tag}`);
    expect(onB.stdout).toBe(`absent\nabsent\n${tag}\n`);
    const onA = await sshRun(lab, a, `cat ${a.runDir}/${tag} ${a.stateDir}/${tag}; test -d ${a.imageDir} && echo images-ok`);
    expect(onA.stdout).toBe(`${tag}\n${tag}\nimages-ok\n`);
    // The root namespace must stay untouched by the hosts' mounts.
    expect(existsSync(`/run/ferry/${tag}`)).toBe(false);
    expect(existsSync(`/var/lib/ferry/${tag}`)).toBe(false);
    expect(existsSync(`/srv/ferry-shared`)).toBe(false);
    expect(readFileSync(`${lab.labDir}/shared/${tag}`, 'utf8')).toBe(`${tag}\n`);
    await sshRun(lab, a, `rm -f ${a.sharedDir}/${tag} ${a.stateDir}/${tag}`);
  });

  it('boots a guest on every host whose heartbeat keeps increasing', async () => {
    await Promise.all(
      lab.hosts.map(async (h) => {
        const name = `hb-${tag}`;
        const log = `${h.runDir}/${name}.log`;
        const argv = bootGuestCommand(h, { name, memoryMiB: 128, serialLog: log, qmpSocket: `${h.runDir}/${name}.qmp`, accel: lab.guest.accel, dirtyMiB: 8 });
        await sshRun(lab, h, shellQuote(argv));
        const text = await waitForLog(h, log, (t) => readHeartbeats(t).length >= 5, 120_000);
        const beats = readHeartbeats(text);
        expect(beats.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
        const later = await waitForLog(h, log, (t) => (readHeartbeats(t).at(-1) ?? 0) > (beats.at(-1) ?? 0) + 3, 60_000);
        const all = readHeartbeats(later);
        expect(all).toEqual(all.map((_, i) => i + 1));
        await sshRun(lab, h, `kill $(cat ${h.runDir}/${name}.pid)`);
      }),
    );
  });

  it('boots a guest with a disk that writes contiguous records', async () => {
    const h = hostA();
    const name = `disk-${tag}`;
    const disk = `${h.imageDir}/${name}.raw`;
    const log = `${h.runDir}/${name}.log`;
    const pidFile = `${h.runDir}/${name}.pid`;
    await sshRun(lab, h, `qemu-img create -q -f raw ${disk} 64M`);
    await sshRun(lab, h, shellQuote(bootGuestCommand(h, { name, memoryMiB: 128, diskPath: disk, serialLog: log, qmpSocket: `${h.runDir}/${name}.qmp`, accel: lab.guest.accel })));
    const text = await waitForLog(h, log, (t) => lastDiskRecord(t) >= 50, 120_000);
    const reported = lastDiskRecord(text);
    await sshRun(lab, h, `kill $(cat ${pidFile}); while kill -0 $(cat ${pidFile}) 2>/dev/null; do sleep 0.1; done`, { allowFail: true });
    const bytes = (await sshRun(lab, h, `head -c ${8 * 1024 * 1024} ${disk}`)).stdoutBytes;
    const records: number[] = [];
    for (let sector = 0; sector * 512 < bytes.length; sector++) {
      const m = /^ferry-record (\d+)\n/.exec(bytes.subarray(sector * 512, sector * 512 + 32).toString('latin1'));
      if (m) {
        expect(Number(m[1])).toBe(sector);
        records.push(sector);
      }
    }
    expect(records.length).toBeGreaterThanOrEqual(reported);
    expect(records).toEqual(records.map((_, i) => i + 1));
    await sshRun(lab, h, `rm -f ${disk}`);
  });

  it('up repairs a half-up lab: dead sshd, missing bridge, deleted namespace', async () => {
    const b = hostB();
    process.kill(b.sshdPid, 'SIGKILL');
    await run('ip', ['link', 'del', lab.bridge]);
    await run('ip', ['netns', 'del', hostA().netns]);
    await sleep(200);
    expect(labStatus()).toBeNull();
    lab = await labUp();
    expect(lab.hosts[1]?.sshdPid).not.toBe(b.sshdPid);
    for (const h of lab.hosts) {
      expect((await sshRun(lab, h, 'hostname -I')).stdout.trim()).toBe(h.address);
    }
    // Only the two current sshds may remain; the one stranded in the deleted namespace must be gone.
    const sshds = liveProcesses().filter((p) => p.comm === 'sshd' && p.cmdline.includes(`${lab.labDir}/hosts/`) && p.cmdline.includes('-D'));
    expect(sshds.map((p) => p.pid).sort()).toEqual(lab.hosts.map((h) => h.sshdPid).sort());
  });

  it('down leaves no namespace, link, process or mount behind', async () => {
    // Leave a guest running so down has to kill a QEMU that was started over SSH.
    const h = hostB();
    const name = `orphan-${tag}`;
    await sshRun(lab, h, shellQuote(bootGuestCommand(h, { name, memoryMiB: 128, serialLog: `${h.runDir}/${name}.log`, qmpSocket: `${h.runDir}/${name}.qmp`, accel: lab.guest.accel })));
    const nsIds = new Set(lab.hosts.map((x) => `net:[${statSync(`/run/netns/${x.netns}`).ino}]`));
    expect(liveProcesses().some((p) => p.comm.startsWith('qemu-system') && p.netns !== undefined && nsIds.has(p.netns))).toBe(true);

    await labDown();

    expect(labStatus()).toBeNull();
    const cli = await run(join(process.cwd(), 'node_modules/.bin/tsx'), ['test/lab/cli.ts', 'status', '--json']);
    expect(JSON.parse(cli.stdout)).toEqual({ up: false });
    const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
    expect(netns.filter((n) => n.startsWith('ferry-lab-'))).toEqual([]);
    expect(readdirSync('/sys/class/net').filter((l) => l.startsWith('ferrylab'))).toEqual([]);
    const leftovers = liveProcesses().filter(
      (p) => (p.netns !== undefined && nsIds.has(p.netns)) || p.cmdline.includes(lab.labDir) || p.cmdline.includes('/run/ferry/'),
    );
    expect(leftovers.map((p) => `${p.pid} ${p.comm}`)).toEqual([]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
    expect(mounts.filter((m) => m.startsWith(lab.labDir) || m.startsWith('/srv/ferry-shared') || m === '/var/lib/ferry')).toEqual([]);
    // Caches survive so the next up is fast.
    expect(existsSync(lab.guest.kernel) && existsSync(lab.guest.initrd) && existsSync(hostA().identityFile)).toBe(true);
  });
});
