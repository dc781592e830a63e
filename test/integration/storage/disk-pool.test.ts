/**
 * Disk pools on the lab: loop devices made on this machine show up in host a's /dev (the lab
 * hosts share /dev), and the pool lists them with their size and use as that host sees them:
 * a mount made inside host a's namespace counts on host a only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VolumeInfo } from '../../../src-main/core/api/types.js';
import { runFerry } from '../../support/cli-runner.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { rejection } from '../engine/helpers.js';

const MiB = 1024 * 1024;
const MOUNT_POINT = '/var/lib/ferry/dsk-mnt';
const LINK_DIR = '/var/lib/ferry/dsk-links';
const VM = 'dsk-vm';
let lab: LabEngine;
let work: string;
const loops: string[] = [];
let free: string;
let formatted: string;
let mounted: string;

function attachLoop(name: string, sizeMiB: number): string {
  const file = join(work, `${name}.img`);
  execFileSync('truncate', ['-s', `${sizeMiB}M`, file]);
  const device = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
  loops.push(device);
  return device;
}

async function devices(host: string, pool: string): Promise<VolumeInfo[]> {
  return lab.engine.call('volumes.list', { host, pool });
}

async function cleanup(): Promise<void> {
  await lab.engine.call('vms.undefine', { host: 'a', name: VM }).catch(() => undefined);
  for (const [host, pool] of [['a', 'dsk-all'], ['b', 'dsk-all'], ['a', 'dsk-links'], ['a', 'dsk-cli']] as const) {
    await lab.engine.call('pools.delete', { host, pool }).catch(() => undefined);
  }
  await lab.sh('a', `if mountpoint -q ${MOUNT_POINT}; then umount ${MOUNT_POINT}; fi; rm -rf ${MOUNT_POINT} ${LINK_DIR}`);
}

beforeAll(async () => {
  lab = await labEngine();
  await cleanup();
  work = mkdtempSync(join(tmpdir(), 'dsk-'));
  free = attachLoop('dsk-free', 64);
  formatted = attachLoop('dsk-ext4', 48);
  mounted = attachLoop('dsk-mounted', 40);
  for (const device of [formatted, mounted]) execFileSync('mkfs.ext4', ['-q', device]);
  await lab.sh('a', `mkdir -p ${MOUNT_POINT} && mount ${mounted} ${MOUNT_POINT}`);
  await lab.sh('a', `mkdir -p ${LINK_DIR} && ln -s ${free} ${LINK_DIR}/web.dev`);
});

afterAll(async () => {
  if (lab) {
    await cleanup();
    await lab.engine.close();
  }
  for (const device of loops) execFileSync('losetup', ['-d', device]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a disk pool of every device (/dev)', () => {
  it('is defined on /dev and is active without a start (nothing to mount or create)', async () => {
    const pool = await lab.engine.call('pools.define', { host: 'a', pool: 'dsk-all', type: 'disk', path: '/dev' });
    expect(pool).toMatchObject({ name: 'dsk-all', type: 'disk', path: '/dev', active: true });
    expect((await lab.engine.call('pools.list', { host: 'a' })).find((entry) => entry.name === 'dsk-all')?.active).toBe(true);
  });

  it('lists the loop devices with their size, as raw volumes', async () => {
    const listed = await devices('a', 'dsk-all');
    const device = listed.find((volume) => volume.path === free);
    expect(device).toMatchObject({ format: 'raw', virtualSizeBytes: 64 * MiB, device: { devicePath: free, type: 'loop', readOnly: false, use: { kind: 'free' } } });
    expect(listed.find((volume) => volume.path === formatted)?.virtualSizeBytes).toBe(48 * MiB);
  });

  it('shows the device with a filesystem signature as such (blkid, there is no udev)', async () => {
    const device = (await devices('a', 'dsk-all')).find((volume) => volume.path === formatted);
    expect(device?.device?.use).toEqual({ kind: 'signature', signature: 'ext4', usage: 'filesystem' });
  });

  it('shows the device mounted inside host a as mounted there, and host b (other namespace) sees only its filesystem', async () => {
    const onA = (await devices('a', 'dsk-all')).find((volume) => volume.path === mounted);
    expect(onA?.device?.use).toEqual({ kind: 'mounted', mountpoints: [MOUNT_POINT] });
    await lab.engine.call('pools.define', { host: 'b', pool: 'dsk-all', type: 'disk', path: '/dev' });
    const onB = (await devices('b', 'dsk-all')).find((volume) => volume.path === mounted);
    expect(onB?.device?.use).toEqual({ kind: 'signature', signature: 'ext4', usage: 'filesystem' });
  });

  it('refuses to create or delete a volume and leaves the devices alone', async () => {
    const created = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'dsk-all', name: 'dsk-new', capacity: MiB }));
    expect(created.code).toBe('invalid-input');
    expect(created.message).toMatch(/disk pool: Ferry does not create block devices/);
    const deleted = await rejection(lab.engine.call('volumes.delete', { host: 'a', pool: 'dsk-all', name: free.replace('/dev/', '') }));
    expect(deleted.message).toMatch(/does not delete block devices/);
    expect((await lab.sh('a', `test -b ${free} && echo present`)).trim()).toBe('present');
  });
});

describe('a disk pool on a directory of device links', () => {
  it('lists only the devices linked there, under the link, and refuses a missing directory', async () => {
    await lab.engine.call('pools.define', { host: 'a', pool: 'dsk-links', type: 'disk', path: LINK_DIR });
    const listed = await devices('a', 'dsk-links');
    expect(listed.map((volume) => [volume.name, volume.path, volume.device?.devicePath, volume.virtualSizeBytes])).toEqual([['web.dev', `${LINK_DIR}/web.dev`, free, 64 * MiB]]);
    const missing = await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'dsk-missing', type: 'disk', path: '/var/lib/ferry/dsk-none' }));
    expect(missing.message).toMatch(/does not exist on a/);
  });

  it('names the VM whose disk is the device, through the link', async () => {
    await lab.engine.call('vms.define', { host: 'a', name: VM, memoryMiB: 64, vcpus: 1, disks: [{ path: `${LINK_DIR}/web.dev`, format: 'raw' }] });
    const listed = await devices('a', 'dsk-all');
    expect(listed.find((volume) => volume.path === free)?.device?.use).toEqual({ kind: 'vm', vms: [VM] });
  });
});

describe('disk pools from the CLI', () => {
  it('defines one on /dev when --path is left out, lists its devices with their use (one held by a VM), and still requires --path for a dir pool', async () => {
    // The CLI shares the test engine's FERRY_HOME (saved hosts, trusted keys), as a second terminal would.
    const env = { PATH: process.env['PATH'], HOME: work, FERRY_HOME: lab.home, LANG: 'C.UTF-8' };
    // One pool per directory: the engine's /dev pool of the tests above goes first.
    await lab.engine.call('pools.delete', { host: 'a', pool: 'dsk-all' });
    const defined = await runFerry(env, ['pool', 'define', 'a', 'dsk-cli', '--type', 'disk']);
    expect(defined.stderr).toBe('');
    expect(defined.stdout).toContain('Defined dsk-cli (disk) /dev');
    const listed = await runFerry(env, ['vol', 'list', 'a', 'dsk-cli']);
    expect(listed.code).toBe(0);
    const line = (device: string) => listed.stdout.split('\n').find((row) => row.includes(` ${device} `)) ?? '';
    // The VM of the test above has the link to this device as its disk.
    expect(line(free)).toMatch(new RegExp(`64\\.0 MiB\\s+loop\\s+in use by VM ${VM}`));
    expect(line(formatted)).toContain('filesystem ext4');
    expect(line(mounted)).toContain(`mounted at ${MOUNT_POINT}`);
    const info = await runFerry(env, ['vol', 'info', 'a', 'dsk-cli', free.replace('/dev/', '')]);
    expect(info.stdout).toMatch(new RegExp(`Use:\\s+in use by VM ${VM}`));
    expect(info.stdout).toMatch(/Device:\s+\/dev\/loop\d+ \(loop\)/);
    const noPath = await runFerry(env, ['pool', 'define', 'a', 'dsk-cli-dir', '--type', 'dir']);
    expect(noPath.code).not.toBe(0);
    expect(noPath.stderr).toContain('a dir pool needs --path');
  });
});
