import type { VmBootDevice, VmDefinition } from '../api/types.js';
import { QEMU_BINARY } from '../host/info.js';
import { definitionNics } from './definition.js';
import { firmwareArgs } from './firmware.js';
import type { VmLayout } from './layout.js';
import { tapDeviceName } from './nic-names.js';

export interface LaunchOptions {
  /** Whether /dev/kvm is usable on the host; decides 'auto'. */
  kvmUsable: boolean;
  /** Start paused, waiting for an incoming migration ("-incoming defer"). */
  incoming?: boolean;
  /** Start with the CPUs stopped. */
  paused?: boolean;
}

/**
 * The seccomp filter every Ferry-built QEMU runs under: no obsolete system calls, no changing
 * scheduling or CPU affinity. elevateprivileges=deny is left out because it refuses setsid(),
 * which -daemonize needs, and spawn=deny because it refuses fork(), which -daemonize and an
 * offline migration's "-incoming exec:" need (QEMU 7.2 exits with "Bad system call" otherwise).
 */
export const QEMU_SANDBOX = 'on,obsolete=deny,resourcecontrol=deny';

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
    // A socket for an interactive console that also appends everything to the serial log, which
    // is what the heartbeat probe and 'vms.serial' read; QEMU logs with or without a client.
    '-chardev', `socket,id=ferry-serial0,path=${optionValue(layout.serialSocket)},server=on,wait=off,logfile=${optionValue(layout.serialLog)},logappend=on`,
    '-serial', 'chardev:ferry-serial0',
    '-pidfile', layout.pidFile,
    '-daemonize',
  ];
  definition.disks.forEach((disk, index) => {
    const direct = disk.cache === 'none' || disk.cache === 'directsync' ? 'on' : 'off';
    const noFlush = disk.cache === 'unsafe' ? 'on' : 'off';
    // A block device (partition, logical volume) is refused by the 'file' driver; host_device
    // opens it. The node names stay the same, so both sides of a migration still agree.
    const protocol = disk.blockDevice ? 'host_device' : 'file';
    argv.push(
      '-blockdev', `driver=${protocol},node-name=ferry-file${index},filename=${optionValue(disk.path)},cache.direct=${direct},cache.no-flush=${noFlush}`,
      '-blockdev', `driver=${disk.format},node-name=ferry-disk${index},file=ferry-file${index},cache.direct=${direct},cache.no-flush=${noFlush}`,
      '-device', `virtio-blk-pci,drive=ferry-disk${index},id=ferry-vd${index}${disk.cache === 'writethrough' || disk.cache === 'directsync' ? ',write-cache=off' : ''}${index === 0 ? bootIndex(definition, 'disk') : ''}`,
    );
  });
  argv.push(...firmwareArgs(definition));
  argv.push(...cdromArgs(definition));
  argv.push(...nicArgs(definition));
  argv.push('-sandbox', QEMU_SANDBOX);
  // Part of the device model, so it comes from the definition: both sides of a migration agree.
  if (definition.display === 'vga') argv.push('-device', 'VGA,id=ferry-vga0');
  if (definition.kernel) {
    argv.push('-kernel', definition.kernel.path);
    if (definition.kernel.initrd) argv.push('-initrd', definition.kernel.initrd);
    if (definition.kernel.append) argv.push('-append', definition.kernel.append);
  }
  return withIncoming(argv, options);
}

/**
 * NIC i is always netdev ferry-net<i> and device ferry-nic<i>, as the single NIC of older
 * definitions was: a VM started before NIC lists existed still migrates to one built here. A
 * bridge NIC's tap is opened by name (see launch.ts for how it joins the bridge); QEMU runs no
 * scripts, which the sandbox would refuse anyway.
 */
export function nicArgs(definition: VmDefinition): string[] {
  return definitionNics(definition).flatMap((nic, index) => {
    const netdev = nic.network.type === 'bridge'
      ? `tap,id=ferry-net${index},ifname=${tapDeviceName(definition.name, index)},script=no,downscript=no`
      : `user,id=ferry-net${index}`;
    return ['-netdev', netdev, '-device', `${nic.model},netdev=ferry-net${index},id=ferry-nic${index},mac=${nic.mac}${index === 0 ? bootIndex(definition, 'network') : ''}`];
  });
}

/**
 * ",bootindex=N" for the device that is N-th in the boot order (the first disk, the CD-ROM, the
 * first NIC), or nothing: a definition without a boot order keeps the command line it always had.
 */
export function bootIndex(definition: VmDefinition, device: VmBootDevice): string {
  const position = definition.boot?.indexOf(device) ?? -1;
  return position < 0 ? '' : `,bootindex=${position + 1}`;
}

/** The install ISO, read-only on the machine's own IDE/AHCI bus (both i440fx and q35 have one). */
export function cdromArgs(definition: VmDefinition): string[] {
  if (!definition.cdrom) return [];
  return [
    '-blockdev', `driver=file,node-name=ferry-cdfile,filename=${optionValue(definition.cdrom)},read-only=on`,
    '-blockdev', 'driver=raw,node-name=ferry-cdrom,file=ferry-cdfile,read-only=on',
    '-device', `ide-cd,drive=ferry-cdrom,id=ferry-cd0${bootIndex(definition, 'cdrom')}`,
  ];
}

function withIncoming(argv: string[], options: LaunchOptions): string[] {
  if (options.incoming) argv.push('-incoming', 'defer');
  if (options.paused || options.incoming) argv.push('-S');
  return argv;
}
