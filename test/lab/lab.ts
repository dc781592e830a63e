import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, sleep } from './exec.js';
import { ensureAccel } from './accel.js';
import { ensureGuestImage } from './guest-image.js';
import { libvirtStateDir } from './libvirt.js';
import {
  BRIDGE, GATEWAY, HOST_IMAGE_DIR, HOST_PREFIX, HOST_RUN_DIR, HOST_SHARED_DIR, HOST_STATE_DIR, MAX_HOSTS,
  hostLayout, labDir, labPaths, type HostLayout,
} from './layout.js';
import {
  bridgeExists, deleteLabLinks, deleteNamespace, ensureBridge, ensureHostNetwork, labNamespaces, netnsExists, netnsPids,
} from './network.js';
import { ensureKey, fingerprint, publicKey, recordedSshdPid, sshdPid, startSshd } from './sshd.js';
import { ensureQemu10, type QemuBind } from './qemu-versions.js';
import type { LabHost, LabQemu, LabState, LabStatus, LabUpOptions } from './types.js';

export type { LabStatus, LabHost, LabUpOptions } from './types.js';

/** Brings the lab up, or repairs whatever part of it is missing. Safe to call when it is already up. */
export async function labUp(opts: LabUpOptions = {}): Promise<LabStatus> {
  const log = opts.log ?? (() => undefined);
  const count = opts.hosts ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new Error(`--hosts must be 1..${MAX_HOSTS}`);
  await ensurePackages(log);
  const dir = labDir();
  const p = labPaths(dir);
  mkdirSync(p.shared, { recursive: true });

  const image = await ensureGuestImage(dir, log);
  const buildId = readFileSync(join(p.guestDir, 'build-id'), 'utf8');
  const accel = await ensureAccel(dir, `${statSync(image.kernel).size}:${buildId}`, log);

  await ensureKey(p.clientKey, 'ferry-lab-client');
  // Readable by all: sshd reads it as the user logging in, and the lab has non-root users too
  // (test/support/lab-sudo-user.ts). chmod, because an existing file keeps its old mode.
  writeFileSync(p.authorizedKeys, publicKey(p.clientKey) + '\n');
  chmodSync(p.authorizedKeys, 0o644);

  const wanted = Array.from({ length: count }, (_, i) => hostLayout(i, dir));
  const qemu = wanted.map((_, i): LabQemu => opts.qemu?.[i] ?? '7.2');
  const binds: QemuBind[] = qemu.includes('10.0') ? (await ensureQemu10(log, dir)).binds : [];
  const running = recordedQemu(dir);
  // A previous lab with more hosts leaves namespaces this one does not own; remove them.
  for (const ns of labNamespaces()) {
    if (!wanted.some((h) => h.name === ns)) await removeHost(ns);
  }

  await ensureBridge();
  for (const h of wanted) {
    mkdirSync(`${h.ferryDir}/images`, { recursive: true });
    await ensureKey(h.hostKey, `${h.name}-host`);
    const index = wanted.indexOf(h);
    const wantedQemu = qemu[index] ?? '7.2';
    // The QEMU a host runs is mounted in its namespace when it starts: another one means a new host.
    if (sshdPid(h) !== undefined && (running[index] ?? '7.2') !== wantedQemu) {
      log(`${h.name}: restarting with QEMU ${wantedQemu}`);
      await removeHost(h.name);
      // The new namespace's veth has a new MAC: the machine's and the other hosts' neighbour entries
      // for the address would send the first packets to the old one until they time out, longer
      // than sshd or a pre-flight's connection test waits.
      await run('ip', ['neigh', 'flush', 'to', h.address], { allowFail: true });
      for (const other of wanted) {
        if (other !== h && netnsExists(other.name)) await run('ip', ['-n', other.name, 'neigh', 'flush', 'to', h.address], { allowFail: true });
      }
    }
    const healthy = sshdPid(h) !== undefined;
    // An sshd stranded in a deleted namespace keeps its veth alive; stop it before rebuilding.
    const stale = healthy ? undefined : recordedSshdPid(h);
    if (stale !== undefined) await killAll([stale]);
    await ensureHostNetwork(h);
    if (!healthy) {
      log(`${h.name}: starting sshd on ${h.address} (QEMU ${wantedQemu})`);
      await startSshd(h, dir, wantedQemu === '10.0' ? binds : []);
    }
  }
  writeFileSync(p.knownHosts, wanted.map((h) => knownHostsLine(h)).join('\n') + '\n');
  const state: LabState = { hosts: count, accel, qemu };
  writeFileSync(p.stateFile, JSON.stringify(state, null, 2) + '\n');

  const status = labStatus();
  if (!status) throw new Error('lab did not come up; run `npm run lab -- status` for details');
  return status;
}

/** Tears everything down that `up` created, except cached keys, kernel and guest image. */
export async function labDown(opts: { log?: (l: string) => void } = {}): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const dir = labDir();
  const names = new Set(labNamespaces());
  for (let i = 0; i < MAX_HOSTS; i++) {
    const h = hostLayout(i, dir);
    if (existsSync(h.sshdPidFile)) names.add(h.name);
  }
  for (const ns of [...names].sort()) {
    log(`${ns}: stopping`);
    await removeHost(ns);
  }
  // Hosts come back empty: VM definitions, pools and images of one run must not leak into the next.
  for (let i = 0; i < MAX_HOSTS; i++) {
    rmSync(hostLayout(i, dir).ferryDir, { recursive: true, force: true });
    rmSync(libvirtStateDir(hostLayout(i, dir)), { recursive: true, force: true });
  }
  rmSync(labPaths(dir).shared, { recursive: true, force: true });
  await deleteLabLinks();
  rmSync(labPaths(dir).stateFile, { force: true });
  rmSync(labPaths(dir).knownHosts, { force: true });
}

async function removeHost(ns: string): Promise<void> {
  const index = ns.charCodeAt(HOST_PREFIX.length) - 97;
  const h = index >= 0 && index < MAX_HOSTS ? hostLayout(index) : undefined;
  // An sshd whose namespace vanished under it would not show up in `ip netns pids`.
  const strayPid = h ? recordedSshdPid(h) : undefined;
  if (strayPid) await killAll([strayPid]);
  if (netnsExists(ns)) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = await netnsPids(ns);
      if (pids.length === 0) break;
      await killAll(pids);
      await sleep(100);
    }
    const left = await netnsPids(ns);
    if (left.length) throw new Error(`${ns}: processes survive SIGKILL: ${left.join(' ')}`);
    await deleteNamespace(ns);
  }
  if (h) rmSync(h.sshdPidFile, { force: true });
}

async function killAll(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone between listing and killing.
    }
  }
}

function knownHostsLine(h: HostLayout): string {
  return `${h.address} ${publicKey(h.hostKey)}`;
}

/** The QEMU each host of the lab last brought up runs, as recorded. */
function recordedQemu(dir: string): LabQemu[] {
  const file = labPaths(dir).stateFile;
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as LabState).qemu ?? [];
}

/** Current lab as found on the system (not just as last recorded); null unless every part is up. */
export function labStatus(): LabStatus | null {
  const dir = labDir();
  const p = labPaths(dir);
  if (!existsSync(p.stateFile) || !bridgeExists()) return null;
  const state = JSON.parse(readFileSync(p.stateFile, 'utf8')) as LabState;
  if (!existsSync(p.kernel) || !existsSync(p.initrd)) return null;
  const hosts: LabHost[] = [];
  for (let i = 0; i < state.hosts; i++) {
    const h = hostLayout(i, dir);
    const pid = sshdPid(h);
    if (!pid || !netnsExists(h.name) || !existsSync(`/sys/class/net/${h.veth}`)) return null;
    hosts.push({
      name: h.name,
      netns: h.name,
      address: h.address,
      port: 22,
      user: 'root',
      identityFile: p.clientKey,
      knownHostsLine: knownHostsLine(h),
      hostKeyFingerprint: fingerprint(h.hostKey),
      imageDir: HOST_IMAGE_DIR,
      stateDir: HOST_STATE_DIR,
      runDir: HOST_RUN_DIR,
      sharedDir: HOST_SHARED_DIR,
      sshdPid: pid,
      qemu: state.qemu?.[i] ?? '7.2',
    });
  }
  return {
    up: true,
    bridge: BRIDGE,
    gateway: GATEWAY,
    labDir: dir,
    knownHostsFile: p.knownHosts,
    guest: { kernel: p.kernel, initrd: p.initrd, accel: state.accel },
    hosts,
  };
}

/** The Debian packages the lab runs on: installed as root, named (and the lab stops) otherwise. */
async function ensurePackages(log: (line: string) => void): Promise<void> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'install-packages.sh');
  const result = await run('bash', [script], { allowFail: true });
  if (result.stdout.trim()) log(result.stdout.trim());
  if (result.code !== 0) throw new Error(result.stderr.trim() || `${script} failed (${result.code})`);
}
