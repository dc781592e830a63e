/**
 * Pools and volumes on the lab hosts through the real engine: dir, shared and netfs pools, every
 * volume option, and the errors a user meets (name taken, no space, bad size, unknown pool, volume
 * in use). Sizes are checked against df/stat run on the host itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolSummary } from '../../../src-main/core/api/types.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { rejection } from './helpers.js';

const MiB = 1024 * 1024;
const DIR_PATH = '/var/lib/ferry/eng-st-dir';
const SMALL_PATH = '/var/lib/ferry/eng-small';
const SHARED_PATH = '/srv/ferry-shared/eng-storage';
const NFS_PATH = '/var/lib/ferry/eng-st-nfs';
const VM = 'eng-st-vm';
let lab: LabEngine;

/** A command on a host over the engine's already open connection (system ssh costs a handshake each). */
async function onHost(host: string, command: string): Promise<string> {
  return (await lab.engine.transport(host)).run(command);
}

async function df(host: string, path: string): Promise<{ capacity: number; used: number; available: number }> {
  const fields = (await onHost(host, `df -P -B1 ${path} | tail -n1`)).trim().split(/\s+/);
  return { capacity: Number(fields[1]), used: Number(fields[2]), available: Number(fields[3]) };
}

async function allocated(host: string, path: string): Promise<number> {
  const [blocks, size] = (await onHost(host, `stat -c '%b %B' ${path}`)).trim().split(' ').map(Number);
  return (blocks ?? 0) * (size ?? 0);
}

async function exists(host: string, path: string): Promise<boolean> {
  return (await onHost(host, `test -e ${path} && echo yes || echo no`)).trim() === 'yes';
}

async function pool(host: string, name: string): Promise<PoolSummary | undefined> {
  return (await lab.engine.call('pools.list', { host })).find((entry) => entry.name === name);
}

async function cleanup(): Promise<void> {
  const { engine } = lab;
  for (const step of [
    () => engine.call('vms.destroy', { host: 'a', name: VM }),
    () => engine.call('vms.undefine', { host: 'a', name: VM }),
  ]) {
    await step().catch(() => undefined);
  }
  for (const [host, name] of [['a', 'eng-st-dir'], ['a', 'eng-st-small'], ['a', 'eng-st-shared'], ['b', 'eng-st-shared'], ['a', 'eng-st-nfs'], ['a', 'eng-st-later'], ['a', 'eng-st-dup']] as const) {
    await engine.call('pools.delete', { host, pool: name }).catch(() => undefined);
  }
  await lab.sh('a', `rm -rf ${DIR_PATH} ${SHARED_PATH} ${NFS_PATH} /var/lib/ferry/eng-st-later /var/lib/ferry/logs/${VM}.serial.log; if mountpoint -q ${SMALL_PATH}; then umount ${SMALL_PATH}; fi; rmdir ${SMALL_PATH} 2>/dev/null; true`);
}

beforeAll(async () => {
  lab = await labEngine();
  await cleanup();
  // A tiny filesystem inside host a's private mount namespace, to run out of space on purpose.
  await lab.sh('a', `mkdir -p ${SMALL_PATH} && mount -t tmpfs -o size=8M eng-small ${SMALL_PATH}`);
  await lab.sh('a', `mkdir -p ${SHARED_PATH}`);
});

afterAll(async () => {
  if (lab) {
    await cleanup();
    await lab.engine.close();
  }
});

describe('dir pools', () => {
  it('defines (and starts) a pool whose sizes are those of df on the host', async () => {
    const defined = await lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-dir', type: 'dir', path: DIR_PATH });
    expect(defined).toMatchObject({ name: 'eng-st-dir', type: 'dir', path: DIR_PATH, autostart: true, active: true });
    expect(await exists('a', DIR_PATH)).toBe(true);
    const listed = await pool('a', 'eng-st-dir');
    const truth = await df('a', DIR_PATH);
    expect(listed?.active).toBe(true);
    expect(listed?.capacityBytes).toBe(truth.capacity);
    // The lab disk is shared with other tests writing at the same time: allow some drift.
    expect(Math.abs((listed?.allocationBytes ?? 0) - truth.used)).toBeLessThan(512 * MiB);
    expect(Math.abs((listed?.availableBytes ?? 0) - truth.available)).toBeLessThan(512 * MiB);
    expect(await onHost('a', 'stat -c %a /var/lib/ferry/pools/eng-st-dir.json')).toBe('600\n');
  });

  it('has exact capacity, allocation and available on a filesystem of its own', async () => {
    await lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-small', type: 'dir', path: SMALL_PATH });
    await onHost('a', `head -c 1048576 /dev/urandom > ${SMALL_PATH}/filler`);
    const listed = await pool('a', 'eng-st-small');
    const truth = await df('a', SMALL_PATH);
    expect(listed).toMatchObject({ active: true, capacityBytes: 8 * MiB, allocationBytes: truth.used, availableBytes: truth.available });
    expect(truth.used).toBeGreaterThanOrEqual(MiB);
    await onHost('a', `rm ${SMALL_PATH}/filler`);
  });

  it('stops, refuses volume work while stopped, starts again, and deletes only the definition', async () => {
    await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'keep.qcow2', capacity: '1M' });
    const stopped = await lab.engine.call('pools.stop', { host: 'a', pool: 'eng-st-dir' });
    expect(stopped).toMatchObject({ active: false, capacityBytes: 0, availableBytes: 0 });
    expect((await pool('a', 'eng-st-dir'))?.active).toBe(false);
    expect((await rejection(lab.engine.call('volumes.list', { host: 'a', pool: 'eng-st-dir' }))).code).toBe('busy');
    expect((await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'x.qcow2', capacity: '1M' }))).code).toBe('busy');
    expect(await exists('a', `${DIR_PATH}/x.qcow2`)).toBe(false);
    expect((await lab.engine.call('pools.start', { host: 'a', pool: 'eng-st-dir' })).active).toBe(true);
    expect((await lab.engine.call('volumes.list', { host: 'a', pool: 'eng-st-dir' })).map((volume) => volume.name)).toContain('keep.qcow2');

    await lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-later', type: 'dir', path: '/var/lib/ferry/eng-st-later', autostart: false });
    expect(await pool('a', 'eng-st-later')).toMatchObject({ active: false, autostart: false, capacityBytes: 0 });
    expect(await lab.engine.call('pools.delete', { host: 'a', pool: 'eng-st-later' })).toEqual({ deleted: 'eng-st-later' });
    expect(await pool('a', 'eng-st-later')).toBeUndefined();
    expect((await rejection(lab.engine.call('pools.start', { host: 'a', pool: 'eng-st-later' }))).code).toBe('not-found');
  });

  it('refuses a taken name or path, a system path, and options that do not fit the type', async () => {
    const taken = await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-dir', type: 'dir', path: '/var/lib/ferry/eng-st-other' }));
    expect(taken.code).toBe('already-exists');
    const samePath = await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-dup', type: 'dir', path: DIR_PATH }));
    expect(samePath.code).toBe('already-exists');
    expect(samePath.message).toContain('eng-st-dir');
    for (const path of ['/var/lib/ferry', '/etc', '/']) {
      expect((await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-dup', type: 'dir', path }))).code).toBe('invalid-input');
    }
    expect((await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-dup', type: 'dir', path: '/var/lib/ferry/eng-st-x', source: 'nfs:/x' }))).code).toBe('invalid-input');
    expect((await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-dup', type: 'shared', path: '/srv/ferry-shared/eng-missing' }))).code).toBe('invalid-input');
    expect(await pool('a', 'eng-st-dup')).toBeUndefined();
  });
});

describe('volumes', () => {
  it('creates thin qcow2 and raw volumes: full capacity, next to no allocation', async () => {
    const qcow2 = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'thin.qcow2', capacity: '256M' });
    expect(qcow2).toMatchObject({ name: 'thin.qcow2', pool: 'eng-st-dir', path: `${DIR_PATH}/thin.qcow2`, format: 'qcow2', virtualSizeBytes: 256 * MiB, backingChain: [] });
    expect(qcow2.allocationBytes).toBeLessThan(MiB);
    expect(qcow2.allocationBytes).toBe(await allocated('a', qcow2.path));
    const raw = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'thin.raw', capacity: 256 * MiB, format: 'raw' });
    expect(raw).toMatchObject({ format: 'raw', virtualSizeBytes: 256 * MiB });
    expect(raw.allocationBytes).toBeLessThan(MiB);
    expect(await onHost('a', `stat -c %s ${raw.path}`)).toBe(`${256 * MiB}\n`);
    const metadata = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'meta.qcow2', capacity: '64M', preallocation: 'metadata' });
    expect(metadata.virtualSizeBytes).toBe(64 * MiB);
    expect(metadata.allocationBytes).toBeLessThan(8 * MiB);
    expect(await onHost('a', `qemu-img info ${metadata.path} | grep -c 'compat: 1.1'`)).toBe('1\n');
  });

  it('preallocates with full and falloc: allocation reaches the capacity', async () => {
    for (const [name, format, preallocation] of [
      ['full.qcow2', 'qcow2', 'full'],
      ['full.raw', 'raw', 'full'],
      ['falloc.qcow2', 'qcow2', 'falloc'],
      ['falloc.raw', 'raw', 'falloc'],
    ] as const) {
      const volume = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name, capacity: '16M', format, preallocation });
      expect(volume.virtualSizeBytes, name).toBe(16 * MiB);
      expect(volume.allocationBytes, name).toBeGreaterThanOrEqual(16 * MiB);
      expect(volume.allocationBytes, name).toBeLessThan(18 * MiB);
      expect(volume.allocationBytes, name).toBe(await allocated('a', volume.path));
      expect(await onHost('a', `qemu-img info --output=json ${volume.path} | grep -c '"format": "${format}"'`)).toBe('1\n');
    }
  });

  it('creates volumes on a backing file and lists the whole chain', async () => {
    const base = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'base.raw', capacity: '32M', format: 'raw' });
    const middle = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'middle.qcow2', capacity: '32M', backing: base.path });
    expect(middle.backingChain).toEqual([{ path: base.path, format: 'raw' }]);
    const top = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'top.qcow2', capacity: '64M', backing: middle.path, backingFormat: 'qcow2' });
    expect(top.virtualSizeBytes).toBe(64 * MiB);
    expect(top.backingChain).toEqual([
      { path: middle.path, format: 'qcow2' },
      { path: base.path, format: 'raw' },
    ]);
    expect(await onHost('a', `qemu-img info --output=json ${top.path} | grep '"backing-filename"'`)).toContain(middle.path);
    expect(await lab.engine.call('volumes.info', { host: 'a', pool: 'eng-st-dir', name: 'top.qcow2' })).toEqual(top);

    const listed = await lab.engine.call('volumes.list', { host: 'a', pool: 'eng-st-dir' });
    expect(listed.map((volume) => volume.name)).toEqual(['base.raw', 'falloc.qcow2', 'falloc.raw', 'full.qcow2', 'full.raw', 'keep.qcow2', 'meta.qcow2', 'middle.qcow2', 'thin.qcow2', 'thin.raw', 'top.qcow2']);
    expect(listed.find((volume) => volume.name === 'top.qcow2')).toEqual(top);

    const rawOnBacking = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'bad.raw', capacity: '32M', format: 'raw', backing: base.path }));
    expect(rawOnBacking.code).toBe('invalid-input');
    const missing = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'bad.qcow2', capacity: '32M', backing: `${DIR_PATH}/nope.qcow2` }));
    expect(missing.code).toBe('not-found');
    expect(await exists('a', `${DIR_PATH}/bad.raw`)).toBe(false);
    expect(await exists('a', `${DIR_PATH}/bad.qcow2`)).toBe(false);
  });

  it('refuses a taken name, a bad size and an unknown pool', async () => {
    const before = await onHost('a', `md5sum ${DIR_PATH}/thin.qcow2`);
    const taken = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'thin.qcow2', capacity: '1G' }));
    expect(taken.code).toBe('already-exists');
    expect(await onHost('a', `md5sum ${DIR_PATH}/thin.qcow2`)).toBe(before);
    for (const capacity of ['10X', '0', '-5M', 'lots', 1.5, 0]) {
      const error = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'size.qcow2', capacity }));
      expect(error.code, String(capacity)).toBe('invalid-input');
      expect(error.message).toContain('capacity:');
      expect(error.message).not.toContain('Invalid input');
    }
    expect(await exists('a', `${DIR_PATH}/size.qcow2`)).toBe(false);
    const unknown = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-no-such-pool', name: 'x.qcow2', capacity: '1M' }));
    expect(unknown.code).toBe('not-found');
    expect(unknown.message).toContain('eng-no-such-pool');
    expect((await rejection(lab.engine.call('volumes.info', { host: 'a', pool: 'eng-st-dir', name: 'nope.qcow2' }))).code).toBe('not-found');
    expect((await rejection(lab.engine.call('volumes.delete', { host: 'a', pool: 'eng-st-dir', name: 'nope.qcow2' }))).code).toBe('not-found');
  });

  it('refuses preallocation beyond the free space and leaves no partial file', async () => {
    const tooBig = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-small', name: 'big.raw', capacity: '64M', format: 'raw', preallocation: 'full' }));
    expect(tooBig.code).toBe('no-space');
    expect(tooBig.message).toContain('eng-st-small');
    expect(await exists('a', `${SMALL_PATH}/big.raw`)).toBe(false);
    // Thin volumes larger than the pool are fine: that is what thin means.
    const thin = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-small', name: 'thin.qcow2', capacity: '1G' });
    expect(thin.virtualSizeBytes).toBe(1024 * MiB);
    // Just inside the free space by the pool's numbers, but qcow2 metadata does not fit: qemu-img
    // itself runs out of space, and the half-written file must not stay behind as a volume.
    const free = (await pool('a', 'eng-st-small'))?.availableBytes ?? 0;
    const edge = Math.floor(free / (64 * 1024)) * 64 * 1024;
    const error = await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-small', name: 'edge.qcow2', capacity: edge, preallocation: 'full' }));
    expect(error.code).toBe('no-space');
    expect(await exists('a', `${SMALL_PATH}/edge.qcow2`)).toBe(false);
    expect((await lab.engine.call('volumes.list', { host: 'a', pool: 'eng-st-small' })).map((volume) => volume.name)).toEqual(['thin.qcow2']);
  });

  it('refuses to delete a volume a running VM uses, and deletes it once the VM is off', async () => {
    const disk = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-dir', name: 'inuse.qcow2', capacity: '16M' });
    await lab.engine.call('vms.define', { host: 'a', name: VM, memoryMiB: 128, vcpus: 1, accel: 'tcg', disks: [{ path: disk.path }], kernel: lab.lab.guest.kernel, initrd: lab.lab.guest.initrd, append: 'console=ttyS0 quiet' });
    expect((await lab.engine.call('vms.start', { host: 'a', name: VM })).state).toBe('running');
    const busy = await rejection(lab.engine.call('volumes.delete', { host: 'a', pool: 'eng-st-dir', name: 'inuse.qcow2' }));
    expect(busy.code).toBe('busy');
    expect(await exists('a', disk.path)).toBe(true);
    await lab.engine.call('vms.destroy', { host: 'a', name: VM });
    expect(await lab.engine.call('volumes.delete', { host: 'a', pool: 'eng-st-dir', name: 'inuse.qcow2' })).toEqual({ deleted: 'inuse.qcow2' });
    expect(await exists('a', disk.path)).toBe(false);
    await lab.engine.call('vms.undefine', { host: 'a', name: VM });
  });
});

describe('shared pools', () => {
  it('sees on host b the volume created through host a', async () => {
    const onA = await lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-shared', type: 'shared', path: SHARED_PATH });
    const onB = await lab.engine.call('pools.define', { host: 'b', pool: 'eng-st-shared', type: 'shared', path: SHARED_PATH });
    expect(onA).toMatchObject({ type: 'shared', active: true });
    expect(onB).toMatchObject({ type: 'shared', active: true });
    expect(onB.capacityBytes).toBe((await df('b', SHARED_PATH)).capacity);
    const created = await lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-shared', name: 'both.qcow2', capacity: '48M' });
    const seen = await lab.engine.call('volumes.info', { host: 'b', pool: 'eng-st-shared', name: 'both.qcow2' });
    expect(seen).toEqual(created);
    expect((await lab.engine.call('volumes.list', { host: 'b', pool: 'eng-st-shared' })).map((volume) => volume.name)).toContain('both.qcow2');
    expect(await lab.engine.call('volumes.delete', { host: 'b', pool: 'eng-st-shared', name: 'both.qcow2' })).toEqual({ deleted: 'both.qcow2' });
    expect(await exists('a', `${SHARED_PATH}/both.qcow2`)).toBe(false);
    await lab.engine.call('pools.stop', { host: 'b', pool: 'eng-st-shared' });
    expect((await pool('b', 'eng-st-shared'))?.active).toBe(false);
    // Stopping it on b says nothing about a.
    expect((await pool('a', 'eng-st-shared'))?.active).toBe(true);
  });
});

describe('netfs pools', () => {
  it('needs a source', async () => {
    const error = await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-nfs', type: 'netfs', path: NFS_PATH }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toMatch(/--source SERVER:\/EXPORT/);
    expect(await pool('a', 'eng-st-nfs')).toBeUndefined();
  });

  it('fails clearly on an unreachable export and stays inactive', async () => {
    const source = '10.231.77.250:/eng-export';
    const error = await rejection(lab.engine.call('pools.define', { host: 'a', pool: 'eng-st-nfs', type: 'netfs', path: NFS_PATH, source }));
    expect(error.code).toBe('remote-command-failed');
    expect(error.message).toContain(`Could not mount ${source} on ${NFS_PATH}`);
    expect(error.hint).toMatch(/NFS/);
    expect(await pool('a', 'eng-st-nfs')).toMatchObject({ type: 'netfs', source, active: false, capacityBytes: 0 });
    const again = await rejection(lab.engine.call('pools.start', { host: 'a', pool: 'eng-st-nfs' }));
    expect(again.code).toBe('remote-command-failed');
    expect((await pool('a', 'eng-st-nfs'))?.active).toBe(false);
    expect((await onHost('a', `mountpoint -q ${NFS_PATH} && echo mounted || echo not`)).trim()).toBe('not');
    expect((await rejection(lab.engine.call('volumes.create', { host: 'a', pool: 'eng-st-nfs', name: 'x.qcow2', capacity: '1M' }))).code).toBe('busy');
    expect(await lab.engine.call('pools.delete', { host: 'a', pool: 'eng-st-nfs' })).toEqual({ deleted: 'eng-st-nfs' });
  });
});
