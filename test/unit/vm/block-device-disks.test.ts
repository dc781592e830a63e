import { describe, expect, it } from 'vitest';
import type { VmDefinition } from '../../../src-main/core/api/types.js';
import { isFerryError } from '../../../src-main/core/errors.js';
import { shellQuote } from '../../../src-main/core/ssh/shell.js';
import type { ExecResult, HostTransport } from '../../../src-main/core/ssh/transport.js';
import { blockDeviceTestScript, parseBlockDeviceTest, withHostDiskKinds } from '../../../src-main/core/vm/block-devices.js';
import { vmDefinitionSchema } from '../../../src-main/core/vm/definition.js';
import { vmLayout } from '../../../src-main/core/vm/layout.js';
import { describeBlockDevice, startFailure } from '../../../src-main/core/vm/lifecycle.js';
import { buildQemuArgv } from '../../../src-main/core/vm/qemu-argv.js';

function definition(disks: VmDefinition['disks']): VmDefinition {
  return { name: 'blk1', memoryMiB: 128, vcpus: 1, machineType: 'pc-q35-7.2', cpuModel: 'qemu64', accel: 'tcg', disks, nic: null, createdAt: '2025-01-01T00:00:00.000Z' };
}

const blockdevs = (argv: string[]) => argv.flatMap((arg, index) => (arg === '-blockdev' ? [argv[index + 1] ?? ''] : []));

/** A host whose shell answers the block-device test from a fixed set of device paths. */
function hostWithDevices(devices: Set<string>): HostTransport & { scripts: string[] } {
  const scripts: string[] = [];
  const run = async (script: string) => {
    scripts.push(script);
    return script
      .split('\n')
      .filter((line) => line.startsWith('if '))
      .map((line) => ([...devices].some((device) => line.includes(`test -b ${shellQuote(device)};`)) ? 'block' : 'other'))
      .join('\n');
  };
  return {
    label: 'hostb',
    scripts,
    run,
    exec: async (script: string): Promise<ExecResult> => ({ code: 0, stdout: await run(script), stderr: '' }),
  } as unknown as HostTransport & { scripts: string[] };
}

describe('disks on block devices', () => {
  it('opens a block-device disk with host_device and an image file with file, node names unchanged', () => {
    const argv = buildQemuArgv(
      definition([
        { path: '/dev/vg0/lv1', format: 'raw', cache: 'none', blockDevice: true },
        { path: '/srv/images/data.qcow2', format: 'qcow2', cache: 'none' },
      ]),
      vmLayout('blk1'),
      { kvmUsable: false },
    );
    const [deviceFile, deviceFormat, imageFile] = blockdevs(argv);
    expect(deviceFile).toBe('driver=host_device,node-name=ferry-file0,filename=/dev/vg0/lv1,cache.direct=on,cache.no-flush=off');
    expect(deviceFormat).toBe('driver=raw,node-name=ferry-disk0,file=ferry-file0,cache.direct=on,cache.no-flush=off');
    expect(imageFile).toMatch(/^driver=file,node-name=ferry-file1,filename=\/srv\/images\/data\.qcow2,/);
  });

  it('reads the device test back line by line; a missing line is not a device', () => {
    expect(parseBlockDeviceTest('block\nother\n', 3)).toEqual([true, false, false]);
    const script = blockDeviceTestScript(["/run/ferry-lab-dev/it's"]);
    expect(script).toContain(`test -b '/run/ferry-lab-dev/it'\\''s'`);
  });

  it('takes which disks are devices from the host at launch, whatever the definition recorded', async () => {
    const host = hostWithDevices(new Set(['/dev/loop7']));
    const stored = definition([
      { path: '/dev/loop7', format: 'raw', cache: 'none' },
      { path: '/srv/images/was-a-device.raw', format: 'raw', cache: 'none', blockDevice: true },
    ]);
    const refreshed = await withHostDiskKinds(host, stored);
    expect(refreshed.disks.map((disk) => disk.blockDevice)).toEqual([true, undefined]);
    expect(host.scripts).toHaveLength(1);
  });

  it('refuses a qcow2 disk on a block device with a message that says to use raw', async () => {
    const host = hostWithDevices(new Set(['/dev/loop7']));
    const refused = await withHostDiskKinds(host, definition([{ path: '/dev/loop7', format: 'qcow2', cache: 'none' }])).catch((error: unknown) => error);
    expect(isFerryError(refused, 'unsupported')).toBe(true);
    expect((refused as Error).message).toMatch(/\/dev\/loop7 on hostb is a block device in qcow2 format/);
  });

  it('reads definitions written before the flag existed, and keeps the flag of new ones', () => {
    const old = vmDefinitionSchema.parse(definition([{ path: '/dev/loop7', format: 'raw', cache: 'none' }]));
    expect(old.disks[0]?.blockDevice).toBeUndefined();
    const recorded = vmDefinitionSchema.parse(definition([{ path: '/dev/loop7', format: 'raw', cache: 'none', blockDevice: true }]));
    expect(recorded.disks[0]?.blockDevice).toBe(true);
  });

  it('blames another QEMU only for QEMU\'s lock error, not for a path that contains "block"', () => {
    const wrongDriver = startFailure('blk1', 'hosta', "qemu-system-x86_64: -blockdev driver=file,node-name=ferry-file0,filename=/srv/local/blk.dev: 'file' driver requires '/srv/local/blk.dev' to be a regular file\n", []);
    expect(wrongDriver.code).toBe('remote-command-failed');
    expect(wrongDriver.hint).not.toMatch(/Another QEMU/);
    const locked = startFailure('blk1', 'hosta', 'qemu-system-x86_64: -blockdev driver=qcow2,node-name=ferry-disk0,file=ferry-file0: Failed to get "write" lock\nIs another process using the image [/srv/a.qcow2]?', []);
    expect(locked.code).toBe('busy');
    expect(locked.hint).toMatch(/Another QEMU is using one of its disks/);
  });
});

describe('describeBlockDevice', () => {
  it('says what the device is and what holds it, from lsblk KNAME TYPE PKNAME', () => {
    expect(describeBlockDevice('sda2 part sda')).toBe('/dev/sda2, partition on /dev/sda');
    expect(describeBlockDevice('dm-3 lvm sdb1')).toBe('/dev/dm-3, LVM logical volume on /dev/sdb1');
    expect(describeBlockDevice('loop7 loop')).toBe('/dev/loop7, loop device');
    expect(describeBlockDevice('nvme0n1 disk ')).toBe('/dev/nvme0n1, whole disk');
    expect(describeBlockDevice('')).toBeUndefined();
  });
});
