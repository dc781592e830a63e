import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lab/exec.js';
import { hostLayout, HOST_PREFIX } from '../lab/layout.js';
import type { LabEngine } from './lab-engine.js';

/**
 * Block devices for lab tests. The lab hosts share the machine's /dev, so each host gets a loop
 * device of its own, backed by a file in that host's private directory, and a symlink at the same
 * path on every host (/run/ferry-lab-dev/NAME, in each host's private /run) that points at that
 * host's own loop device: the way /dev/VG/lv names the same on two real hosts.
 */
export const LAB_DEVICE_DIR = '/run/ferry-lab-dev';

export interface LabBlockDevice {
  host: string;
  /** The same on every host: what a VM definition or a disk target names. */
  linkPath: string;
  /** This host's own loop device. */
  loopDevice: string;
  /** The backing file as the test machine sees it. */
  backingFile: string;
}

const hostIndex = (le: LabEngine, host: string) => le.labHost(host).name.slice(HOST_PREFIX.length).charCodeAt(0) - 97;

/** Creates a zeroed loop device of `sizeMiB` for `host`, linked as /run/ferry-lab-dev/NAME there. */
export async function createLabBlockDevice(le: LabEngine, host: string, name: string, sizeMiB: number): Promise<LabBlockDevice> {
  if (!/^blk-[a-z0-9-]+$/.test(name)) throw new Error(`lab device names start with blk- (got ${name})`);
  const directory = join(hostLayout(hostIndex(le, host), le.lab.labDir).ferryDir, 'blk-devices');
  mkdirSync(directory, { recursive: true });
  const backingFile = join(directory, `${name}.img`);
  await detachBacking(backingFile);
  rmSync(backingFile, { force: true });
  await run('truncate', ['-s', `${sizeMiB}M`, backingFile]);
  const loopDevice = (await run('losetup', ['--find', '--show', backingFile])).stdout.trim();
  const linkPath = `${LAB_DEVICE_DIR}/${name}`;
  await le.sh(host, `mkdir -p ${LAB_DEVICE_DIR} && ln -sfn ${loopDevice} ${linkPath}`);
  return { host, linkPath, loopDevice, backingFile };
}

/** One device per host under the same link path, as a source and a destination would have. */
export async function createLabBlockDevicePair(le: LabEngine, name: string, sizeMiB: { a: number; b: number }): Promise<{ a: LabBlockDevice; b: LabBlockDevice }> {
  return { a: await createLabBlockDevice(le, 'a', name, sizeMiB.a), b: await createLabBlockDevice(le, 'b', name, sizeMiB.b) };
}

/**
 * One device seen by both hosts, as a SAN LUN would be: a file in the lab's shared directory that
 * each host attaches as a loop device of its own (from inside its namespace, so the kernel names
 * the backing file by the path the hosts see), linked at the same path on both.
 */
export async function createLabSharedBlockDevice(le: LabEngine, name: string, sizeMiB: number): Promise<{ a: LabBlockDevice; b: LabBlockDevice }> {
  if (!/^blk-[a-z0-9-]+$/.test(name)) throw new Error(`lab device names start with blk- (got ${name})`);
  const backingFile = join(le.lab.labDir, 'shared', `${name}.img`);
  const seenAs = `${le.labHost('a').sharedDir}/${name}.img`;
  rmSync(backingFile, { force: true });
  await run('truncate', ['-s', `${sizeMiB}M`, backingFile]);
  const attach = async (host: string): Promise<LabBlockDevice> => {
    const loopDevice = (await le.sh(host, `losetup --find --show ${seenAs}`)).trim();
    const linkPath = `${LAB_DEVICE_DIR}/${name}`;
    await le.sh(host, `mkdir -p ${LAB_DEVICE_DIR} && ln -sfn ${loopDevice} ${linkPath}`);
    return { host, linkPath, loopDevice, backingFile };
  };
  return { a: await attach('a'), b: await attach('b') };
}

/** Detaches a shared device's loop devices on both hosts and removes the shared file. */
export async function removeLabSharedBlockDevice(le: LabEngine, pair: { a: LabBlockDevice; b: LabBlockDevice }): Promise<void> {
  for (const device of [pair.a, pair.b]) {
    await le.sh(device.host, `rm -f ${device.linkPath}; losetup --detach ${device.loopDevice}; true`).catch(() => undefined);
  }
  rmSync(pair.a.backingFile, { force: true });
}

/** Unmounts, unlinks and detaches a lab device and removes its backing file; safe to call twice. */
export async function removeLabBlockDevice(le: LabEngine, device: LabBlockDevice): Promise<void> {
  await le.sh(device.host, `grep -q '^${device.loopDevice} ' /proc/self/mounts && umount ${device.loopDevice}; rm -f ${device.linkPath}; true`).catch(() => undefined);
  await detachBacking(device.backingFile);
  rmSync(device.backingFile, { force: true });
}

/** Every loop device still attached to `backingFile` (left by an earlier run, too) is detached. */
async function detachBacking(backingFile: string): Promise<void> {
  const attached = await run('losetup', ['--associated', backingFile, '--noheadings', '--output', 'NAME'], { allowFail: true });
  for (const loop of attached.stdout.split('\n').map((line) => line.trim()).filter(Boolean)) await run('losetup', ['--detach', loop], { allowFail: true });
}

/** sha256 of a lab device's whole contents, read on the test machine through its loop device. */
export async function deviceDigest(device: LabBlockDevice): Promise<string> {
  return (await run('sha256sum', [device.loopDevice])).stdout.split(' ')[0] ?? '';
}
