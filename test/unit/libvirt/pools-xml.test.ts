import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { poolFromLibvirt, volumeFromLibvirt, volumeNames } from '../../../src-main/core/libvirt/pools.js';

/** `virsh pool-dumpxml`, `pool-info --bytes` and `vol-dumpxml` output from the lab's libvirtd. */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('libvirt pools and volumes', () => {
  it('a started dir pool: path, sizes in bytes, state and autostart from pool-info', () => {
    expect(poolFromLibvirt(fixture('pool-dir.xml'), fixture('pool-info-bytes.txt'))).toEqual({
      name: 'lv-core-fixpool',
      type: 'dir',
      libvirtType: 'dir',
      managedBy: 'libvirt',
      path: '/var/lib/libvirt/images/lv-core-fixpool',
      autostart: false,
      active: true,
      capacityBytes: 270553174016,
      allocationBytes: 25269088256,
      availableBytes: 245284085760,
    });
  });

  it('a qcow2 volume with its backing file, and a raw one', () => {
    expect(volumeFromLibvirt('lv-core-fixpool', fixture('volume-qcow2-backing.xml'))).toEqual({
      name: 'top.qcow2',
      pool: 'lv-core-fixpool',
      path: '/var/lib/libvirt/images/lv-core-fixpool/top.qcow2',
      format: 'qcow2',
      virtualSizeBytes: 33554432,
      allocationBytes: 200704,
      backingChain: [{ path: '/var/lib/libvirt/images/lv-core-fixpool/base.qcow2', format: 'qcow2' }],
    });
    expect(volumeFromLibvirt('lv-core-fixpool', fixture('volume-raw.xml'))).toMatchObject({ name: 'plain.raw', format: 'raw', virtualSizeBytes: 16777216, backingChain: [] });
  });

  it('takes volume names from `virsh -q vol-list`, spaces inside a name included', () => {
    const listing = ' base.qcow2   /var/lib/libvirt/images/lv-core-fixpool/base.qcow2\n my disk.raw   /p/my disk.raw\n\n';
    expect(volumeNames(listing)).toEqual(['base.qcow2', 'my disk.raw']);
  });
});
