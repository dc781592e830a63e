import { z } from 'zod';
import type { VmDefinition, VmNic } from './types.js';

/**
 * The VM hardware rules shared by the engine and the renderer's forms: NICs and their networks,
 * the default CPU model, boot order. Plain zod, no Node imports.
 */

/**
 * The default CPU model. qemu64 lacks x86-64-v2 (SSE4.2, POPCNT, CMPXCHG16B), which RHEL 9-family
 * guests need; Nehalem-v1 has it, runs under TCG without missing features, and is a versioned name
 * every QEMU since 4.1 resolves to the same CPU, so both sides of a migration build the same one.
 */
export const DEFAULT_CPU_MODEL = 'Nehalem-v1';

/** Offered only where both hosts of a migration have the same CPU (see preflight). */
export const HOST_PASSTHROUGH_CPU = 'host';

export const nicModelSchema = z.enum(['virtio-net-pci', 'e1000']);

/**
 * A Linux interface name: at most 15 bytes, no '/', no whitespace. It goes into a QEMU option and
 * into `ip` command lines, so it is held to a small alphabet that cannot read as an option.
 */
export const bridgeNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/, "bridge names are 1–15 letters, digits, '.', '-' or '_', not starting with '.' or '-'");

/** A unicast MAC address, written with colons; QEMU reads commas as option separators, so nothing else is allowed. */
export const macAddressSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'a MAC address is six hex pairs separated by colons, e.g. 52:54:00:12:34:56')
  .refine((value) => (parseInt(value.slice(0, 2), 16) & 1) === 0, { message: 'a NIC needs a unicast MAC address (the first byte must be even)' })
  .transform((value) => value.toLowerCase());

export const nicNetworkSchema = z.discriminatedUnion('type', [
  /** QEMU's user-mode network: outgoing connections only, no setup on the host. */
  z.object({ type: z.literal('user') }),
  /** A tap device on an existing host bridge. */
  z.object({ type: z.literal('bridge'), bridge: bridgeNameSchema }),
]);

/** A NIC as typed: the MAC is chosen by Ferry when left out. */
export const vmNicInput = z.object({
  model: nicModelSchema.default('virtio-net-pci'),
  network: nicNetworkSchema.default({ type: 'user' }),
  mac: macAddressSchema.optional(),
});

export const MAX_NICS = 8;

export const firmwareSchema = z.enum(['bios', 'uefi']);

/** A boot device QEMU tries, in order: the CD-ROM, the first disk, the network. */
export const bootDeviceSchema = z.enum(['cdrom', 'disk', 'network']);

/** A boot order: each device at most once. */
export const bootOrderSchema = z
  .array(bootDeviceSchema)
  .max(3)
  .refine((devices) => new Set(devices).size === devices.length, { message: 'name each boot device once' });

/** The VM's NICs in guest order: the list, or for an older definition its one user-mode NIC. */
export function definitionNics(definition: Pick<VmDefinition, 'nic' | 'nics'>): VmNic[] {
  if (definition.nics) return definition.nics;
  return definition.nic ? [{ model: definition.nic.model, mac: definition.nic.mac, network: { type: 'user' } }] : [];
}
