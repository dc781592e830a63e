import { posix } from 'node:path';
import type { VmDefinition } from '../api/types.js';
import { FerryError } from '../errors.js';
import { parseImageChain } from '../storage/image-info.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import { launchQemu } from '../vm/launch.js';
import type { PlannedDisk, RunContext } from './run-context.js';

/** The definition as it must look on the destination: same hardware, disks at their new paths. */
export function destinationDefinition(definition: VmDefinition, disks: PlannedDisk[]): VmDefinition {
  return {
    ...definition,
    disks: definition.disks.map((disk, index) => {
      const planned = disks[index];
      const { blockDevice: _source, ...rest } = disk;
      if (!planned) return disk;
      // A device is written raw, whatever the source image was; the destination's start asks its host again.
      if (planned.destinationDevice) return { ...rest, path: planned.destinationPath, format: 'raw' as const, blockDevice: true };
      return { ...rest, path: planned.destinationPath };
    }),
  };
}

/** The format a disk has on the destination: a device is always raw. */
export function destinationFormat(disk: PlannedDisk): 'qcow2' | 'raw' {
  return disk.destinationDevice ? 'raw' : disk.source.disk.format;
}

export type ExistingImage = { state: 'absent' } | { state: 'usable' } | { state: 'unusable'; reason: string };

/** A destination image already there is used only if it is exactly what the copy needs. */
export async function existingImage(transport: HostTransport, disk: PlannedDisk): Promise<ExistingImage> {
  if ((await transport.exec(shellCommand(['test', '-e', disk.destinationPath]))).code !== 0) return { state: 'absent' };
  const info = await transport.exec(shellCommand(['qemu-img', 'info', '-U', '--output=json', '--', disk.destinationPath]));
  const top = info.code === 0 ? parseImageChain(info.stdout)?.[0] : undefined;
  if (!top) return { state: 'unusable', reason: `${disk.destinationPath} exists on ${transport.label} but is not a readable image` };
  if (top['virtual-size'] !== disk.source.virtualSizeBytes) {
    return {
      state: 'unusable',
      reason: `${disk.destinationPath} exists on ${transport.label} with ${top['virtual-size']} bytes; the copy needs exactly ${disk.source.virtualSizeBytes}`,
    };
  }
  if (top.format !== disk.source.disk.format) return { state: 'unusable', reason: `${disk.destinationPath} on ${transport.label} is ${top.format}, the source disk is ${disk.source.disk.format}` };
  return { state: 'usable' };
}

/** Creates each destination image that is not there yet, at the exact virtual size of its source. */
export async function prepareDestinationImages(context: RunContext, incremental: boolean): Promise<void> {
  // A destination device is never created (nor removed by undo): pre-flight proved it is there and free.
  for (const disk of context.disks.filter((candidate) => !candidate.shared && !candidate.destinationDevice)) {
    const existing = await existingImage(context.destination, disk);
    if (existing.state === 'unusable') throw new FerryError('invalid-input', existing.reason, { hint: 'Remove or rename that file on the destination, or choose another --dest-pool.' });
    if (existing.state === 'usable') {
      // Pre-flight refused it unless the user allowed reuse; one that appeared since is refused here.
      if (context.options.reuseImages) continue;
      throw new FerryError('already-exists', `${disk.destinationPath} appeared on ${context.options.to} during the migration`, { hint: 'Something else created it; Ferry leaves it alone. Remove it or choose another --dest-pool, then try again.' });
    }
    context.createdImages.add(disk.destinationPath);
    await context.pushUndo({ kind: 'remove-file', host: context.options.to, path: disk.destinationPath });
    const argv = ['qemu-img', 'create', '-q', '-f', disk.source.disk.format];
    if (disk.source.disk.format === 'qcow2') argv.push('-o', 'compat=1.1');
    const backing = disk.source.backing[0];
    if (incremental && backing) argv.push('-b', backing.path, '-F', backing.format);
    argv.push('--', disk.destinationPath, String(disk.source.virtualSizeBytes));
    await context.destination.run(`mkdir -p ${shellCommand([posix.dirname(disk.destinationPath)])} && ${shellCommand(argv)}`);
  }
}

/** Starts the destination QEMU paused, waiting for "migrate-incoming"; returns its monitor socket. */
export async function startDestinationQemu(context: RunContext, definition: VmDefinition, extraArgv: string[] = []): Promise<string> {
  const layout = vmLayout(definition.name);
  await context.pushUndo({ kind: 'kill-qemu', host: context.options.to, pidFile: layout.pidFile, qmpSocket: layout.qmpSocket });
  const result = await launchQemu(context.destination, definition, { kvmUsable: context.kvmOnDestination, incoming: true, extraArgv });
  const argv = result.argv;
  if (result.code !== 0) {
    throw new FerryError('migration-failed', `The destination QEMU on ${context.options.to} did not start: ${result.stderr.trim()}`, {
      hint: 'Check that the destination has the same QEMU machine type and can open the disks.',
      details: { argv },
    });
  }
  return layout.qmpSocket;
}
