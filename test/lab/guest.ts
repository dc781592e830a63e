import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { labPaths } from './layout.js';
import type { Accel, LabHost } from './types.js';

export interface GuestBootOptions {
  name: string;
  memoryMiB: number;
  serialLog: string;
  qmpSocket: string;
  accel: Accel;
  diskPath?: string;
  /** Defaults to qcow2 for *.qcow2 paths, raw otherwise. */
  diskFormat?: 'raw' | 'qcow2';
  /** MiB of guest memory the guest keeps rewriting, to give live migration dirty pages. */
  dirtyMiB?: number;
  kernel?: string;
  initrd?: string;
  /** Defaults to <host runDir>/<name>.pid so the process can be found and killed over SSH. */
  pidFile?: string;
  daemonize?: boolean;
  /** e.g. "defer" or "tcp:0:4444" for the destination side of a migration. */
  incoming?: string;
}

let machineType: string | undefined;

/**
 * The versioned q35 type, because source and destination of a migration must agree on it exactly;
 * the bare "q35" alias could change meaning between QEMU builds.
 */
export function versionedQ35(): string {
  if (machineType) return machineType;
  const help = execFileSync('qemu-system-x86_64', ['-machine', 'help'], { encoding: 'utf8' });
  const alias = /^q35\s.*\(alias of (pc-q35-[\d.]+)\)/m.exec(help)?.[1];
  const listed = [...help.matchAll(/^(pc-q35-[\d.]+)\s/gm)].map((m) => m[1] ?? '');
  machineType = alias ?? listed.sort().at(-1);
  if (!machineType) throw new Error('this qemu-system-x86_64 knows no pc-q35 machine');
  return machineType;
}

export function bootGuestCommand(host: LabHost, opts: GuestBootOptions): string[] {
  const lab = labPaths();
  const append = `console=ttyS0 ferry.dirty_mib=${opts.dirtyMiB ?? 0} quiet`;
  // A small translation cache keeps several TCG guests within memory; the guest code is tiny.
  const accel = opts.accel === 'kvm' ? 'kvm' : 'tcg,tb-size=64';
  const argv = [
    'qemu-system-x86_64',
    '-name', opts.name,
    '-machine', versionedQ35(),
    '-accel', accel,
    '-cpu', 'qemu64',
    '-m', String(opts.memoryMiB),
    '-smp', '1',
    '-nodefaults',
    '-display', 'none',
    '-serial', `file:${opts.serialLog}`,
    '-qmp', `unix:${opts.qmpSocket},server=on,wait=off`,
    '-kernel', opts.kernel ?? lab.kernel,
    '-initrd', opts.initrd ?? lab.initrd,
    '-append', append,
    '-pidfile', opts.pidFile ?? join(host.runDir, `${opts.name}.pid`),
  ];
  if (opts.diskPath) {
    // cache=none: records must really be on the image (and shared storage must not be cached per host).
    const format = opts.diskFormat ?? (opts.diskPath.endsWith('.qcow2') ? 'qcow2' : 'raw');
    argv.push(
      '-blockdev', `driver=file,node-name=disk0-file,filename=${opts.diskPath},cache.direct=on`,
      '-blockdev', `driver=${format},node-name=disk0,file=disk0-file`,
      '-device', 'virtio-blk-pci,drive=disk0,id=virtio-disk0',
    );
  }
  if (opts.incoming) argv.push('-incoming', opts.incoming);
  if (opts.daemonize ?? true) argv.push('-daemonize');
  return argv;
}

/** Heartbeat numbers in the order the guest printed them. */
export function readHeartbeats(logText: string): number[] {
  return [...logText.matchAll(/ferry-heartbeat (\d+)/g)].map((m) => Number(m[1]));
}

/** The last `disk=` value the guest reported, i.e. the highest record known written. */
export function lastDiskRecord(logText: string): number {
  const all = [...logText.matchAll(/ferry-heartbeat \d+ disk=(\d+)/g)];
  return all.length ? Number(all[all.length - 1]?.[1]) : 0;
}

/** Quotes argv for a remote shell, since ssh joins its arguments with spaces. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
