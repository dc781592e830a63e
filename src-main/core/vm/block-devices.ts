import type { VmDefinition } from '../api/types.js';
import { FerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

/** Shell: one line per path, "block" when it is a block device (following symlinks), else "other". */
export function blockDeviceTestScript(paths: readonly string[]): string {
  return [...paths.map((path) => `if ${shellCommand(['test', '-b', path])}; then echo block; else echo other; fi`), 'true'].join('\n');
}

export function parseBlockDeviceTest(output: string, count: number): boolean[] {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  return Array.from({ length: count }, (_, index) => lines[index] === 'block');
}

/** Which of `paths` are block devices on the host, in one round trip. */
export async function hostBlockDevices(transport: HostTransport, paths: readonly string[]): Promise<boolean[]> {
  if (paths.length === 0) return [];
  return parseBlockDeviceTest(await transport.run(blockDeviceTestScript(paths)), paths.length);
}

/**
 * A qcow2 layer on a device cannot grow and QEMU cannot tell how much of the device it may use:
 * Ferry keeps devices raw, as the article's partition and LVM setups are.
 */
export function requireRawOnDevice(path: string, format: string, host: string): void {
  if (format === 'raw') return;
  throw new FerryError('unsupported', `Disk ${path} on ${host} is a block device in ${format} format; Ferry uses block devices only as raw disks`, {
    hint: 'Give format=raw (the device holds the guest disk directly), or convert the data into a raw device or a qcow2 image file first.',
  });
}

/**
 * The definition with each disk's blockDevice flag as the host says now. The host is the
 * authority: a definition written before the flag existed, or a device path that became a file
 * (or the other way round), still starts with the right QEMU driver.
 */
export async function withHostDiskKinds(transport: HostTransport, definition: VmDefinition): Promise<VmDefinition> {
  if (definition.adopted || definition.disks.length === 0) return definition;
  const devices = await hostBlockDevices(transport, definition.disks.map((disk) => disk.path));
  const disks = definition.disks.map((disk, index) => {
    const { blockDevice: _recorded, ...rest } = disk;
    if (!devices[index]) return rest;
    requireRawOnDevice(disk.path, disk.format, transport.label);
    return { ...rest, blockDevice: true };
  });
  return { ...definition, disks };
}
