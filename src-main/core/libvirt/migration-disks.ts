import { posix } from 'node:path';
import type { DiskProgress } from '../api/types.js';
import { FerryError } from '../errors.js';
import { copyFileBetweenHosts } from '../remote/stream-file.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import type { LibvirtMigrationOptions } from './migration-plan.js';

/** A writable disk of the domain, by its guest name and its file on the source. */
export interface MigratedDisk {
  device: string;
  path: string;
}

interface ImageFacts {
  virtualSize: number;
  format: string;
  backing: string | null;
}

async function imageFacts(host: HostTransport, path: string): Promise<ImageFacts> {
  // -U: the image is open in the running domain.
  const text = await host.run(shellCommand(['qemu-img', 'info', '-U', '--output=json', path]));
  const info = JSON.parse(text) as { 'virtual-size'?: number; format?: string; 'full-backing-filename'?: string; 'backing-filename'?: string };
  if (typeof info['virtual-size'] !== 'number' || typeof info.format !== 'string') throw new FerryError('internal', `qemu-img info gave no size or format for ${path}`);
  return { virtualSize: info['virtual-size'], format: info.format, backing: info['full-backing-filename'] ?? info['backing-filename'] ?? null };
}

/**
 * Block migration: libvirt copies into images that already exist on the destination, of exactly
 * the source's virtual size. Returns the paths made, for removal if the migration does not finish.
 */
export async function createDestinationImages(source: HostTransport, destination: HostTransport, disks: MigratedDisk[], options: Pick<LibvirtMigrationOptions, 'incremental' | 'reuseImages'>): Promise<string[]> {
  const created: string[] = [];
  try {
    for (const disk of disks) {
      if ((await destination.exec(shellCommand(['test', '-e', disk.path]))).code === 0) {
        if (options.reuseImages) continue;
        throw new FerryError('already-exists', `${disk.path} already exists on the destination`, { hint: 'Remove it there, or allow reusing destination images.' });
      }
      const facts = await imageFacts(source, disk.path);
      const backing = options.incremental && facts.backing !== null ? ['-b', facts.backing, '-F', (await imageFacts(source, facts.backing)).format] : [];
      await destination.run(shellCommand(['mkdir', '-p', posix.dirname(disk.path)]));
      await destination.run(shellCommand(['qemu-img', 'create', '-q', '-f', facts.format, ...backing, disk.path, String(facts.virtualSize)]));
      created.push(disk.path);
    }
  } catch (error) {
    await removeDestinationImages(destination, created);
    throw error;
  }
  return created;
}

export async function removeDestinationImages(destination: HostTransport, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  await destination.exec(shellCommand(['rm', '-f', '--', ...paths])).catch(() => undefined);
}

/**
 * Offline: libvirt moves no storage without a running domain, so Ferry streams each image file
 * from host to host through its own connections. Returns the paths written on the destination.
 */
export async function copyDisksOffline(
  source: HostTransport,
  destination: HostTransport,
  disks: MigratedDisk[],
  options: { signal: AbortSignal; onProgress(progress: DiskProgress[]): void; reuseImages: boolean },
): Promise<string[]> {
  const sizes = await Promise.all(disks.map(async (disk) => Number((await source.run(shellCommand(['stat', '-c', '%s', disk.path]))).trim())));
  const progress: DiskProgress[] = disks.map((disk, index) => ({ device: disk.device, path: disk.path, transferredBytes: 0, remainingBytes: sizes[index] ?? 0, totalBytes: sizes[index] ?? 0 }));
  const written: string[] = [];
  let lastReport = 0;
  try {
    await copyEach();
  } catch (error) {
    // Pre-flight made sure none of these paths existed on the destination (unless the user let
    // Ferry reuse them): what a failed or cancelled copy wrote there is Ferry's alone.
    if (!options.reuseImages) await removeDestinationImages(destination, written);
    throw error;
  }
  return written;

  async function copyEach(): Promise<void> {
    for (const [index, disk] of disks.entries()) {
      const entry = progress[index] as DiskProgress;
      await destination.run(shellCommand(['mkdir', '-p', posix.dirname(disk.path)]));
      written.push(disk.path);
      await copyFileBetweenHosts(source, disk.path, destination, disk.path, {
        mode: 0o600,
        signal: options.signal,
        onProgress: (bytes) => {
          entry.transferredBytes = bytes;
          entry.remainingBytes = Math.max(0, entry.totalBytes - bytes);
          // A chart point every quarter second is enough; the copy reports far more often.
          if (Date.now() - lastReport >= 250) {
            lastReport = Date.now();
            options.onProgress(progress.map((item) => ({ ...item })));
          }
        },
      });
      entry.transferredBytes = entry.totalBytes;
      entry.remainingBytes = 0;
      options.onProgress(progress.map((item) => ({ ...item })));
    }
  }
}
