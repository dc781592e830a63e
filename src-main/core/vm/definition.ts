import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ChannelArgs } from '../api/contract.js';
import { storedPathSchema, vmNameSchema } from '../api/names.js';
import type { VmDefinition, VmNic } from '../api/types.js';
import { MAX_NICS, bootOrderSchema, definitionNics, firmwareSchema, macAddressSchema, nicModelSchema, nicNetworkSchema } from '../api/vm-hardware.js';

/**
 * A definition as read back from a host. It is checked again, not trusted because Ferry wrote
 * it: a damaged or hostile file (a compromised source host) would otherwise steer a migration
 * into writing disks at paths of its choosing on the destination. A file that fails shows up
 * as damaged, with its problem, instead of being used.
 */
export const vmDefinitionSchema = z.object({
  name: vmNameSchema,
  // 0 is possible for an adopted QEMU (-machine none has no RAM and no CPUs); vms.define itself
  // still requires at least 16 MiB and one vCPU.
  memoryMiB: z.number().int().nonnegative(),
  vcpus: z.number().int().nonnegative(),
  machineType: z.string(),
  cpuModel: z.string(),
  accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
  disks: z.array(
    z.object({
      path: storedPathSchema('disk'),
      format: z.enum(['qcow2', 'raw']),
      cache: z.enum(['none', 'directsync', 'writeback', 'writethrough', 'unsafe']),
      blockDevice: z.boolean().optional(),
    }),
  ),
  nic: z.object({ model: z.enum(['virtio-net-pci', 'e1000']), mac: z.string() }).nullable(),
  nics: z.array(z.object({ model: nicModelSchema, mac: macAddressSchema, network: nicNetworkSchema })).max(MAX_NICS).optional(),
  cdrom: storedPathSchema('disk').optional(),
  boot: bootOrderSchema.optional(),
  autostart: z.boolean().optional(),
  firmware: firmwareSchema.optional(),
  kernel: z.object({ path: storedPathSchema('kernel'), initrd: storedPathSchema('kernel').optional(), append: z.string().optional() }).optional(),
  // Absent in definitions written before Ferry gave VMs a display: those have none.
  display: z.enum(['vga', 'none']).optional(),
  createdAt: z.string(),
  adopted: z.object({ argv: z.array(z.string()), qmpSocket: z.string() }).optional(),
}) satisfies z.ZodType<VmDefinition, unknown>;

/** A locally administered unicast MAC in QEMU's 52:54:00 range. */
export function randomMac(): string {
  const bytes = [...randomBytes(3)].map((byte) => byte.toString(16).padStart(2, '0'));
  return `52:54:00:${bytes.join(':')}`;
}

export { definitionNics };

/** The bridges a VM's NICs need on the host it runs on. */
export function definitionBridges(definition: Pick<VmDefinition, 'nic' | 'nics'>): string[] {
  return [...new Set(definitionNics(definition).flatMap((nic) => (nic.network.type === 'bridge' ? [nic.network.bridge] : [])))];
}

/** NICs as given to vms.define: the list when there is one, else the older single `nic` choice. */
export function nicsFromArgs(args: Pick<ChannelArgs<'vms.define'>, 'nic' | 'nics'>): VmNic[] {
  if (args.nics) return args.nics.map((nic) => ({ model: nic.model, mac: nic.mac ?? randomMac(), network: nic.network }));
  return args.nic === 'none' ? [] : [{ model: args.nic, mac: randomMac(), network: { type: 'user' } }];
}

export function definitionFromArgs(args: ChannelArgs<'vms.define'>, machineType: string, diskFormats: Array<'qcow2' | 'raw'>, blockDevices: readonly boolean[] = []): VmDefinition {
  const definition: VmDefinition = {
    name: args.name,
    memoryMiB: args.memoryMiB,
    vcpus: args.vcpus,
    machineType,
    cpuModel: args.cpuModel,
    accel: args.accel,
    disks: args.disks.map((disk, index) => ({ path: disk.path, format: diskFormats[index] ?? 'raw', cache: disk.cache, ...(blockDevices[index] ? { blockDevice: true } : {}) })),
    nic: null,
    nics: nicsFromArgs(args),
    display: args.display,
    createdAt: new Date().toISOString(),
  };
  if (args.cdrom) definition.cdrom = args.cdrom;
  if (args.boot) definition.boot = args.boot;
  if (args.autostart) definition.autostart = true;
  if (args.firmware === 'uefi') definition.firmware = 'uefi';
  if (args.kernel) {
    definition.kernel = { path: args.kernel };
    if (args.initrd) definition.kernel.initrd = args.initrd;
    if (args.append) definition.kernel.append = args.append;
  }
  return definition;
}
