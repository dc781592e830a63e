import { posix } from 'node:path';
import { z } from 'zod';
import type { BlockDeviceInfo, BlockDeviceUse, VolumeInfo } from '../api/types.js';
import { FerryError } from '../errors.js';
import { remoteLayout } from '../paths.js';
import { readJsonDirectory } from '../remote/json-files.js';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmDefinitionSchema } from '../vm/definition.js';
import type { PoolFile } from './pools.js';

/** The pool path that stands for every block device of the host. */
export const ALL_DEVICES_PATH = '/dev';

/** lsblk columns; MOUNTPOINTS (all mounts) is there since util-linux 2.37, MOUNTPOINT as the fallback. */
export const LSBLK_COLUMNS = 'NAME,KNAME,PATH,SIZE,TYPE,FSTYPE,PTTYPE,MOUNTPOINTS,PKNAME,RO';

const lsblkDeviceSchema = z.object({
  name: z.string(),
  kname: z.string().nullish(),
  path: z.string(),
  size: z.union([z.number(), z.string()]).nullish(),
  type: z.string(),
  fstype: z.string().nullish(),
  pttype: z.string().nullish(),
  mountpoints: z.array(z.string().nullable()).nullish(),
  mountpoint: z.string().nullish(),
  pkname: z.string().nullish(),
  ro: z.union([z.boolean(), z.string()]).nullish(),
});
const lsblkSchema = z.object({ blockdevices: z.array(lsblkDeviceSchema) });
export type LsblkDevice = z.infer<typeof lsblkDeviceSchema>;

/** Devices that are never a VM disk or a migration target. */
const NON_DISK_TYPES = new Set(['rom']);

export function parseLsblk(text: string): LsblkDevice[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FerryError('remote-command-failed', 'lsblk printed something that is not JSON', { hint: 'Ferry needs util-linux 2.37 or newer on the host (lsblk -J).' });
  }
  const parsed = lsblkSchema.safeParse(value);
  if (!parsed.success) {
    throw new FerryError('remote-command-failed', `lsblk's listing was not understood: ${parsed.error.issues[0]?.message ?? 'unknown shape'}`, { hint: 'Ferry needs util-linux 2.37 or newer on the host.' });
  }
  return parsed.data.blockdevices;
}

/** `blkid -p -o export` per device, each block headed by "@@dev PATH": low-level probes, which need no udev. */
export function parseBlkidProbes(text: string): Map<string, Record<string, string>> {
  const probes = new Map<string, Record<string, string>>();
  let current: Record<string, string> | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('@@dev ')) {
      current = {};
      probes.set(line.slice('@@dev '.length), current);
    } else if (current !== null) {
      const equals = line.indexOf('=');
      if (equals > 0) current[line.slice(0, equals)] = line.slice(equals + 1);
    }
  }
  return probes;
}

function signatureOf(device: LsblkDevice, probe: Record<string, string> | undefined): BlockDeviceUse | null {
  // lsblk takes FSTYPE from udev, which a host (or container) without udev lacks; blkid probes the device itself.
  const type = probe?.TYPE ?? device.fstype ?? undefined;
  if (type) {
    if (type === 'LVM2_member') return { kind: 'signature', signature: type, usage: 'lvm-pv' };
    const usage = probe?.USAGE === 'filesystem' || (probe === undefined && type !== 'swap') ? 'filesystem' : 'other';
    return { kind: 'signature', signature: type, usage };
  }
  const partitionTable = probe?.PTTYPE ?? device.pttype ?? undefined;
  if (partitionTable) return { kind: 'signature', signature: partitionTable, usage: 'partition-table' };
  return null;
}

function mountpointsOf(device: LsblkDevice): string[] {
  const all = device.mountpoints ?? (device.mountpoint ? [device.mountpoint] : []);
  return all.filter((mountpoint): mountpoint is string => typeof mountpoint === 'string' && mountpoint !== '');
}

/** What Ferry knows about the devices and who uses them, gathered in one round trip. */
export interface DeviceFacts {
  devices: LsblkDevice[];
  probes: Map<string, Record<string, string>>;
  /** Device node -> VMs on this host whose disk resolves to it. */
  vmsByDevice: Map<string, string[]>;
}

/** readlink -f ends at the kernel's node (/dev/dm-0), lsblk's PATH may be a nicer name (/dev/mapper/vg-lv). */
function nodesOf(device: LsblkDevice): string[] {
  return [device.path, `/dev/${device.kname ?? device.name}`];
}

/** Most binding first: a mounted or VM-held device is in use whatever signature it carries. */
export function classifyDevice(device: LsblkDevice, facts: DeviceFacts): BlockDeviceUse {
  const mountpoints = mountpointsOf(device);
  if (mountpoints.length > 0) return { kind: 'mounted', mountpoints };
  const vms = nodesOf(device).flatMap((node) => facts.vmsByDevice.get(node) ?? []);
  if (vms.length > 0) return { kind: 'vm', vms: [...new Set(vms)].sort() };
  const kernelName = device.kname ?? device.name;
  const children = facts.devices.filter((other) => other.pkname === kernelName).map((other) => other.path);
  if (children.length > 0) return { kind: 'holds-devices', devices: children };
  return signatureOf(device, facts.probes.get(device.path)) ?? { kind: 'free' };
}

export function deviceInfo(device: LsblkDevice, facts: DeviceFacts): BlockDeviceInfo {
  return { devicePath: device.path, type: device.type, readOnly: device.ro === true || device.ro === '1', use: classifyDevice(device, facts) };
}

function sizeOf(device: LsblkDevice): number {
  const size = Number(device.size ?? 0);
  return Number.isFinite(size) ? size : 0;
}

export function deviceVolume(pool: PoolFile, name: string, path: string, device: LsblkDevice, facts: DeviceFacts): VolumeInfo {
  const size = sizeOf(device);
  return { name, pool: pool.name, path, format: 'raw', virtualSizeBytes: size, allocationBytes: size, backingChain: [], device: deviceInfo(device, facts) };
}

const SECTION = '@@ferry-section';

/**
 * lsblk for the listing, blkid for signatures, readlink for what the pool's entries and the VMs'
 * disks point at. Every path in the script comes from a pool or VM definition and is quoted.
 */
export function deviceFactsScript(poolPath: string, vmDiskPaths: readonly string[]): string {
  const links = vmDiskPaths.map((path) => `printf '%s\\t%s\\n' ${shellQuote(path)} "$(readlink -f -- ${shellQuote(path)})"`).join('; ');
  const entries = poolPath === ALL_DEVICES_PATH
    ? ':'
    : `for f in ${shellQuote(poolPath)}/*; do [ -b "$f" ] && printf '%s\\t%s\\n' "\${f##*/}" "$(readlink -f -- "$f")"; done`;
  return [
    `lsblk -J -l -b -o ${LSBLK_COLUMNS} || exit 1`,
    `echo ${SECTION}`,
    `lsblk -n -l -p -o PATH | while read -r d; do echo "@@dev $d"; timeout 10 blkid -p -o export -- "$d" 2>/dev/null; done`,
    `echo ${SECTION}`,
    links || ':',
    `echo ${SECTION}`,
    entries,
    'true',
  ].join('\n');
}

function tabPairs(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields): fields is [string, string] => fields.length === 2 && fields[0] !== '' && fields[1] !== '');
}

export interface ParsedDeviceFacts extends DeviceFacts {
  /** Pool directory entries (name, device node), empty for the all-devices pool. */
  entries: Array<[string, string]>;
}

export function parseDeviceFacts(output: string, vmDisks: ReadonlyArray<{ vm: string; path: string }>): ParsedDeviceFacts {
  const [lsblk = '', blkid = '', links = '', entries = ''] = output.split(`${SECTION}\n`);
  const resolved = new Map(tabPairs(links));
  const vmsByDevice = new Map<string, string[]>();
  for (const disk of vmDisks) {
    const device = resolved.get(disk.path);
    if (device === undefined) continue;
    const vms = vmsByDevice.get(device) ?? [];
    if (!vms.includes(disk.vm)) vms.push(disk.vm);
    vmsByDevice.set(device, vms);
  }
  return { devices: parseLsblk(lsblk), probes: parseBlkidProbes(blkid), vmsByDevice, entries: tabPairs(entries) };
}

async function vmDisksOnHost(transport: HostTransport): Promise<Array<{ vm: string; path: string }>> {
  const directory = await readJsonDirectory(transport, remoteLayout.vms, vmDefinitionSchema);
  return directory.entries.flatMap((entry) => entry.value.disks.map((disk) => ({ vm: entry.name, path: disk.path })));
}

/** The volumes of a disk pool: every block device of the host (path /dev) or those named in the pool's directory. */
export async function listDeviceVolumes(transport: HostTransport, pool: PoolFile): Promise<VolumeInfo[]> {
  const vmDisks = await vmDisksOnHost(transport);
  const output = await transport.run(deviceFactsScript(pool.path, [...new Set(vmDisks.map((disk) => disk.path))]), { timeoutMs: 120_000 });
  const facts = parseDeviceFacts(output, vmDisks);
  return deviceVolumesFromFacts(pool, facts);
}

export function deviceVolumesFromFacts(pool: PoolFile, facts: ParsedDeviceFacts): VolumeInfo[] {
  const byPath = new Map(facts.devices.flatMap((device) => nodesOf(device).map((node) => [node, device] as const)));
  if (pool.path === ALL_DEVICES_PATH) {
    return facts.devices
      .filter((device) => !NON_DISK_TYPES.has(device.type))
      .map((device) => deviceVolume(pool, device.name, device.path, device, facts))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }
  return facts.entries
    .flatMap(([name, node]) => {
      const device = byPath.get(node);
      return device === undefined || NON_DISK_TYPES.has(device.type) ? [] : [deviceVolume(pool, name, posix.join(pool.path, name), device, facts)];
    })
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/** Ferry lists devices but never partitions a disk or creates a logical volume. */
export function refuseDeviceVolumeChange(action: 'create' | 'delete', pool: PoolFile, host: string): never {
  throw new FerryError('invalid-input', `Pool "${pool.name}" on ${host} is a disk pool: Ferry does not ${action === 'create' ? 'create' : 'delete'} block devices`, {
    hint: action === 'create'
      ? 'Its volumes are the host\'s existing disks and partitions; partition the disk (or create the logical volume) on the host yourself, then it is listed here. To create an image file, use a dir pool.'
      : 'A device is removed on the host itself (partitioning tool, lvremove); Ferry leaves devices alone.',
  });
}
