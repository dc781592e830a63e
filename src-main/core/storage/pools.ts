import { posix } from 'node:path';
import { z } from 'zod';
import type { ChannelArgs } from '../api/contract.js';
import { poolPathMessage } from '../api/pool-path.js';
import type { PoolDefinition, PoolSummary } from '../api/types.js';
import { FerryError } from '../errors.js';
import { remoteLayout } from '../paths.js';
import { damagedProblem, readJsonDirectory, readJsonFile, writeJsonFile } from '../remote/json-files.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

const poolFileSchema = z.object({
  name: z.string(),
  type: z.enum(['dir', 'netfs', 'shared', 'disk']),
  path: z.string(),
  source: z.string().optional(),
  autostart: z.boolean(),
  /** dir, shared and disk pools have no mount to tell whether they are started, so it is remembered. */
  started: z.boolean(),
});
type PoolFile = z.infer<typeof poolFileSchema>;

const poolFile = (name: string) => posix.join(remoteLayout.pools, `${name}.json`);


interface DiskUsage {
  capacityBytes: number;
  allocationBytes: number;
  availableBytes: number;
}

async function diskUsage(transport: HostTransport, paths: string[]): Promise<Map<string, DiskUsage>> {
  const usage = new Map<string, DiskUsage>();
  if (paths.length === 0) return usage;
  // Exactly one output line per path, empty when df fails, so lines and paths stay aligned.
  const script = paths.map((path) => `echo "$(df -P -B1 -- ${shellQuote(path)} 2>/dev/null | tail -n1)"`).join('; ');
  const lines = (await transport.run(script)).split('\n');
  for (const [index, path] of paths.entries()) {
    // Filesystem, 1-blocks, Used, Available, Capacity, Mounted on
    const fields = (lines[index] ?? '').trim().split(/\s+/);
    if (fields.length >= 6) {
      usage.set(path, { capacityBytes: Number(fields[1]), allocationBytes: Number(fields[2]), availableBytes: Number(fields[3]) });
    }
  }
  return usage;
}

async function isActive(transport: HostTransport, pool: PoolFile): Promise<boolean> {
  const test = pool.type === 'netfs' ? shellCommand(['mountpoint', '-q', pool.path]) : shellCommand(['test', '-d', pool.path]);
  const present = (await transport.exec(test)).code === 0;
  return pool.type === 'netfs' ? present : present && pool.started;
}

function summary(pool: PoolFile, active: boolean, usage: DiskUsage | undefined): PoolSummary {
  const definition: PoolDefinition = { name: pool.name, type: pool.type, path: pool.path, autostart: pool.autostart };
  if (pool.source !== undefined) definition.source = pool.source;
  return {
    ...definition,
    active,
    capacityBytes: active ? usage?.capacityBytes ?? 0 : 0,
    allocationBytes: active ? usage?.allocationBytes ?? 0 : 0,
    availableBytes: active ? usage?.availableBytes ?? 0 : 0,
  };
}

export async function loadPool(transport: HostTransport, host: string, name: string): Promise<PoolFile> {
  const pool = await readJsonFile(transport, poolFile(name), poolFileSchema);
  if (!pool) {
    throw new FerryError('not-found', `There is no storage pool "${name}" on ${host}`, {
      hint: `Define it first (\`ferry pool define ${host} ${name} --type dir --path /var/lib/ferry/images\`), or see \`ferry pool list ${host}\`.`,
    });
  }
  return pool;
}

export async function listPools(transport: HostTransport): Promise<PoolSummary[]> {
  const directory = await readJsonDirectory(transport, remoteLayout.pools, poolFileSchema);
  const pools = directory.entries.map((entry) => entry.value);
  const active = await Promise.all(pools.map((pool) => isActive(transport, pool)));
  // A disk pool's path names devices; the filesystem holding it says nothing about their space.
  const usage = await diskUsage(transport, pools.filter((pool, index) => active[index] && pool.type !== 'disk').map((pool) => pool.path));
  const damaged = directory.damaged.map((file): PoolSummary => ({
    // Type and path are unknown for a damaged file; the listing still shows it so it can be repaired.
    name: file.name, type: 'dir', path: '', autostart: false, active: false, capacityBytes: 0, allocationBytes: 0, availableBytes: 0, problem: damagedProblem(file),
  }));
  return [...pools.map((pool, index) => summary(pool, active[index] ?? false, usage.get(pool.path))), ...damaged];
}

export async function poolSummary(transport: HostTransport, pool: PoolFile): Promise<PoolSummary> {
  const active = await isActive(transport, pool);
  const usage = active && pool.type !== 'disk' ? await diskUsage(transport, [pool.path]) : new Map<string, DiskUsage>();
  return summary(pool, active, usage.get(pool.path));
}

export async function definePool(transport: HostTransport, args: ChannelArgs<'pools.define'>): Promise<PoolSummary> {
  // The input schema already refuses these; checked again because definePool is exported.
  const refused = poolPathMessage(args.path, args.type);
  if (refused !== null) throw new FerryError('invalid-input', refused);
  if (args.type === 'netfs' && !args.source) {
    throw new FerryError('invalid-input', 'A netfs pool needs --source SERVER:/EXPORT', { hint: 'Give the NFS export to mount, e.g. --source nfs.example:/exports/vms.' });
  }
  if (args.type !== 'netfs' && args.source) {
    throw new FerryError('invalid-input', `A ${args.type} pool takes no --source`, { hint: 'Only netfs pools mount a source; drop --source or use --type netfs.' });
  }
  if ((await transport.exec(shellCommand(['test', '-e', poolFile(args.pool)]))).code === 0) {
    throw new FerryError('already-exists', `A storage pool named "${args.pool}" already exists on ${args.host}`, { hint: 'Pick another name or delete the old pool.' });
  }
  const existing = (await readJsonDirectory(transport, remoteLayout.pools, poolFileSchema)).entries.find((entry) => entry.value.path === args.path);
  if (existing) {
    throw new FerryError('already-exists', `Pool "${existing.name}" on ${args.host} already uses ${args.path}`, { hint: 'Two pools on one directory would list each volume twice; use the existing pool.' });
  }
  if (args.type === 'disk' && (await transport.exec(shellCommand(['test', '-d', args.path]))).code !== 0) {
    throw new FerryError('invalid-input', `${args.path} does not exist on ${args.host}`, { hint: 'A disk pool lists the block devices named in an existing directory: /dev for all of them, or a directory of links to the devices.' });
  }
  if (args.type === 'shared' && (await transport.exec(shellCommand(['test', '-d', args.path]))).code !== 0) {
    throw new FerryError('invalid-input', `${args.path} does not exist on ${args.host}`, { hint: 'A shared pool uses storage that is already mounted on every host: mount it first, or use a netfs pool to let Ferry mount it.' });
  }
  const pool: PoolFile = { name: args.pool, type: args.type, path: args.path, autostart: args.autostart, started: false };
  if (args.source !== undefined) pool.source = args.source;
  await writeJsonFile(transport, poolFile(args.pool), pool);
  return args.autostart ? startPool(transport, pool) : poolSummary(transport, pool);
}

export async function startPool(transport: HostTransport, pool: PoolFile): Promise<PoolSummary> {
  if (pool.type === 'netfs') {
    const mounted = (await transport.exec(shellCommand(['mountpoint', '-q', pool.path]))).code === 0;
    if (!mounted) {
      await transport.run(shellCommand(['mkdir', '-p', pool.path]));
      const result = await transport.exec(shellCommand(['mount', '-t', 'nfs', '--', pool.source ?? '', pool.path]), { timeoutMs: 60_000 });
      if (result.code !== 0) {
        throw new FerryError('remote-command-failed', `Could not mount ${pool.source} on ${pool.path}: ${result.stderr.trim()}`, {
          hint: 'Check that the NFS server exports it to this host and that nfs-common is installed there.',
        });
      }
    }
  } else if (pool.type === 'dir') {
    await transport.run(shellCommand(['mkdir', '-p', pool.path]));
  } else if (pool.type === 'disk' && (await transport.exec(shellCommand(['test', '-d', pool.path]))).code !== 0) {
    throw new FerryError('not-found', `The device directory ${pool.path} is not there`, { hint: 'A disk pool never creates its directory: create the links to the devices (or use /dev), then start the pool again.' });
  } else if (pool.type === 'shared' && (await transport.exec(shellCommand(['test', '-d', pool.path]))).code !== 0) {
    throw new FerryError('not-found', `The shared path ${pool.path} is not there`, { hint: 'Mount the shared storage on this host, then start the pool again.' });
  }
  const started = { ...pool, started: true };
  await writeJsonFile(transport, poolFile(pool.name), started);
  return poolSummary(transport, started);
}

export async function stopPool(transport: HostTransport, pool: PoolFile): Promise<PoolSummary> {
  if (pool.type === 'netfs' && (await transport.exec(shellCommand(['mountpoint', '-q', pool.path]))).code === 0) {
    const result = await transport.exec(shellCommand(['umount', '--', pool.path]));
    if (result.code !== 0) {
      throw new FerryError('busy', `Could not unmount ${pool.path}: ${result.stderr.trim()}`, { hint: 'Stop the VMs using volumes of this pool first.' });
    }
  }
  const stopped = { ...pool, started: false };
  await writeJsonFile(transport, poolFile(pool.name), stopped);
  return poolSummary(transport, stopped);
}

/** Removes the definition only; the volumes stay on disk, as with libvirt's pool-undefine. */
export async function deletePool(transport: HostTransport, host: string, pool: PoolFile): Promise<void> {
  if (pool.type === 'netfs' && (await isActive(transport, pool))) {
    throw new FerryError('busy', `Pool "${pool.name}" on ${host} is still mounted`, { hint: `Stop it first: \`ferry pool stop ${host} ${pool.name}\`.` });
  }
  await transport.run(shellCommand(['rm', '-f', poolFile(pool.name)]));
}

export type { PoolFile };
