import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { MigrationRecord } from '../../../src-main/core/api/types.js';
import type { FerryEngine } from '../../../src-main/core/engine.js';
import { tcgLostWritesRisk } from '../../../src-main/core/migration/known-qemu-bugs.js';
import type { LabEngine } from '../../support/lab-engine.js';
import { run } from '../../lab/exec.js';

/** Pools the migration tests share: a local dir on each host and the shared dir. */
export const LOCAL_POOL = 'mig-local';
export const SHARED_POOL = 'mig-shared';
export const LOCAL_DIR = '/var/lib/ferry/images';
export const SHARED_DIR = '/srv/ferry-shared';

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;

export async function ensurePools(le: LabEngine): Promise<void> {
  for (const host of le.hostNames) {
    const pools = await le.engine.call('pools.list', { host });
    if (!pools.some((pool) => pool.name === LOCAL_POOL)) {
      const same = pools.find((pool) => pool.path === LOCAL_DIR);
      if (!same) await le.engine.call('pools.define', { host, pool: LOCAL_POOL, type: 'dir', path: LOCAL_DIR });
    }
    if (!pools.some((pool) => pool.path === SHARED_DIR)) {
      await le.engine.call('pools.define', { host, pool: SHARED_POOL, type: 'shared', path: SHARED_DIR });
    }
  }
}

export interface GuestOptions {
  host: string;
  name: string;
  directory: string;
  diskMiB?: number;
  /** MiB of data written into the image before boot, so a copy has real bytes to move. */
  prefillMiB?: number;
  dirtyMiB?: number;
  memoryMiB?: number;
  backing?: string;
}

/** Creates a disk, defines and starts the lab guest, and waits for its first heartbeats. */
export async function startGuest(le: LabEngine, options: GuestOptions): Promise<{ diskPath: string }> {
  const diskPath = `${options.directory}/${options.name}.qcow2`;
  const backing = options.backing ? `-b ${options.backing} -F qcow2 ` : '';
  await le.sh(options.host, `qemu-img create -q -f qcow2 ${backing}${diskPath} ${options.diskMiB ?? 64}M`);
  if (options.prefillMiB) await le.sh(options.host, `qemu-io -f qcow2 -c 'write -P 0x5a 1M ${options.prefillMiB}M' ${diskPath} >/dev/null`);
  await le.engine.call('vms.define', {
    host: options.host,
    name: options.name,
    memoryMiB: options.memoryMiB ?? 256,
    vcpus: 1,
    accel: 'tcg',
    disks: [{ path: diskPath }],
    kernel: le.lab.guest.kernel,
    initrd: le.lab.guest.initrd,
    append: `console=ttyS0 quiet ferry.dirty_mib=${options.dirtyMiB ?? 0}`,
  });
  await le.engine.call('vms.start', { host: options.host, name: options.name });
  await waitFor(async () => (await heartbeats(le, options.host, options.name)).length >= 3, 60_000, `heartbeats from ${options.name}`);
  return { diskPath };
}

export async function serialText(le: LabEngine, host: string, name: string): Promise<string> {
  return le.sh(host, `cat /var/lib/ferry/logs/${name}.serial.log 2>/dev/null || true`);
}

export async function heartbeats(le: LabEngine, host: string, name: string): Promise<number[]> {
  return [...(await serialText(le, host, name)).matchAll(/ferry-heartbeat (\d+)/g)].map((match) => Number(match[1]));
}

export async function lastRecord(le: LabEngine, host: string, name: string): Promise<number> {
  const all = [...(await serialText(le, host, name)).matchAll(/ferry-heartbeat \d+ disk=(\d+)/g)];
  return Number(all[all.length - 1]?.[1] ?? 0);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Proves heartbeats keep coming on `host` (the guest is alive there). */
export async function assertTicking(le: LabEngine, host: string, name: string): Promise<void> {
  const before = Math.max(0, ...(await heartbeats(le, host, name)));
  try {
    await waitFor(async () => Math.max(0, ...(await heartbeats(le, host, name))) >= before + 3, 30_000, `${name} ticking on ${host}`);
  } catch (error) {
    // Say why the guest went quiet: QEMU 7.2 under TCG sometimes hands over a guest whose kernel
    // then panics (seen with hand-run QEMU too), which is a different failure from a lost VM.
    const log = await serialText(le, host, name);
    const panic = guestPanic(log);
    if (panic) throw new Error(`${(error as Error).message}: the guest kernel panicked there: ${panic}`);
    const state = await le.engine.call('vms.info', { host, name }).then((info) => info.qemuStatus ?? info.state).catch(() => 'unknown');
    const tail = log.trim().split('\n').slice(-2).join(' | ');
    throw new Error(`${(error as Error).message}: the guest fell silent there while QEMU says "${state}" (last serial lines: ${tail})`);
  }
}

/** The first lines of a guest kernel oops or panic in a serial log, if there is one. */
export function guestPanic(log: string): string | null {
  const lines = log.split('\n');
  const first = lines.findIndex((line) => /general protection fault|BUG: |Oops|Kernel panic/.test(line));
  if (first < 0) return null;
  return lines.slice(first, first + 4).map((line) => line.trim()).join(' | ');
}

/**
 * Reads records 1..upTo from an image on a host and returns the numbers missing or wrong: each
 * sector n must hold "ferry-record n".
 */
export async function badRecords(le: LabEngine, host: string, image: string, upTo: number): Promise<number[]> {
  const scratch = `/tmp/ferry-verify-${randomBytes(4).toString('hex')}.raw`;
  const bytes = (upTo + 1) * 512;
  const text = await le.sh(host, `qemu-img convert -U -O raw ${image} ${scratch} && head -c ${bytes} ${scratch} | tr '\\0' '\\n' | grep -a '^ferry-record'; rm -f ${scratch}`);
  const seen = new Set([...text.matchAll(/^ferry-record (\d+)$/gm)].map((match) => Number(match[1])));
  const bad: number[] = [];
  for (let record = 1; record <= upTo; record += 1) if (!seen.has(record)) bad.push(record);
  return bad;
}

/** Pids in a lab host's network namespace whose command line contains `needle`. */
export function processesOn(le: LabEngine, host: string, needle: string): number[] {
  const netns = le.labHost(host).netns;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/State:\s+Z/.test(status)) continue;
      if (cmdline.includes(needle) && inNetns(Number(entry), netns)) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

function inNetns(pid: number, netns: string): boolean {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino === statSync(`/run/netns/${netns}`).ino;
  } catch {
    return false;
  }
}

/** Everything a migration may leave on the destination, checked rather than assumed. */
export async function leftovers(le: LabEngine, host: string, vm: string, createdPaths: string[]): Promise<string[]> {
  const found: string[] = [];
  if (processesOn(le, host, `guest=${vm},`).length > 0) found.push(`QEMU for ${vm}`);
  for (const path of createdPaths) if (processesOn(le, host, `qemu-nbd`).some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path))) found.push(`qemu-nbd serving ${path}`);
  const listing = await le.sh(host, `ls -d /run/ferry/${vm}.* /run/ferry/tls-* /run/ferry/nbd-* /run/ferry/copy-* /var/lib/ferry/vms/${vm}.json /var/lib/ferry/state/${vm}-* ${createdPaths.join(' ')} 2>/dev/null; true`);
  found.push(...listing.split('\n').filter((line) => line.trim() !== ''));
  return found;
}

export function reportOf(record: MigrationRecord) {
  if (!record.report) throw new Error(`migration ${record.id} has no report`);
  return record.report;
}

/** Stops and removes a test VM wherever it is, with its disks. */
export async function removeGuest(le: LabEngine, name: string, paths: string[]): Promise<void> {
  for (const host of le.hostNames) {
    await le.engine.call('vms.destroy', { host, name }).catch(() => undefined);
    await le.engine.call('vms.undefine', { host, name }).catch(() => undefined);
    await le.sh(host, `rm -f ${paths.join(' ')} /var/lib/ferry/logs/${name}.serial.log`).catch(() => undefined);
  }
}

/** Blocks (or restores) traffic between two lab hosts only; Ferry still reaches both. */
export async function cutLinkBetween(le: LabEngine, first: string, second: string, cut: boolean): Promise<void> {
  const verb = cut ? 'add' : 'del';
  await run('ip', ['netns', 'exec', le.labHost(first).netns, 'ip', 'route', verb, 'blackhole', `${le.labHost(second).address}/32`], { allowFail: !cut });
  await run('ip', ['netns', 'exec', le.labHost(second).netns, 'ip', 'route', verb, 'blackhole', `${le.labHost(first).address}/32`], { allowFail: !cut });
}

/**
 * A debt, named: QEMU before 9.0 under TCG can lose a few guest memory writes during a live move
 * (a QEMU bug, see src-main/core/migration/known-qemu-bugs.ts), and the guest then crashes or falls
 * silent right after the switch-over, about 1 move in 10–15 on a loaded lab. Only when the source
 * host's QEMU has that bug, and only that failure — a panic in the guest's serial log, or silence
 * while QEMU says the VM runs — earns one more attempt with a fresh guest; every assertion must
 * still pass on that attempt. From a fixed QEMU (10.0) the scenario runs once, without a retry.
 */
export async function allowingOneGuestPanic(engine: FerryEngine, sourceHost: string, scenario: () => Promise<void>): Promise<void> {
  const source = await engine.call('hosts.info', { host: sourceHost });
  // Lab guests run under TCG (KVM makes them hang on these machines).
  if (!tcgLostWritesRisk(source.qemuVersion, 'tcg', source.kvmUsable)) {
    await scenario();
    return;
  }
  try {
    await scenario();
  } catch (error) {
    // A Ferry that lost the VM shows up elsewhere (state, records, leftovers); this is the guest
    // itself dead or silent inside a QEMU that runs.
    if (!/the guest kernel panicked there|the guest fell silent there while QEMU says "running"/.test((error as Error).message)) throw error;
    console.warn(`guest kernel panic after migration, trying once more: ${(error as Error).message}`);
    await scenario();
  }
}
