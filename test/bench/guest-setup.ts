import { randomBytes } from 'node:crypto';
import { versionedQ35 } from '../lab/guest.js';
import type { LabEngine } from '../support/lab-engine.js';
import { shellCommand } from '../../src-main/core/ssh/shell.js';
import { sleep, waitUntil } from './stats.js';

/** Per-host (private) image directory and the directory both hosts see (shared storage). */
export const IMAGE_DIR = '/var/lib/ferry/images';
export const SHARED_DIR = '/srv/ferry-shared';
/** Hand-started baseline guests keep their sockets outside /run/ferry so Ferry does not list them. */
export const HAND_RUN_DIR = '/run/ferry-bench';
export const HAND_LOG_DIR = '/var/lib/ferry/bench-logs';
export const FERRY_LOG_DIR = '/var/lib/ferry/logs';

/** The one guest every scenario moves (the issue's: 256 MiB RAM, 1 GiB qcow2 with ~200 MiB written). */
export interface GuestSpec {
  memoryMiB: number;
  diskMiB: number;
  prefillMiB: number;
  dirtyMiB: number;
  /** Disk on the shared directory (live) or on the host's own directory (block, offline). */
  shared: boolean;
}

export const STANDARD_GUEST: GuestSpec = { memoryMiB: 256, diskMiB: 1024, prefillMiB: 200, dirtyMiB: 0, shared: false };

export const benchName = (kind: string): string => `bench-${kind}-${randomBytes(3).toString('hex')}`;

export const diskPath = (spec: GuestSpec, name: string): string => `${spec.shared ? SHARED_DIR : IMAGE_DIR}/${name}.qcow2`;

export const appendLine = (spec: GuestSpec): string => `console=ttyS0 quiet ferry.dirty_mib=${spec.dirtyMiB}`;

/** Creates the qcow2 and writes the pre-fill pattern, as the issue prescribes, before boot. */
export async function createImage(le: LabEngine, host: string, path: string, spec: GuestSpec): Promise<void> {
  await le.sh(host, `mkdir -p ${IMAGE_DIR} && qemu-img create -q -f qcow2 ${path} ${spec.diskMiB}M && qemu-io -f qcow2 -c 'write -P 0x5a 0 ${spec.prefillMiB}M' ${path} >/dev/null`);
}

/** Bytes of guest data in the image (qemu-img map data extents), i.e. what a sparse-aware copy must move. */
export async function allocatedDataBytes(le: LabEngine, host: string, path: string): Promise<number> {
  const map = JSON.parse(await le.sh(host, `qemu-img map -U --output=json ${path}`)) as Array<{ length: number; data: boolean }>;
  return map.filter((extent) => extent.data).reduce((sum, extent) => sum + extent.length, 0);
}

export interface HandGuestOptions {
  name: string;
  spec: GuestSpec;
  disk: string;
  /** 'drive': legacy named -drive (needed by the 7.2 `block` capability); 'blockdev': as Ferry builds it. */
  diskStyle: 'drive' | 'blockdev';
  incoming?: string;
}

export interface HandGuest {
  name: string;
  qmpSocket: string;
  serialLog: string;
  pidFile: string;
}

export function handGuestPaths(name: string): HandGuest {
  return { name, qmpSocket: `${HAND_RUN_DIR}/${name}.qmp`, serialLog: `${HAND_LOG_DIR}/${name}.serial.log`, pidFile: `${HAND_RUN_DIR}/${name}.pid` };
}

/** The same virtual hardware Ferry builds (src-main/core/vm/qemu-argv.ts), written by hand. */
export function handArgv(le: LabEngine, options: HandGuestOptions): string[] {
  const paths = handGuestPaths(options.name);
  const argv = [
    'qemu-system-x86_64',
    '-name', options.name,
    '-machine', versionedQ35(),
    '-accel', 'tcg',
    '-cpu', 'qemu64',
    '-m', `${options.spec.memoryMiB}M`,
    '-smp', '1',
    '-nodefaults', '-no-user-config',
    '-display', 'none',
    '-qmp', `unix:${paths.qmpSocket},server=on,wait=off`,
    '-chardev', `file,id=serial0,path=${paths.serialLog},append=on`,
    '-serial', 'chardev:serial0',
    '-pidfile', paths.pidFile,
    '-daemonize',
    '-kernel', le.lab.guest.kernel,
    '-initrd', le.lab.guest.initrd,
    '-append', appendLine(options.spec),
  ];
  if (options.diskStyle === 'drive') {
    argv.push('-drive', `file=${options.disk},if=none,id=drive0,format=qcow2,cache=none`, '-device', 'virtio-blk-pci,drive=drive0,id=vd0');
  } else {
    argv.push(
      '-blockdev', `driver=file,node-name=file0,filename=${options.disk},cache.direct=on,cache.no-flush=off`,
      '-blockdev', `driver=qcow2,node-name=disk0,file=file0,cache.direct=on,cache.no-flush=off`,
      '-device', 'virtio-blk-pci,drive=disk0,id=vd0',
    );
  }
  if (options.incoming) argv.push('-incoming', options.incoming);
  return argv;
}

export async function startHandGuest(le: LabEngine, host: string, options: HandGuestOptions): Promise<HandGuest> {
  const paths = handGuestPaths(options.name);
  await le.sh(host, `mkdir -p -m 0700 ${HAND_RUN_DIR} ${HAND_LOG_DIR} && rm -f ${paths.serialLog} ${paths.qmpSocket} ${paths.pidFile} && ${shellCommand(handArgv(le, options))}`);
  return paths;
}

export async function heartbeatCount(le: LabEngine, host: string, log: string): Promise<number> {
  return Number((await le.sh(host, `grep -c ferry-heartbeat ${log} 2>/dev/null || true`)).trim() || '0');
}

/** Waits until the guest has booted and its disk writer and memory dirtier run (a few heartbeats). */
export async function waitBooted(le: LabEngine, host: string, log: string, settleMs: number): Promise<void> {
  await waitUntil(async () => (await heartbeatCount(le, host, log)) >= 3, 240_000, `heartbeats in ${log} on ${host}`, 300);
  await sleep(settleMs);
}

/** Kills a hand-started QEMU by its pid file (if it still runs) and removes its files. */
export async function removeHandGuest(le: LabEngine, host: string, name: string, extraFiles: string[] = []): Promise<void> {
  const paths = handGuestPaths(name);
  await le
    .sh(host, `p=$(cat ${paths.pidFile} 2>/dev/null); [ -n "$p" ] && kill -9 "$p" 2>/dev/null; sleep 0.2; rm -f ${paths.pidFile} ${paths.qmpSocket} ${paths.serialLog} ${extraFiles.join(' ')}; true`)
    .catch(() => undefined);
}

/** Defines and starts the guest through Ferry on host a, as a user would. */
export async function startFerryGuest(le: LabEngine, name: string, spec: GuestSpec, disk: string): Promise<string> {
  const log = `${FERRY_LOG_DIR}/${name}.serial.log`;
  await le.sh('a', `rm -f ${log}`);
  await le.sh('b', `rm -f ${log}`);
  await le.engine.call('vms.define', {
    host: 'a', name, memoryMiB: spec.memoryMiB, vcpus: 1, accel: 'tcg', disks: [{ path: disk }],
    kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd, append: appendLine(spec),
  });
  await le.engine.call('vms.start', { host: 'a', name });
  return log;
}

/** Forces the VM off and forgets it wherever it is, and removes its disk and logs on both hosts. */
export async function removeFerryGuest(le: LabEngine, name: string, disk: string): Promise<void> {
  for (const host of ['a', 'b']) {
    await le.engine.call('vms.destroy', { host, name }).catch(() => undefined);
    await le.engine.call('vms.undefine', { host, name }).catch(() => undefined);
    // Whatever Ferry left behind (a failed run) goes too, by this VM's own name only.
    await le
      .sh(host, `p=$(cat /run/ferry/${name}.pid 2>/dev/null); [ -n "$p" ] && kill -9 "$p" 2>/dev/null; rm -f /run/ferry/${name}.* /var/lib/ferry/vms/${name}.json ${FERRY_LOG_DIR}/${name}.serial.log ${disk}; true`)
      .catch(() => undefined);
  }
}
