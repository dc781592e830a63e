import { describe, expect, it } from 'vitest';
import { describeDeviceUse } from '../../../../src-main/core/api/block-device-use.js';
import { poolDefineInput } from '../../../../src-main/core/api/contract.js';
import {
  deviceFactsScript,
  deviceVolumesFromFacts,
  parseBlkidProbes,
  parseDeviceFacts,
  parseLsblk,
} from '../../../../src-main/core/storage/block-devices.js';
import type { PoolFile } from '../../../../src-main/core/storage/pools.js';
import { FerryError } from '../../../../src-main/core/errors.js';
import { shellQuote } from '../../../../src-main/core/ssh/shell.js';

// `lsblk -J -l -b -o NAME,KNAME,PATH,SIZE,TYPE,FSTYPE,PTTYPE,MOUNTPOINTS,PKNAME,RO` as util-linux 2.38 prints it.
const LSBLK = JSON.stringify({
  blockdevices: [
    { name: 'sda', kname: 'sda', path: '/dev/sda', size: 500107862016, type: 'disk', fstype: null, pttype: 'gpt', mountpoints: [null], pkname: null, ro: false },
    { name: 'sda1', kname: 'sda1', path: '/dev/sda1', size: 536870912, type: 'part', fstype: 'vfat', pttype: 'gpt', mountpoints: ['/boot/efi'], pkname: 'sda', ro: false },
    { name: 'sda2', kname: 'sda2', path: '/dev/sda2', size: 200000000000, type: 'part', fstype: 'LVM2_member', pttype: 'gpt', mountpoints: [null], pkname: 'sda', ro: false },
    { name: 'vg0-web', kname: 'dm-0', path: '/dev/mapper/vg0-web', size: 10737418240, type: 'lvm', fstype: null, pttype: null, mountpoints: [null], pkname: 'sda2', ro: false },
    { name: 'loop3', kname: 'loop3', path: '/dev/loop3', size: 67108864, type: 'loop', fstype: null, pttype: null, mountpoints: [null], pkname: null, ro: false },
    { name: 'loop4', kname: 'loop4', path: '/dev/loop4', size: 67108864, type: 'loop', fstype: null, pttype: null, mountpoints: [null], pkname: null, ro: false },
    { name: 'loop5', kname: 'loop5', path: '/dev/loop5', size: 33554432, type: 'loop', fstype: null, pttype: null, mountpoints: ['/mnt/a', '/mnt/b'], pkname: null, ro: true },
    { name: 'sr0', kname: 'sr0', path: '/dev/sr0', size: 1073741312, type: 'rom', fstype: null, pttype: null, mountpoints: [null], pkname: null, ro: false },
  ],
});

// blkid -p finds what udev-less lsblk misses: loop4 carries ext4 although lsblk says fstype null.
const BLKID = ['@@dev /dev/sda', 'PTTYPE=gpt', '@@dev /dev/loop3', '@@dev /dev/loop4', 'DEVNAME=/dev/loop4', 'TYPE=ext4', 'USAGE=filesystem', 'UUID=0f1e', ''].join('\n');

const output = (links: string, entries = '') => [LSBLK, BLKID, links, entries].join('\n@@ferry-section\n');

const allDevices: PoolFile = { name: 'devs', type: 'disk', path: '/dev', autostart: true, started: true };
const linkDirectory: PoolFile = { name: 'lab', type: 'disk', path: '/srv/local/devices', autostart: true, started: true };

describe('lsblk and blkid parsing', () => {
  it('reads the flat JSON listing with sizes in bytes', () => {
    const devices = parseLsblk(LSBLK);
    expect(devices.map((device) => device.path)).toContain('/dev/mapper/vg0-web');
    expect(devices.find((device) => device.name === 'loop3')?.size).toBe(67108864);
  });

  it('accepts lsblk before 2.37, which has MOUNTPOINT only', () => {
    const old = JSON.stringify({ blockdevices: [{ name: 'sdb', path: '/dev/sdb', size: '1024', type: 'disk', mountpoint: '/data' }] });
    const facts = { devices: parseLsblk(old), probes: new Map(), vmsByDevice: new Map(), entries: [] };
    expect(deviceVolumesFromFacts(allDevices, facts)[0]?.device?.use).toEqual({ kind: 'mounted', mountpoints: ['/data'] });
    expect(deviceVolumesFromFacts(allDevices, facts)[0]?.virtualSizeBytes).toBe(1024);
  });

  it('refuses output that is not lsblk JSON with a typed error', () => {
    expect(() => parseLsblk('lsblk: unknown column')).toThrow(FerryError);
    expect(() => parseLsblk('{"devices": []}')).toThrow(/not understood/);
  });

  it('groups blkid export lines by device', () => {
    const probes = parseBlkidProbes(BLKID);
    expect(probes.get('/dev/loop4')).toMatchObject({ TYPE: 'ext4', USAGE: 'filesystem' });
    expect(probes.get('/dev/loop3')).toEqual({});
  });
});

describe('what uses each device', () => {
  const vmDisks = [{ vm: 'web1', path: '/srv/local/web1.dev' }, { vm: 'db', path: '/dev/vg0/web' }];
  const facts = parseDeviceFacts(output('/srv/local/web1.dev\t/dev/loop3\n/dev/vg0/web\t/dev/dm-0\n'), vmDisks);
  const volumes = deviceVolumesFromFacts(allDevices, facts);
  const use = (name: string) => volumes.find((volume) => volume.name === name)?.device?.use;

  it('lists every device but CD-ROMs, as raw volumes sized by the device', () => {
    expect(volumes.map((volume) => volume.name)).toEqual(['loop3', 'loop4', 'loop5', 'sda', 'sda1', 'sda2', 'vg0-web']);
    const loop3 = volumes.find((volume) => volume.name === 'loop3');
    expect(loop3).toMatchObject({ path: '/dev/loop3', format: 'raw', virtualSizeBytes: 67108864, pool: 'devs' });
  });

  it('names the mount points of a mounted device, also when it carries a filesystem', () => {
    expect(use('sda1')).toEqual({ kind: 'mounted', mountpoints: ['/boot/efi'] });
    expect(use('loop5')).toEqual({ kind: 'mounted', mountpoints: ['/mnt/a', '/mnt/b'] });
    expect(volumes.find((volume) => volume.name === 'loop5')?.device?.readOnly).toBe(true);
  });

  it('names the VM whose disk resolves to the device, through a symlink or the kernel name of a logical volume', () => {
    expect(use('loop3')).toEqual({ kind: 'vm', vms: ['web1'] });
    expect(use('vg0-web')).toEqual({ kind: 'vm', vms: ['db'] });
  });

  it('shows a disk holding partitions and a PV holding logical volumes as holding them', () => {
    expect(use('sda')).toEqual({ kind: 'holds-devices', devices: ['/dev/sda1', '/dev/sda2'] });
    expect(use('sda2')).toEqual({ kind: 'holds-devices', devices: ['/dev/mapper/vg0-web'] });
  });

  it('takes the filesystem from blkid when lsblk has none', () => {
    expect(use('loop4')).toEqual({ kind: 'signature', signature: 'ext4', usage: 'filesystem' });
  });

  it('tells an LVM physical volume and a bare partition table apart from a filesystem', () => {
    const lone = JSON.stringify({
      blockdevices: [
        { name: 'sdc', path: '/dev/sdc', size: 1, type: 'disk', fstype: 'LVM2_member', mountpoints: [null] },
        { name: 'sdd', path: '/dev/sdd', size: 1, type: 'disk', fstype: null, mountpoints: [null] },
        { name: 'sde', path: '/dev/sde', size: 1, type: 'disk', fstype: null, mountpoints: [null] },
      ],
    });
    const probes = '@@dev /dev/sdd\nPTTYPE=dos\n@@dev /dev/sde\nTYPE=swap\nUSAGE=other\n';
    const listed = deviceVolumesFromFacts(allDevices, parseDeviceFacts([lone, probes, '', ''].join('\n@@ferry-section\n'), []));
    expect(listed.map((volume) => volume.device?.use)).toEqual([
      { kind: 'signature', signature: 'LVM2_member', usage: 'lvm-pv' },
      { kind: 'signature', signature: 'dos', usage: 'partition-table' },
      { kind: 'signature', signature: 'swap', usage: 'other' },
    ]);
    expect(listed.map((volume) => describeDeviceUse(volume.device!.use))).toEqual(['LVM physical volume (LVM2_member)', 'partition table (dos)', 'signature swap']);
  });

  it('calls a device with nothing on it free', () => {
    const facts = parseDeviceFacts(output(''), []);
    expect(deviceVolumesFromFacts(allDevices, facts).find((volume) => volume.name === 'loop3')?.device?.use).toEqual({ kind: 'free' });
  });

  it('describes each use in one line', () => {
    expect(describeDeviceUse({ kind: 'mounted', mountpoints: ['/mnt/a', '/mnt/b'] })).toBe('mounted at /mnt/a, /mnt/b');
    expect(describeDeviceUse({ kind: 'vm', vms: ['web1'] })).toBe('in use by VM web1');
    expect(describeDeviceUse({ kind: 'signature', signature: 'ext4', usage: 'filesystem' })).toBe('filesystem ext4');
    expect(describeDeviceUse({ kind: 'free' })).toBe('free');
  });
});

describe('a disk pool on a directory of links', () => {
  it('lists only the block devices named there, under their link names and paths', () => {
    const facts = parseDeviceFacts(output('', 'web.dev\t/dev/loop3\nlv-web\t/dev/dm-0\ngone\t/dev/loop99\n'), []);
    const volumes = deviceVolumesFromFacts(linkDirectory, facts);
    expect(volumes.map((volume) => [volume.name, volume.path, volume.device?.devicePath])).toEqual([
      ['lv-web', '/srv/local/devices/lv-web', '/dev/mapper/vg0-web'],
      ['web.dev', '/srv/local/devices/web.dev', '/dev/loop3'],
    ]);
  });

  it('quotes every path in the script and lists the directory only when it is not /dev', () => {
    const script = deviceFactsScript("/srv/it's", ["/srv/a b.img"]);
    expect(script).toContain(`for f in ${shellQuote("/srv/it's")}/*`);
    expect(script).toContain(`readlink -f -- '/srv/a b.img'`);
    expect(deviceFactsScript('/dev', [])).not.toContain('for f in');
  });
});

describe('disk pool definitions', () => {
  it('allow /dev for a disk pool and nowhere else', () => {
    expect(poolDefineInput.safeParse({ host: 'a', pool: 'devs', type: 'disk', path: '/dev' }).success).toBe(true);
    const dir = poolDefineInput.safeParse({ host: 'a', pool: 'devs', type: 'dir', path: '/dev' });
    expect(dir.success).toBe(false);
    expect(dir.error?.issues[0]?.path).toEqual(['path']);
    expect(poolDefineInput.safeParse({ host: 'a', pool: 'devs', type: 'disk', path: '/etc' }).success).toBe(false);
    expect(poolDefineInput.safeParse({ host: 'a', pool: 'devs', type: 'disk', path: '/dev/null' }).success).toBe(false);
  });
});
