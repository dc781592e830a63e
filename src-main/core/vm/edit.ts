import type { ChannelArgs } from '../api/contract.js';
import type { VmDefinition, VmDetails } from '../api/types.js';
import { FerryError } from '../errors.js';
import { writeJsonFile } from '../remote/json-files.js';
import { randomMac } from './definition.js';
import { vmLayout } from './layout.js';
import { syncAutostart } from './autostart.js';
import { requireCpuModelRuns } from './cpu-model.js';
import { requireFirmware } from './firmware.js';
import { diskFormat, kvmUsable, loadDefinition, requireIso, vmDetails, type VmHost } from './lifecycle.js';
import { livePids } from './state.js';

/**
 * Changes a stopped VM's hardware. A running QEMU keeps the device model it was started with (and
 * a migration rebuilds exactly that on the destination), so edits wait until the VM is off.
 */
export async function updateVm(host: VmHost, args: ChannelArgs<'vms.update'>): Promise<VmDetails> {
  const current = await loadDefinition(host, args.name);
  if (!current) {
    throw new FerryError('not-found', `There is no VM "${args.name}" on ${host.name}`, { hint: `\`ferry vm list ${host.name}\` shows the VMs there.` });
  }
  if (current.adopted) {
    throw new FerryError('unsupported', `VM "${args.name}" was adopted from a QEMU started by hand`, { hint: 'Its hardware is whatever its own command line says; change it there.' });
  }
  if ((await livePids(host.transport, [args.name])).has(args.name)) {
    throw new FerryError('busy', `VM "${args.name}" is running on ${host.name}; its hardware can only change while it is off`, {
      hint: 'Shut it down (or force it off), edit it, then start it again.',
    });
  }
  const next: VmDefinition = { ...current };
  if (args.memoryMiB !== undefined) next.memoryMiB = args.memoryMiB;
  if (args.vcpus !== undefined) next.vcpus = args.vcpus;
  if (args.cpuModel !== undefined) next.cpuModel = args.cpuModel;
  if (args.disks !== undefined) {
    const disks: VmDefinition['disks'] = [];
    for (const disk of args.disks) disks.push({ path: disk.path, format: await diskFormat(host, disk.path, disk.format), cache: disk.cache });
    next.disks = disks;
  }
  if (args.nics !== undefined) {
    // A NIC given without a MAC is a new one; the MACs of NICs the user kept are passed back as they were.
    next.nics = args.nics.map((nic) => ({ model: nic.model, mac: nic.mac ?? randomMac(), network: nic.network }));
    next.nic = null;
  }
  if (args.cdrom === null) delete next.cdrom;
  else if (args.cdrom !== undefined) {
    await requireIso(host, args.cdrom);
    next.cdrom = args.cdrom;
  }
  if (args.boot !== undefined) next.boot = args.boot;
  if (args.autostart !== undefined) next.autostart = args.autostart;
  if (args.firmware === 'bios') delete next.firmware;
  else if (args.firmware === 'uefi') {
    await requireFirmware(host.transport, 'uefi');
    next.firmware = 'uefi';
  }
  const kvm = await kvmUsable(host.transport);
  requireCpuModelRuns(next.cpuModel, next.accel, kvm, host.name);
  await writeJsonFile(host.transport, vmLayout(args.name).definition, next);
  await syncAutostart(host.transport, next, kvm);
  return vmDetails(host, args.name);
}
