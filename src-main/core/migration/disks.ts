import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { VmDefinition, VmDisk } from '../api/types.js';
import { FerryError } from '../errors.js';
import { parseImageChain, type ImageInfo } from '../storage/image-info.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

export interface SourceDisk {
  index: number;
  device: string;
  disk: VmDisk;
  virtualSizeBytes: number;
  /** Bytes allocated in the top image (what a sparse-aware copy moves). */
  allocatedBytes: number;
  /** Bytes allocated in the whole chain. */
  chainAllocatedBytes: number;
  backing: Array<{ path: string; format: string }>;
  isBlockDevice: boolean;
}

export async function inspectDisk(transport: HostTransport, disk: VmDisk, index: number): Promise<SourceDisk> {
  const [result, blockTest] = await Promise.all([
    transport.exec(shellCommand(['qemu-img', 'info', '-U', '--output=json', '--backing-chain', '--', disk.path])),
    transport.exec(shellCommand(['test', '-b', disk.path])),
  ]);
  const chain: ImageInfo[] | null = result.code === 0 ? parseImageChain(result.stdout) : null;
  if (!chain?.[0]) {
    throw new FerryError('not-found', `Disk ${disk.path} cannot be read on ${transport.label}: ${result.stderr.trim()}`, { hint: 'Check that the image exists on the source host.' });
  }
  const isBlockDevice = blockTest.code === 0;
  const [top, ...backing] = chain;
  const virtualSizeBytes = top?.['virtual-size'] ?? 0;
  // A device says nothing about what is allocated on it (qemu-img reports 0): all of it may be data.
  const allocatedBytes = isBlockDevice ? virtualSizeBytes : top?.['actual-size'] ?? 0;
  return {
    index,
    device: `ferry-disk${index}`,
    disk,
    virtualSizeBytes,
    allocatedBytes,
    chainAllocatedBytes: isBlockDevice ? virtualSizeBytes : chain.reduce((sum, image) => sum + (image['actual-size'] ?? 0), 0),
    backing: backing.map((image) => ({ path: image.filename, format: image.format })),
    isBlockDevice,
  };
}

export async function inspectDisks(transport: HostTransport, definition: VmDefinition): Promise<SourceDisk[]> {
  return Promise.all(definition.disks.map((disk, index) => inspectDisk(transport, disk, index)));
}

/**
 * True when `path` on both hosts is the very same file, not merely the same name: a marker file
 * written next to it on the source must appear, with the same random content, on the destination.
 */
export async function isSameFile(source: HostTransport, destination: HostTransport, path: string): Promise<boolean> {
  const directory = posix.dirname(path);
  const marker = shellQuote(posix.join(directory, `.ferry-shared-check-${randomBytes(8).toString('hex')}`));
  const token = randomBytes(16).toString('hex');
  // The inode number survives NFS and bind mounts; size and mtime would race a guest writing to it.
  const inode = shellCommand(['stat', '-L', '-c', '%i', '--', path]);
  const written = await source.exec(`printf %s ${shellQuote(token)} > ${marker} && ${inode}`);
  try {
    if (written.code !== 0) return false;
    // Same directory (the marker shows up); then the same image, not another file of that name.
    const seen = await destination.exec(`cat -- ${marker} 2>/dev/null && echo && ${inode}`);
    const [seenToken, destinationInode] = seen.stdout.split('\n');
    return seen.code === 0 && seenToken === token && destinationInode !== undefined && `${destinationInode}\n` === written.stdout;
  } finally {
    // Nothing waits on the marker's removal: the answer is known, and the plan goes on meanwhile.
    void source.exec(`rm -f -- ${marker}`).catch(() => undefined);
  }
}

/** Where a disk lands on the destination: the same path, or the same file name in another pool. */
export function destinationPath(disk: SourceDisk, destPoolPath: string | undefined): string {
  return destPoolPath === undefined ? disk.disk.path : posix.join(destPoolPath, posix.basename(disk.disk.path));
}
