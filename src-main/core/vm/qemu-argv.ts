import type { VmDefinition } from '../api/types.js';
import { QEMU_BINARY } from '../host/info.js';
import type { VmLayout } from './layout.js';

export interface LaunchOptions {
  /** Whether /dev/kvm is usable on the host; decides 'auto'. */
  kvmUsable: boolean;
  /** Start paused, waiting for an incoming migration ("-incoming defer"). */
  incoming?: boolean;
  /** Start with the CPUs stopped. */
  paused?: boolean;
}

/** QEMU's option syntax uses commas as separators; a literal comma is written twice. */
const optionValue = (value: string) => value.replace(/,/g, ',,');

export function accelArgs(accel: VmDefinition['accel'], kvmUsable: boolean): string[] {
  if (accel === 'tcg' || (accel === 'auto' && !kvmUsable)) return ['-accel', 'tcg'];
  return ['-accel', 'kvm'];
}

/**
 * The one place a VM definition becomes a QEMU command line. Source and destination of a
 * migration both build their argv here, which is what keeps the two sides' device models equal:
 * stable ids and node names for every device, a versioned machine type, a named CPU model.
 */
export function buildQemuArgv(definition: VmDefinition, layout: VmLayout, options: LaunchOptions): string[] {
  if (definition.adopted) {
    return withIncoming([...definition.adopted.argv], options);
  }
  const argv = [
    QEMU_BINARY,
    '-name', `guest=${optionValue(definition.name)},process=ferry-${optionValue(definition.name)}`,
    '-machine', definition.machineType,
    ...accelArgs(definition.accel, options.kvmUsable),
    '-cpu', definition.cpuModel,
    '-m', `${definition.memoryMiB}M`,
    '-smp', String(definition.vcpus),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-vnc', `unix:${layout.vncSocket}`,
    '-qmp', `unix:${optionValue(layout.qmpSocket)},server=on,wait=off`,
    '-chardev', `file,id=ferry-serial0,path=${optionValue(layout.serialLog)},append=on`,
    '-serial', 'chardev:ferry-serial0',
    '-pidfile', layout.pidFile,
    '-daemonize',
  ];
  definition.disks.forEach((disk, index) => {
    const direct = disk.cache === 'none' || disk.cache === 'directsync' ? 'on' : 'off';
    const noFlush = disk.cache === 'unsafe' ? 'on' : 'off';
    argv.push(
      '-blockdev', `driver=file,node-name=ferry-file${index},filename=${optionValue(disk.path)},cache.direct=${direct},cache.no-flush=${noFlush}`,
      '-blockdev', `driver=${disk.format},node-name=ferry-disk${index},file=ferry-file${index},cache.direct=${direct},cache.no-flush=${noFlush}`,
      '-device', `virtio-blk-pci,drive=ferry-disk${index},id=ferry-vd${index}${disk.cache === 'writethrough' || disk.cache === 'directsync' ? ',write-cache=off' : ''}`,
    );
  });
  if (definition.nic) {
    argv.push('-netdev', 'user,id=ferry-net0', '-device', `${definition.nic.model},netdev=ferry-net0,id=ferry-nic0,mac=${definition.nic.mac}`);
  }
  if (definition.kernel) {
    argv.push('-kernel', definition.kernel.path);
    if (definition.kernel.initrd) argv.push('-initrd', definition.kernel.initrd);
    if (definition.kernel.append) argv.push('-append', definition.kernel.append);
  }
  return withIncoming(argv, options);
}

function withIncoming(argv: string[], options: LaunchOptions): string[] {
  if (options.incoming) argv.push('-incoming', 'defer');
  if (options.paused || options.incoming) argv.push('-S');
  return argv;
}
