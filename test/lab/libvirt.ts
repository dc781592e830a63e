import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sleep } from './exec.js';
import { versionedQ35 } from './guest.js';
import { hostLayout, type HostLayout } from './layout.js';
import type { Accel, LabHost, LabStatus } from './types.js';

/**
 * libvirtd inside a lab host, started only when a test or the bench asks for it. Everything it
 * keeps is private to that host: /etc/libvirt, /var/lib/libvirt, /var/log/libvirt and
 * /var/cache/libvirt are bind mounts, inside the host's mount namespace, of directories under the
 * host's lab dir (its /run already is private), so two hosts on one machine never see each
 * other's domains, and labDown removes it all with libvirtStateDir().
 */

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/**
 * Migration and NBD ports: above the machine's ephemeral range (32768-60999), so never taken by an
 * outgoing connection, and clear of Ferry's own listeners (49152+) and the bench's hand ports.
 * (A range of 48200+ made QEMU's NBD connect fail with EINVAL here; this one works.)
 */
const MIGRATION_PORTS = { min: 61000, max: 61099 };
/** Seen inside the host; where each private directory is mounted. */
const MOUNTS = { etc: '/etc/libvirt', lib: '/var/lib/libvirt', log: '/var/log/libvirt', cache: '/var/cache/libvirt' } as const;
type MountName = keyof typeof MOUNTS;
/** A file in each private directory that tells our bind mount from whatever the machine has there. */
const MARKER = '.ferry-lab-libvirt';
const START_TIMEOUT_MS = 90_000;

export function libvirtStateDir(h: HostLayout): string {
  return join(h.dir, 'libvirt');
}

export function libvirtUri(host: LabHost): string {
  return `qemu+tcp://${host.address}/system`;
}

function layoutOf(lab: LabStatus, host: LabHost): HostLayout {
  const index = lab.hosts.findIndex((candidate) => candidate.name === host.name);
  if (index < 0) throw new Error(`${host.name} is not a host of this lab`);
  return hostLayout(index, lab.labDir);
}

/** The libvirtd running in this host's namespaces, read through the sshd's view of its private /run. */
export function libvirtdPid(host: LabHost): number | undefined {
  try {
    const pid = Number(readFileSync(`/proc/${host.sshdPid}/root/run/libvirtd.pid`, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'libvirtd') return undefined;
    return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync(`/proc/${host.sshdPid}/ns/net`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts libvirtd in the host if it is not running there, and waits until it answers on TCP. */
export async function ensureLibvirtd(lab: LabStatus, host: LabHost): Promise<void> {
  if (libvirtdPid(host) !== undefined && (await answers(host))) return;
  const h = layoutOf(lab, host);
  const dirs = writeLibvirtConfig(h);
  // Mount points must exist in the shared file system; /var/lib is the host's own tmpfs, and the
  // others are the directories the Debian packages would make anyway.
  for (const target of [MOUNTS.etc, MOUNTS.log, MOUNTS.cache]) mkdirSync(target, { recursive: true });
  const mountAll = (Object.keys(MOUNTS) as MountName[])
    .map((name, i) => `mkdir -p ${MOUNTS[name]}; [ -e ${MOUNTS[name]}/${MARKER} ] || mount --bind "$${i + 1}" ${MOUNTS[name]}`)
    .join('\n');
  const script = `set -e\n${mountAll}\nexec libvirtd --daemon --listen`;
  const paths = (Object.keys(MOUNTS) as MountName[]).map((name) => dirs[name]);
  await run('nsenter', ['-t', String(host.sshdPid), '-m', '-n', 'env', '-i', `PATH=${SYSTEM_PATH}`, 'LANG=C.UTF-8', 'sh', '-c', script, 'ferry-lab-libvirtd', ...paths], {
    timeoutMs: 30_000,
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    // The first start probes QEMU's capabilities, which takes seconds under TCG.
    if (libvirtdPid(host) !== undefined && (await answers(host))) return;
    await sleep(250);
  }
  const logFile = join(dirs.log, 'libvirtd.log');
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
  throw new Error(`libvirtd on ${host.name} did not answer on ${libvirtUri(host)} within ${START_TIMEOUT_MS / 1000} s:\n${tail}`);
}

/** Stops the host's libvirtd (its guests first) and unmounts its private directories; its files stay. */
export async function stopLibvirtd(lab: LabStatus, host: LabHost): Promise<void> {
  layoutOf(lab, host); // refuses a host of some other lab before anything is killed
  const pid = libvirtdPid(host);
  if (pid !== undefined) {
    const running = await virsh(host, ['list', '--name'], true);
    for (const name of running.stdout.split('\n').map((line) => line.trim()).filter(Boolean)) {
      await virsh(host, ['destroy', name], true);
    }
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (libvirtdPid(host) === pid && Date.now() < deadline) await sleep(100);
    if (libvirtdPid(host) === pid) process.kill(pid, 'SIGKILL');
  }
  const unmountAll = Object.values(MOUNTS)
    .map((target) => `[ ! -e ${target}/${MARKER} ] || umount ${target}`)
    .join('\n');
  await run('nsenter', ['-t', String(host.sshdPid), '-m', 'sh', '-c', `set -e\n${unmountAll}`], { timeoutMs: 30_000 });
}

/** virsh against the host's libvirtd, from the machine's root namespace. */
export function virsh(host: LabHost, args: readonly string[], allowFail = false, timeoutMs = 120_000): ReturnType<typeof run> {
  return run('virsh', ['-q', '-c', libvirtUri(host), ...args], { timeoutMs, allowFail });
}

/** `virsh define` or `virsh create` of an XML document; virsh reads the file here and sends its text. */
export async function virshWithXml(host: LabHost, command: 'define' | 'create', xml: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-lab-libvirt-'));
  try {
    writeFileSync(join(dir, 'domain.xml'), xml);
    await virsh(host, [command, join(dir, 'domain.xml')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function answers(host: LabHost): Promise<boolean> {
  return (await run('virsh', ['-c', libvirtUri(host), 'version'], { timeoutMs: 15_000, allowFail: true }).catch(() => ({ code: 1 }))).code === 0;
}

function writeLibvirtConfig(h: HostLayout): Record<MountName, string> {
  const root = libvirtStateDir(h);
  const dirs = { etc: join(root, 'etc'), lib: join(root, 'lib'), log: join(root, 'log'), cache: join(root, 'cache') };
  const fresh = !existsSync(dirs.etc);
  for (const dir of Object.values(dirs)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, MARKER), `${h.name}\n`);
  }
  // A copy of the machine's client settings; subdirectories (domains, networks a full install may
  // autostart) are left out so each host starts empty.
  if (fresh && existsSync(MOUNTS.etc)) {
    for (const entry of readdirSync(MOUNTS.etc)) {
      const source = join(MOUNTS.etc, entry);
      if (statSync(source).isFile() && entry.endsWith('.conf')) copyFileSync(source, join(dirs.etc, entry));
    }
  }
  writeFileSync(join(dirs.etc, 'libvirtd.conf'), libvirtdConf(h));
  writeFileSync(join(dirs.etc, 'qemu.conf'), qemuConf(h));
  return dirs;
}

function libvirtdConf(h: HostLayout): string {
  return [
    // The lab bridge is private to this machine, so plain TCP without authentication is enough.
    'listen_tls = 0',
    'listen_tcp = 1',
    `listen_addr = "${h.address}"`,
    'auth_tcp = "none"',
    'auth_unix_rw = "none"',
    'unix_sock_rw_perms = "0700"',
    // Both hosts read the same SMBIOS, and libvirt refuses to migrate to a host with its own UUID.
    `host_uuid = "${hostUuid(h)}"`,
    'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
    '',
  ].join('\n');
}

function qemuConf(h: HostLayout): string {
  return [
    'user = "root"',
    'group = "root"',
    // Images are made by root over SSH; there is nobody else to hand them to.
    'dynamic_ownership = 0',
    'security_driver = "none"',
    // Guests of both hosts would otherwise share the machine's one cgroup tree, under the same
    // names when a domain is defined on both.
    'cgroup_controllers = [ ]',
    // No private /dev per guest: the host is already a namespace of its own.
    'namespaces = [ ]',
    // No virtlogd runs in a lab host.
    'stdio_handler = "file"',
    `migration_address = "${h.address}"`,
    // What the destination tells the source to connect to (its hostname is the machine's).
    `migration_host = "${h.address}"`,
    `migration_port_min = ${MIGRATION_PORTS.min}`,
    `migration_port_max = ${MIGRATION_PORTS.max}`,
    '',
  ].join('\n');
}

function hostUuid(h: HostLayout): string {
  const hex = createHash('sha256').update(`ferry-lab-libvirt:${h.name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface LabDomainOptions {
  name: string;
  memoryMiB: number;
  accel: Accel;
  kernel: string;
  initrd: string;
  append: string;
  /** Path inside the host; the guest's ttyS0 is appended to it. */
  serialLog: string;
  /** A qcow2 image inside the host, attached as virtio vda with cache=none like Ferry's disks. */
  disk?: string;
}

/** Domain XML for the lab guest with the same virtual hardware Ferry and the hand baselines use. */
export function labDomainXml(options: LabDomainOptions): string {
  if (!/^lv-[A-Za-z0-9_.-]+$/.test(options.name)) throw new Error(`lab libvirt domain names start with "lv-" and use [A-Za-z0-9_.-]: ${options.name}`);
  const e = escapeXml;
  const tcg = options.accel === 'tcg';
  const disk = options.disk
    ? `    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='${e(options.disk)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>\n`
    : '';
  return `<domain type='${tcg ? 'qemu' : 'kvm'}'>
  <name>${e(options.name)}</name>
  <memory unit='MiB'>${options.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='${e(versionedQ35())}'>hvm</type>
    <kernel>${e(options.kernel)}</kernel>
    <initrd>${e(options.initrd)}</initrd>
    <cmdline>${e(options.append)}</cmdline>
  </os>
${tcg ? "  <features><tcg><tb-cache unit='MiB'>64</tb-cache></tcg></features>\n" : ''}  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${disk}    <controller type='usb' model='none'/>
    <serial type='file'><source path='${e(options.serialLog)}' append='on'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
