import { posix } from 'node:path';
import type { ChannelArgs } from '../api/contract.js';
import type { VolumeInfo } from '../api/types.js';
import { FerryError } from '../errors.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { parseImageChain, type ImageInfo } from './image-info.js';
import { listDeviceVolumes, refuseDeviceVolumeChange } from './block-devices.js';
import { poolSummary, type PoolFile } from './pools.js';

const RECORD_MARK = '@@ferry-volume ';

function toVolume(pool: PoolFile, name: string, chain: ImageInfo[]): VolumeInfo {
  const [top, ...backing] = chain;
  return {
    name,
    pool: pool.name,
    path: posix.join(pool.path, name),
    format: top?.format ?? 'unknown',
    virtualSizeBytes: top?.['virtual-size'] ?? 0,
    allocationBytes: top?.['actual-size'] ?? 0,
    backingChain: backing.map((image) => ({ path: image.filename, format: image.format })),
  };
}

async function requireActive(transport: HostTransport, host: string, pool: PoolFile): Promise<void> {
  if (!(await poolSummary(transport, pool)).active) {
    throw new FerryError('busy', `Pool "${pool.name}" on ${host} is not started`, { hint: `Start it first: \`ferry pool start ${host} ${pool.name}\`.` });
  }
}

/** Every regular file in the pool directory, described by qemu-img in one round trip. */
export async function listVolumes(transport: HostTransport, host: string, pool: PoolFile): Promise<VolumeInfo[]> {
  await requireActive(transport, host, pool);
  if (pool.type === 'disk') return listDeviceVolumes(transport, pool);
  // -U reads images that a running QEMU holds locked; without it the listing would hide them.
  const script = `cd ${shellQuote(pool.path)} || exit 1; for f in *; do [ -f "$f" ] || continue; printf '\\n${RECORD_MARK}%s\\n' "$f"; qemu-img info -U --output=json --backing-chain -- "$PWD/$f" 2>/dev/null; done`;
  const output = await transport.run(script, { timeoutMs: 120_000 });
  const volumes: VolumeInfo[] = [];
  for (const chunk of output.split(`\n${RECORD_MARK}`).slice(1)) {
    const newline = chunk.indexOf('\n');
    const name = newline === -1 ? chunk : chunk.slice(0, newline);
    const chain = parseImageChain(newline === -1 ? '' : chunk.slice(newline + 1));
    if (chain) volumes.push(toVolume(pool, name, chain));
  }
  return volumes.sort((a, b) => a.name.localeCompare(b.name));
}

export async function volumeInfo(transport: HostTransport, host: string, pool: PoolFile, name: string): Promise<VolumeInfo> {
  if (pool.type === 'disk') {
    const device = (await listVolumes(transport, host, pool)).find((volume) => volume.name === name);
    if (!device) throw new FerryError('not-found', `There is no device "${name}" in disk pool "${pool.name}" on ${host}`, { hint: `\`ferry vol list ${host} ${pool.name}\` shows the devices.` });
    return device;
  }
  const path = posix.join(pool.path, name);
  const result = await transport.exec(shellCommand(['qemu-img', 'info', '-U', '--output=json', '--backing-chain', '--', path]));
  const chain = result.code === 0 ? parseImageChain(result.stdout) : null;
  if (!chain) {
    throw new FerryError('not-found', `There is no volume "${name}" in pool "${pool.name}" on ${host}`, { hint: `\`ferry vol list ${host} ${pool.name}\` shows the volumes.` });
  }
  return toVolume(pool, name, chain);
}

/** Header and first tables of an empty qcow2; a thin volume needs at least this much room. */
const THIN_QCOW2_OVERHEAD = 1024 * 1024;

export async function createVolume(transport: HostTransport, pool: PoolFile, args: ChannelArgs<'volumes.create'>): Promise<VolumeInfo> {
  if (pool.type === 'disk') refuseDeviceVolumeChange('create', pool, args.host);
  const summary = await poolSummary(transport, pool);
  if (!summary.active) await requireActive(transport, args.host, pool);
  const path = posix.join(pool.path, args.name);
  if ((await transport.exec(shellCommand(['test', '-e', path]))).code === 0) {
    throw new FerryError('already-exists', `A volume named "${args.name}" already exists in pool "${pool.name}" on ${args.host}`, { hint: 'Pick another name, or delete the existing volume first.' });
  }
  const needed = args.preallocation === 'off' || args.preallocation === 'metadata' ? THIN_QCOW2_OVERHEAD : args.capacity;
  if (needed > summary.availableBytes) {
    throw new FerryError('no-space', `Not enough space in pool "${pool.name}" on ${args.host}: ${args.name} needs ${needed} bytes, ${summary.availableBytes} are free`, {
      hint: 'Free some space, pick a smaller capacity, or create the volume thin (no preallocation).',
      details: { neededBytes: needed, availableBytes: summary.availableBytes },
    });
  }
  const argv = ['qemu-img', 'create', '-q', '-f', args.format];
  const options: string[] = [];
  if (args.preallocation !== 'off') options.push(`preallocation=${args.preallocation}`);
  if (args.format === 'qcow2') options.push('compat=1.1');
  if (options.length > 0) argv.push('-o', options.join(','));
  if (args.backing) {
    const backing = await transport.exec(shellCommand(['qemu-img', 'info', '-U', '--output=json', '--', args.backing]));
    const backingChain = backing.code === 0 ? parseImageChain(backing.stdout) : null;
    if (!backingChain?.[0]) {
      throw new FerryError('not-found', `The backing file ${args.backing} is not a readable image on ${args.host}`, { hint: 'Give the full path of an existing qcow2 or raw image.' });
    }
    if (args.format !== 'qcow2') throw new FerryError('invalid-input', 'Only qcow2 volumes can have a backing file', { hint: 'Use --format qcow2.' });
    argv.push('-b', args.backing, '-F', args.backingFormat ?? backingChain[0].format);
  }
  argv.push('--', path, String(args.capacity));
  const result = await transport.exec(shellCommand(argv), { timeoutMs: 600_000 });
  if (result.code !== 0) {
    // Preallocation can fail halfway; a partial file would look like a real volume.
    await transport.exec(shellCommand(['rm', '-f', '--', path]));
    const noSpace = /No space left/i.test(result.stderr);
    throw new FerryError(noSpace ? 'no-space' : 'remote-command-failed', `Could not create ${args.name}: ${result.stderr.trim()}`, {
      hint: noSpace ? 'Free some space in the pool or choose a smaller capacity.' : 'Check the values and the pool directory permissions.',
    });
  }
  return volumeInfo(transport, args.host, pool, args.name);
}

export async function deleteVolume(transport: HostTransport, host: string, pool: PoolFile, name: string): Promise<void> {
  if (pool.type === 'disk') refuseDeviceVolumeChange('delete', pool, host);
  const volume = await volumeInfo(transport, host, pool, name);
  // Without -U qemu-img takes the image lock, which fails while a QEMU has the image open.
  const lock = await transport.exec(shellCommand(['qemu-img', 'info', '--output=json', '--', volume.path]));
  if (lock.code !== 0 && /lock/i.test(lock.stderr)) {
    throw new FerryError('busy', `Volume "${name}" on ${host} is in use by a running VM`, { hint: 'Stop the VM that uses it first.' });
  }
  await transport.run(shellCommand(['rm', '-f', '--', volume.path]));
}
