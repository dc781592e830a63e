import type { ChannelArgs } from '../api/contract.js';
import type { PoolSummary, PoolType, VolumeInfo } from '../api/types.js';
import { FerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import { parseColonTable } from './domains.js';
import { attribute, bytesOf, child, children, parseXmlDocument, text } from './domain-xml.js';
import { runVirsh } from './virsh.js';

/** Ferry's nearest pool type for libvirt's; the GUI shows libvirtType for libvirt pools. */
const FERRY_POOL_TYPES: Readonly<Record<string, PoolType>> = { dir: 'dir', fs: 'dir', netfs: 'netfs', disk: 'disk', logical: 'disk' };

/** Names as `virsh ... --name` prints them: one a line, padded with spaces. */
export function nameLines(output: string): string[] {
  return output.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** A pool's XML (`virsh pool-dumpxml`) and its `pool-info --bytes` as Ferry's pool summary. */
export function poolFromLibvirt(xml: string, info: string): PoolSummary {
  const pool = child(parseXmlDocument(xml, 'pool'), 'pool');
  const name = text(child(pool, 'name'));
  if (!pool || !name) throw new FerryError('internal', 'libvirt returned pool XML without a <name>');
  const libvirtType = attribute(pool, 'type') ?? 'dir';
  const table = parseColonTable(info);
  const source = child(pool, 'source');
  const host = attribute(child(source, 'host'), 'name');
  const sourceDir = attribute(child(source, 'dir'), 'path');
  const summary: PoolSummary = {
    name,
    type: FERRY_POOL_TYPES[libvirtType] ?? 'dir',
    path: text(child(child(pool, 'target'), 'path')) ?? '',
    autostart: table.get('Autostart') === 'yes',
    active: table.get('State') === 'running',
    capacityBytes: bytesOf(child(pool, 'capacity'), 'bytes') ?? 0,
    allocationBytes: bytesOf(child(pool, 'allocation'), 'bytes') ?? 0,
    availableBytes: bytesOf(child(pool, 'available'), 'bytes') ?? 0,
    managedBy: 'libvirt',
    libvirtType,
  };
  if (libvirtType === 'netfs' && host !== null && sourceDir !== null) summary.source = `${host}:${sourceDir}`;
  return summary;
}

/** A volume's XML (`virsh vol-dumpxml`) as Ferry's volume info. */
export function volumeFromLibvirt(poolName: string, xml: string): VolumeInfo {
  const volume = child(parseXmlDocument(xml, 'volume'), 'volume');
  const name = text(child(volume, 'name'));
  if (!volume || !name) throw new FerryError('internal', 'libvirt returned volume XML without a <name>');
  const target = child(volume, 'target');
  const backingChain = children(volume, 'backingStore').flatMap((backing) => {
    const path = text(child(backing, 'path'));
    return path ? [{ path, format: attribute(child(backing, 'format'), 'type') ?? 'raw' }] : [];
  });
  return {
    name,
    pool: poolName,
    path: text(child(target, 'path')) ?? '',
    format: attribute(child(target, 'format'), 'type') ?? 'raw',
    virtualSizeBytes: bytesOf(child(volume, 'capacity'), 'bytes') ?? 0,
    allocationBytes: bytesOf(child(volume, 'allocation'), 'bytes') ?? 0,
    backingChain,
  };
}

export async function libvirtPoolSummary(transport: HostTransport, pool: string): Promise<PoolSummary> {
  const [xml, info] = await Promise.all([runVirsh(transport, ['pool-dumpxml', '--pool', pool]), runVirsh(transport, ['pool-info', '--pool', pool, '--bytes'])]);
  return poolFromLibvirt(xml, info);
}

/** Every storage pool libvirt has on the host, started or not. */
export async function listLibvirtPools(transport: HostTransport): Promise<PoolSummary[]> {
  const names = nameLines(await runVirsh(transport, ['pool-list', '--all', '--name']));
  const pools = await Promise.all(names.map((name) => libvirtPoolSummary(transport, name)));
  return pools.sort((a, b) => a.name.localeCompare(b.name));
}

/** The names of a pool's volumes: the first column of `virsh vol-list` (name, path). */
export function volumeNames(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    const match = /^\s*(\S.*?)\s{2,}\S/.exec(line) ?? /^\s*(\S+)\s*$/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

export async function libvirtVolumeInfo(transport: HostTransport, pool: string, name: string): Promise<VolumeInfo> {
  return volumeFromLibvirt(pool, await runVirsh(transport, ['vol-dumpxml', '--pool', pool, '--vol', name]));
}

export async function listLibvirtVolumes(transport: HostTransport, pool: string): Promise<VolumeInfo[]> {
  const names = volumeNames(await runVirsh(transport, ['vol-list', '--pool', pool]));
  const volumes = await Promise.all(names.map((name) => libvirtVolumeInfo(transport, pool, name)));
  return volumes.sort((a, b) => a.name.localeCompare(b.name));
}

/** A new qcow2 or raw volume made by libvirt in the pool (virsh vol-create-as), so the pool knows it at once. */
export async function createLibvirtVolume(transport: HostTransport, args: ChannelArgs<'volumes.create'>): Promise<VolumeInfo> {
  if (args.preallocation === 'falloc' || args.preallocation === 'full') {
    throw new FerryError('unsupported', `libvirt's vol-create-as cannot preallocate "${args.preallocation}"`, {
      hint: 'Use preallocation off or metadata for a libvirt pool, or create the image with qemu-img on the host and `virsh pool-refresh` the pool.',
    });
  }
  if (args.backingFormat !== undefined && args.backing === undefined) {
    throw new FerryError('invalid-input', 'A backing format was given without a backing file', { hint: 'Give the backing file too, or leave the format out.' });
  }
  const argv = ['vol-create-as', '--pool', args.pool, '--name', args.name, '--capacity', `${args.capacity}b`, '--format', args.format];
  if (args.backing !== undefined) argv.push('--backing-vol', args.backing, '--backing-vol-format', args.backingFormat ?? 'qcow2');
  if (args.preallocation === 'metadata') argv.push('--prealloc-metadata');
  await runVirsh(transport, argv);
  return libvirtVolumeInfo(transport, args.pool, args.name);
}
