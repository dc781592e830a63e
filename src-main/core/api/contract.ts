import { z } from 'zod';
import {
  absolutePathSchema,
  diskPathSchema,
  hostAddressSchema,
  hostNameSchema,
  kernelPathSchema,
  poolNameSchema,
  sizeSchema,
  vmNameSchema,
  volumeNameSchema,
} from './names.js';
import { poolPathMessage } from './pool-path.js';
import { DEFAULT_CPU_MODEL, MAX_NICS, bootOrderSchema, firmwareSchema, vmNicInput } from './vm-hardware.js';
import type {
  EvacuationSummary,
  HostCheckReport,
  HostInfo,
  HostInventory,
  HostStats,
  HostSummary,
  MigrationRecord,
  MigrationSummary,
  ModeAvailability,
  PoolSummary,
  PreflightReport,
  VmDetails,
  VmSummary,
  VolumeInfo,
} from './types.js';

/**
 * The one API contract: every channel's input schema (validated at runtime wherever a call enters
 * the engine: CLI, Electron IPC, web bridge) and its output type. Adding a channel here is what
 * makes it exist everywhere.
 */

const hostRef = z.object({ host: hostNameSchema });
const poolRef = hostRef.extend({ pool: poolNameSchema });
const volumeRef = poolRef.extend({ name: volumeNameSchema });
const vmRef = hostRef.extend({ name: vmNameSchema });

const sshAddress = hostAddressSchema;

export const hostAddInput = z.discriminatedUnion('transport', [
  z.object({
    transport: z.literal('ssh'),
    name: hostNameSchema,
    address: sshAddress,
    /** Unset: the Port from ~/.ssh/config for this address, else 22. */
    port: z.number().int().min(1).max(65535).optional(),
    /** Unset: the User from ~/.ssh/config for this address, else root. */
    user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, 'must be a user name').optional(),
    /** The user is not root: Ferry runs every command on the host under passwordless sudo (`sudo -n`). */
    sudo: z.boolean().default(false),
    identityFile: z.string().min(1).optional(),
    /** Used only for this connection unless the shell stores it (safeStorage in Electron). */
    password: z.string().optional(),
    passphrase: z.string().optional(),
    useAgent: z.boolean().default(true),
    autoconnect: z.boolean().default(true),
    /** Accept whatever unknown key the host shows (CLI --accept-new-host-key). Never a changed key. */
    acceptNewHostKey: z.boolean().default(false),
    /** Accept the unknown key only if it has exactly this fingerprint (the one shown to the user). */
    trustFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/).optional(),
    /** libvirt: the host's VMs are libvirt domains, run by its libvirtd and reached with virsh over this connection. */
    hypervisor: z.enum(['ferry', 'libvirt']).default('ferry'),
  }),
  z.object({
    transport: z.literal('local'),
    name: hostNameSchema,
    autoconnect: z.boolean().default(true),
    hypervisor: z.enum(['ferry', 'libvirt']).default('ferry'),
  }),
]);

export const poolDefineInput = poolRef.extend({
  type: z.enum(['dir', 'netfs', 'shared', 'disk']),
  /** Checked against the pool type below: a disk pool may name /dev, where no other pool may be. */
  path: absolutePathSchema,
  source: z
    .string()
    .regex(/^[A-Za-z0-9.:_-]+:\/[A-Za-z0-9_./-]*$/, 'must look like SERVER:/EXPORT')
    .refine((value) => !value.startsWith('-'), 'must not start with "-" (mount would read it as an option)')
    .optional(),
  autostart: z.boolean().default(true),
}).superRefine((value, ctx) => {
  const message = poolPathMessage(value.path, value.type);
  if (message !== null) ctx.addIssue({ code: 'custom', path: ['path'], message });
});

export const volumeCreateInput = volumeRef.extend({
  format: z.enum(['qcow2', 'raw']).default('qcow2'),
  capacity: sizeSchema,
  backing: absolutePathSchema.optional(),
  backingFormat: z.enum(['qcow2', 'raw']).optional(),
  preallocation: z.enum(['off', 'metadata', 'falloc', 'full']).default('off'),
});

export const vmDiskInput = z.object({
  path: diskPathSchema,
  format: z.enum(['qcow2', 'raw']).optional(),
  cache: z.enum(['none', 'directsync', 'writeback', 'writethrough', 'unsafe']).default('none'),
});

export const vmDefineInput = vmRef.extend({
  memoryMiB: z.number().int().min(16).max(4 * 1024 * 1024),
  vcpus: z.number().int().min(1).max(512),
  machineType: z.string().regex(/^[a-z0-9._-]+$/).optional(),
  cpuModel: z.string().regex(/^[A-Za-z0-9._-]+$/).default(DEFAULT_CPU_MODEL),
  /** auto = KVM when the host can use it, else TCG. */
  accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
  disks: z.array(vmDiskInput).max(16).default([]),
  nic: z.enum(['none', 'virtio-net-pci', 'e1000']).default('none'),
  /** NICs in guest order; when given, `nic` is ignored. */
  nics: z.array(vmNicInput).max(MAX_NICS).optional(),
  /** An ISO image on the host, attached read-only as a CD-ROM (to install from). */
  cdrom: diskPathSchema.optional(),
  boot: bootOrderSchema.optional(),
  autostart: z.boolean().optional(),
  /** uefi needs OVMF on the host. */
  firmware: firmwareSchema.optional(),
  kernel: kernelPathSchema.optional(),
  initrd: kernelPathSchema.optional(),
  /** vga: a standard VGA card, shown by the graphical console; none: serial only. */
  display: z.enum(['vga', 'none']).default('vga'),
  append: z
    .string()
    .max(4096)
    .regex(/^[A-Za-z0-9 ._,:=/+@-]*$/, 'may use letters, digits, spaces and . _ , : = / + @ - only')
    .optional(),
});

/** vms.update: what is given replaces what the stopped VM has; cdrom null ejects the ISO. */
export const vmUpdateInput = vmRef.extend({
  memoryMiB: z.number().int().min(16).max(4 * 1024 * 1024).optional(),
  vcpus: z.number().int().min(1).max(512).optional(),
  cpuModel: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  disks: z.array(vmDiskInput).max(16).optional(),
  nics: z.array(vmNicInput).max(MAX_NICS).optional(),
  cdrom: diskPathSchema.nullable().optional(),
  boot: bootOrderSchema.optional(),
  autostart: z.boolean().optional(),
  firmware: firmwareSchema.optional(),
});

export const vmAdoptInput = vmRef.extend({ qmpSocket: absolutePathSchema });
export const vmShutdownInput = vmRef.extend({ timeoutMs: z.number().int().min(0).max(600_000).default(60_000) });
export const vmSerialInput = vmRef.extend({ tailBytes: z.number().int().min(1).max(1 << 20).default(16_384) });

export const migrationInput = z.object({
  vm: vmNameSchema,
  from: hostNameSchema,
  to: hostNameSchema,
  mode: z.enum(['offline', 'live', 'block']),
  /** block: copy only the top qcow2 layer; the backing chain must already be on the destination. */
  incremental: z.boolean().default(false),
  /** block/offline: create destination volumes in this pool instead of at the same paths. */
  destPool: poolNameSchema.optional(),
  /** offline: save the running state and resume it on the destination. */
  keepState: z.boolean().default(false),
  /** offline: leave the VM stopped on the destination. */
  noStart: z.boolean().default(false),
  /** offline: how long the guest gets to power off (ACPI) before it is forced off. */
  shutdownTimeoutMs: z.number().int().min(0).max(600_000).default(60_000),
  /** tls (default): memory and disks encrypted with a per-migration key; tcp: in the clear, for a trusted network. */
  transport: z.enum(['tcp', 'tls']).default('tls'),
  /**
   * block/offline: use destination images that already exist at the target paths (same size and
   * format, not in use) instead of refusing them. Their old contents are overwritten.
   */
  reuseImages: z.boolean().default(false),
  /** The destination address as the source host reaches it (a migration network). */
  address: hostAddressSchema.optional(),
  /** First port to try on the destination; the next free one above it is used. */
  port: z.number().int().min(1024).max(65535).optional(),
  bandwidthMiBps: z.number().positive().max(1_000_000).optional(),
  /** The longest pause QEMU may plan for at the switch-over; DEFAULT_DOWNTIME_LIMIT_MS if not given. */
  downtimeMs: z.number().int().min(1).max(2_000_000).optional(),
  autoConverge: z.boolean().default(false),
  postcopy: z.boolean().default(false),
  multifd: z.number().int().min(1).max(64).optional(),
  /** Watch the guest from outside: tcp:HOST:PORT, or "serial" for the heartbeat in its serial log. */
  probe: z
    .string()
    .regex(/^(serial|tcp:[A-Za-z0-9.:_-]+:\d+)$/, 'must be "serial" or tcp:HOST:PORT')
    .optional(),
  /**
   * block/offline: where each source disk goes on the destination, keyed by the source disk's
   * path: a block device (/dev/..., or a symlink to one) or an image file path. Disks not named
   * go where they always did (the same path, or destPool).
   */
  diskTargets: z.record(diskPathSchema, diskPathSchema).optional(),
  /** Destination block devices that may be overwritten although they carry a filesystem, LVM or partition-table signature. */
  overwriteDevices: z.array(diskPathSchema).max(64).default([]),
});


export { DEFAULT_DOWNTIME_LIMIT_MS } from './defaults.js';

export const migrationRef = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) });

export const migrationTuneInput = migrationRef.extend({
  bandwidthMiBps: z.number().positive().max(1_000_000).optional(),
  downtimeMs: z.number().int().min(1).max(2_000_000).optional(),
  startPostcopy: z.boolean().optional(),
});

export const migrationModeSchema = z.enum(['offline', 'live', 'block']);

export const evacuationInput = z.object({
  host: hostNameSchema,
  to: hostNameSchema,
  /** How many migrations run at once. */
  parallel: z.number().int().min(1).max(8).default(2),
  /** Only these VMs of the host, moved in this order (unset: every VM on it). */
  vms: z.array(vmNameSchema).min(1).max(1024).optional(),
  /** Per VM: the mode to use instead of the recommended one. */
  modes: z.record(vmNameSchema, migrationModeSchema).default({}),
  /** Passed to each migration. */
  transport: z.enum(['tcp', 'tls']).optional(),
  bandwidthMiBps: z.number().positive().max(1_000_000).optional(),
});

export const evacuationRef = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) });

export const consoleOpenInput = vmRef.extend({ kind: z.enum(['serial', 'vnc']) });
export const consoleRef = z.object({ id: z.string().uuid() });
export const consoleWriteInput = consoleRef.extend({
  /** Bytes for the guest, base64; a keystroke or a pasted block, a VNC client's messages. */
  data: z.string().max(1 << 20).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});

export const channels = {
  'hosts.list': { input: z.object({}), output: {} as HostSummary[] },
  'hosts.add': { input: hostAddInput, output: {} as HostSummary },
  'hosts.remove': { input: z.object({ name: hostNameSchema }), output: {} as { removed: string } },
  'hosts.connect': { input: z.object({ name: hostNameSchema }), output: {} as HostSummary },
  'hosts.info': { input: hostRef, output: {} as HostInfo },
  /** Each requirement of the host (QEMU, qemu-utils, tools, sshd, directories, ports) with a fix for what is missing. */
  'hosts.check': { input: hostRef, output: {} as HostCheckReport },
  /** Cumulative CPU, memory, disk and network counters of the host and each running VM; one SSH command. */
  'hosts.stats': { input: hostRef, output: {} as HostStats },
  /** Moves every running VM off a host, a few at a time; the summary is updated by 'evacuation-update'. */
  'hosts.evacuate': { input: evacuationInput, output: {} as EvacuationSummary },
  'pools.list': { input: hostRef, output: {} as PoolSummary[] },
  'pools.define': { input: poolDefineInput, output: {} as PoolSummary },
  'pools.start': { input: poolRef, output: {} as PoolSummary },
  'pools.stop': { input: poolRef, output: {} as PoolSummary },
  'pools.delete': { input: poolRef, output: {} as { deleted: string } },
  'volumes.list': { input: poolRef, output: {} as VolumeInfo[] },
  'volumes.create': { input: volumeCreateInput, output: {} as VolumeInfo },
  'volumes.info': { input: volumeRef, output: {} as VolumeInfo },
  'volumes.delete': { input: volumeRef, output: {} as { deleted: string } },
  'vms.list': { input: hostRef, output: {} as VmSummary[] },
  'vms.info': { input: vmRef, output: {} as VmDetails },
  'vms.define': { input: vmDefineInput, output: {} as VmDetails },
  'vms.undefine': { input: vmRef, output: {} as { undefined: string } },
  'vms.start': { input: vmRef, output: {} as VmDetails },
  'vms.pause': { input: vmRef, output: {} as VmDetails },
  'vms.resume': { input: vmRef, output: {} as VmDetails },
  'vms.shutdown': { input: vmShutdownInput, output: {} as VmDetails },
  'vms.destroy': { input: vmRef, output: {} as VmDetails },
  'vms.adopt': { input: vmAdoptInput, output: {} as VmDetails },
  /** Changes a stopped VM's hardware; refused while it runs. */
  'vms.update': { input: vmUpdateInput, output: {} as VmDetails },
  'vms.serial': { input: vmSerialInput, output: {} as { text: string } },
  'migrations.modes': { input: z.object({ vm: vmNameSchema, from: hostNameSchema, to: hostNameSchema }), output: {} as ModeAvailability[] },
  'migrations.check': { input: migrationInput, output: {} as PreflightReport },
  'migrations.start': { input: migrationInput, output: {} as MigrationSummary },
  'migrations.cancel': { input: migrationRef, output: {} as MigrationSummary },
  'migrations.tune': { input: migrationTuneInput, output: {} as MigrationSummary },
  'migrations.list': { input: z.object({}), output: {} as MigrationSummary[] },
  'migrations.get': { input: migrationRef, output: {} as MigrationRecord },
  /** Settles migrations whose Ferry process is gone, and retries those that ended in doubt. */
  'migrations.recover': { input: z.object({}), output: {} as MigrationSummary[] },
  'migrations.export': { input: migrationRef.extend({ format: z.enum(['json', 'csv']) }), output: {} as { filename: string; mimeType: string; content: string } },
  'evacuations.get': { input: evacuationRef, output: {} as EvacuationSummary },
  /** Starts no further migrations and cancels the running ones; those past their commit point finish. */
  'evacuations.cancel': { input: evacuationRef, output: {} as EvacuationSummary },
  'evacuations.list': { input: z.object({}), output: {} as EvacuationSummary[] },
  /** Connects to a running VM's serial line or VNC display; its bytes arrive as 'console-data' events. */
  'consoles.open': { input: consoleOpenInput, output: {} as { id: string } },
  'consoles.write': { input: consoleWriteInput, output: {} as { written: number } },
  'consoles.close': { input: consoleRef, output: {} as { closed: string } },
  /** Every connected host's VMs, pools and volumes now; from this call on, changes arrive as 'inventory' events. */
  'inventory.subscribe': { input: z.object({}), output: {} as HostInventory[] },
  /** Reads a host's inventory again now (null when nothing subscribed). */
  'inventory.refresh': { input: hostRef, output: {} as HostInventory | null },
} as const;

/** Pushed from the engine to every front end. */
export interface EngineEvents {
  'host-state': { host: string; state: import('./types.js').ConnectionState; reason?: string };
  'migration-sample': { id: string; sample: import('./types.js').MigrationSample };
  'migration-update': MigrationSummary;
  'evacuation-update': EvacuationSummary;
  /** Bytes from an open console (base64), only for the front end that opened it to use. */
  'console-data': { id: string; data: string };
  /** A console ended: closed by its front end, the VM stopped, or the host connection dropped. */
  'console-closed': { id: string; reason: string };
  /** A host's inventory changed; null when it is no longer watched (disconnected or removed). */
  inventory: { host: string; inventory: HostInventory | null };
}
export type EngineEventName = keyof EngineEvents;
/**
 * One pushed event as it travels from the engine to a listener, over IPC and over the WebSocket.
 * Checking `event.name` narrows `event.payload`, so no consumer needs a cast. `EngineEvent<E>` is
 * the event of one name (or of a few).
 */
export type EngineEvent<E extends EngineEventName = EngineEventName> = { [K in E]: { name: K; payload: EngineEvents[K] } }[E];

export type Channel = keyof typeof channels;
export type ChannelInput<C extends Channel> = z.input<(typeof channels)[C]['input']>;
export type ChannelArgs<C extends Channel> = z.output<(typeof channels)[C]['input']>;
export type ChannelOutput<C extends Channel> = (typeof channels)[C]['output'];

export const channelNames = Object.keys(channels) as Channel[];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(channels, value);
}
