/** Plain data the engine returns; shared by the CLI, Electron IPC, the web bridge and the renderer. */

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'lost' | 'failed';

export interface HostSummary {
  name: string;
  transport: 'ssh' | 'local';
  /** virt-manager style address, e.g. qemu+ssh://root@10.0.0.5:22/system */
  uri: string;
  address?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** Commands run under passwordless sudo because the SSH user is not root. */
  sudo?: boolean;
  autoconnect: boolean;
  state: ConnectionState;
  stateReason?: string;
  /** Who runs the host's VMs: Ferry's own QEMU processes, or libvirtd (reached with virsh over the same SSH connection). */
  hypervisor: 'ferry' | 'libvirt';
}

export interface HostInfo {
  name: string;
  hostname: string;
  cpuModel: string;
  cpuCount: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  qemuVersion: string;
  qemuBinary: string;
  machineTypes: string[];
  defaultMachineType: string;
  kvmUsable: boolean;
  stateDir: string;
  /** What this host's QEMU allows, read from its QMP schema; null when it could not be asked. */
  qemuFeatures: QemuFeatures | null;
}

/** Migration features of a host's QEMU, from query-qmp-schema (never from the version number). */
export interface QemuFeatures {
  postcopy: boolean;
  multifd: boolean;
  /** Migration over TLS (migrate-set-parameters tls-creds). */
  tls: boolean;
  /** block-export-add: disks exported over NBD for block copies. */
  blockExport: boolean;
  /** The old `block` migration capability, removed in QEMU 9.1; Ferry does not use it. */
  blockMigrationCapability: boolean;
}

export type HostCheckLevel = 'ok' | 'warning' | 'error';

/** One requirement of a hypervisor host; a failed one says what to install or change in `hint`. */
export interface HostCheckItem {
  /** A short stable name: "qemu-img", "stream-local", "/var/lib/ferry", … */
  check: string;
  level: HostCheckLevel;
  message: string;
  hint?: string;
}

/** `ok` is false when any item is an error. */
export interface HostCheckReport {
  host: string;
  ok: boolean;
  items: HostCheckItem[];
}

export type PoolType = 'dir' | 'netfs' | 'shared' | 'disk';

export interface PoolDefinition {
  name: string;
  type: PoolType;
  path: string;
  /** netfs only: SERVER:/EXPORT */
  source?: string;
  autostart: boolean;
}

export interface PoolSummary extends PoolDefinition {
  active: boolean;
  capacityBytes: number;
  allocationBytes: number;
  availableBytes: number;
  /** Set when the pool's definition file on the host is damaged; the pool cannot be used until repaired. */
  problem?: string;
  /** A libvirt storage pool; `type` is then the nearest Ferry type and libvirtType says what libvirt has. */
  managedBy?: 'libvirt';
  /** libvirt's pool type: dir, fs, netfs, logical, disk, iscsi, rbd, … */
  libvirtType?: string;
}

export type VolumeFormat = 'qcow2' | 'raw';

export interface VolumeInfo {
  name: string;
  pool: string;
  path: string;
  format: string;
  virtualSizeBytes: number;
  allocationBytes: number;
  /** Backing files from the volume's immediate parent down to the base image. */
  backingChain: Array<{ path: string; format: string }>;
  /** Set for the volumes of a disk pool, which are the host's block devices. */
  device?: BlockDeviceInfo;
}

/** What holds a block device, as far as Ferry can tell; 'free' means none of these. */
export type BlockDeviceUse =
  | { kind: 'free' }
  | { kind: 'mounted'; mountpoints: string[] }
  | { kind: 'vm'; vms: string[] }
  | { kind: 'holds-devices'; devices: string[] }
  | { kind: 'signature'; signature: string; usage: 'filesystem' | 'lvm-pv' | 'partition-table' | 'other' };

export interface BlockDeviceInfo {
  /** The kernel's device node (the volume's path may be a symlink to it). */
  devicePath: string;
  /** lsblk's TYPE: disk, part, loop, lvm, ... */
  type: string;
  readOnly: boolean;
  use: BlockDeviceUse;
}

export interface VmDisk {
  path: string;
  format: VolumeFormat;
  /** cache=none is the safe default for shared storage and live migration. */
  cache: 'none' | 'directsync' | 'writeback' | 'writethrough' | 'unsafe';
  /** The path is a host block device (QEMU opens it with host_device; raw only). Absent in older definitions: the host is asked again at every start. */
  blockDevice?: boolean;
}

export type VmNicNetwork = { type: 'user' } | { type: 'bridge'; bridge: string };

export interface VmNic {
  model: 'virtio-net-pci' | 'e1000';
  /** Kept for the VM's life, across migrations: guests key their network configuration on it. */
  mac: string;
  network: VmNicNetwork;
}

export type VmBootDevice = 'cdrom' | 'disk' | 'network';

export interface VmDefinition {
  name: string;
  memoryMiB: number;
  vcpus: number;
  /** Versioned, so that source and destination build the same virtual hardware, e.g. pc-q35-7.2 */
  machineType: string;
  cpuModel: string;
  accel: 'auto' | 'kvm' | 'tcg';
  disks: VmDisk[];
  nic: { model: 'virtio-net-pci' | 'e1000'; mac: string } | null;
  /** The NICs in guest order. Definitions written before there was a list have only `nic`, a user-mode NIC. */
  nics?: VmNic[];
  /** An ISO image in a CD-ROM drive, for installing a guest; absent = no drive (as in older definitions). */
  cdrom?: string;
  /** The order the firmware tries devices in; absent = its own default (and no bootindex, as before). */
  boot?: VmBootDevice[];
  /** Start the VM when its host boots. */
  autostart?: boolean;
  /** uefi: OVMF from the host, with the VM's own variable store; absent = BIOS (SeaBIOS), as before. */
  firmware?: 'bios' | 'uefi';
  kernel?: { path: string; initrd?: string; append?: string };
  /** The graphical display device; absent (definitions from before there was one) means none. */
  display?: 'vga' | 'none';
  /** Extra -append style fragments are not allowed; everything else is derived. */
  createdAt: string;
  /** Set when Ferry adopted a QEMU it did not start: its own command line and monitor socket. */
  adopted?: { argv: string[]; qmpSocket: string };
}

export type VmRunState =
  | 'shutoff'
  | 'running'
  | 'paused'
  | 'inmigrate'
  | 'postmigrate'
  | 'suspended'
  | 'shutting-down'
  | 'crashed'
  | 'unknown';

export interface VmSummary {
  name: string;
  host: string;
  state: VmRunState;
  /** QEMU's own run state (query-status) when it is running. */
  qemuStatus?: string;
  pid?: number;
  memoryMiB: number;
  vcpus: number;
  defined: boolean;
  /** Set when the VM's definition file on the host is damaged; the VM is still listed so it is not lost from view. */
  problem?: string;
  /** A libvirt domain: libvirtd on the host runs it, not Ferry. */
  managedBy?: 'libvirt';
}

export interface VmDetails extends VmSummary {
  definition: VmDefinition | null;
  qmpSocket: string;
  serialLog: string;
  vncSocket: string;
  qemuVersion?: string;
  /** Each disk of the definition as its image says now (size, space used, backing file). */
  diskUsage: VmDiskUsage[];
  confinement?: VmConfinement;
  autostartFacts?: VmAutostartFacts;
  /** A libvirt domain's facts from its domain XML, as libvirt has them (the definition holds what Ferry's types can say). */
  libvirt?: LibvirtDomainFacts;
}

/** One <disk> of a libvirt domain, as the domain XML says. */
export interface LibvirtDisk {
  /** disk, cdrom, floppy, lun */
  device: string;
  /** file, block, network, volume, dir */
  type: string;
  /** The file or device; null for an empty CD-ROM drive or a network disk. */
  path: string | null;
  /** raw, qcow2, …; null when the XML leaves it to libvirt */
  format: string | null;
  /** null: libvirt's default (QEMU's writeback) */
  cache: string | null;
  /** The guest's name for it: vda, sda, … */
  target: string;
  bus: string | null;
  readOnly: boolean;
  /** The image's backing file, when the XML names one. */
  backingPath: string | null;
}

/** One <interface> of a libvirt domain. */
export interface LibvirtNic {
  /** network, bridge, user, direct, … */
  type: string;
  /** The network, bridge or device it attaches to; null for user networking. */
  source: string | null;
  /** virtio, e1000, rtl8139, …; null when libvirt picks */
  model: string | null;
  mac: string | null;
}

export interface LibvirtDomainFacts {
  uuid: string;
  /** libvirt's id while it runs; null when it is shut off. */
  id: number | null;
  /** kvm or qemu (TCG) */
  domainType: string;
  machineType: string | null;
  /** host-passthrough, host-model or custom */
  cpuMode: string | null;
  cpuModel: string | null;
  firmware: 'bios' | 'uefi';
  autostart: boolean;
  /** false: a transient domain, gone from libvirt once it stops. */
  persistent: boolean;
  /** libvirt's state and reason, e.g. "running (booted)" */
  stateText: string;
  /** The file the first serial port writes to, when it writes to a file. */
  serialFile: string | null;
  disks: LibvirtDisk[];
  nics: LibvirtNic[];
}

/** What confines a VM's QEMU on its host. */
export interface VmConfinement {
  /** The -sandbox options Ferry starts it with; null for an adopted QEMU (its own command line decides). */
  sandbox: string | null;
  /** Running only: whether the kernel reports a seccomp filter on the process. */
  seccompActive?: boolean;
  /** Running only: the user the QEMU process runs as. */
  user?: string;
}

/** Whether the host will start the VM when it boots, and what on the host does it. */
export interface VmAutostartFacts {
  /** Ferry's boot script for the VM is on the host. */
  script: boolean;
  /** systemd-enabled: Ferry's unit runs the boot scripts; otherwise nothing on the host runs them. */
  bootService: 'systemd-enabled' | 'systemd-disabled' | 'no-systemd';
}

export interface VmDiskUsage {
  path: string;
  /** null when the image could not be read (missing, or not an image): see `problem`. */
  virtualSizeBytes: number | null;
  /** Space the image takes on its storage; null where the storage does not say (some block devices). */
  allocationBytes: number | null;
  backingFile: string | null;
  problem?: string;
  /** The path is a host block device (a partition, a logical volume, a loop device); its size is virtualSizeBytes. */
  blockDevice?: boolean;
  /** For a block device: its kernel name, what it is and what holds it, e.g. "/dev/sda2, partition on /dev/sda". */
  device?: string;
}

export type MigrationMode = 'offline' | 'live' | 'block';

export type MigrationPhase =
  | 'preflight'
  | 'preparing-destination'
  | 'copying-disks'
  | 'memory'
  | 'switchover'
  | 'finishing'
  | 'cleaning-up'
  | 'in-doubt'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface ModeAvailability {
  mode: MigrationMode;
  possible: boolean;
  /** Why it is (or is not) offered, in words for the user. */
  reason: string;
  recommended: boolean;
}

export interface PreflightItem {
  level: 'error' | 'warning' | 'ok';
  check: string;
  message: string;
  hint?: string;
}

export interface PreflightReport {
  ok: boolean;
  items: PreflightItem[];
  modes: ModeAvailability[];
  /** What the move will take, from the guest's dirty rate and the link; absent when not asked for. */
  prediction?: MigrationPrediction | null;
}

/** A forecast made before the start (pre-flight): no peer tells this before a live migration. */
export interface MigrationPrediction {
  totalTimeMs: number | null;
  /** The pause at the switch-over (offline: the whole time). */
  downtimeMs: number | null;
  /** Memory passes until the switch-over, when it converges. */
  passes: number | null;
  /** null when the dirty rate could not be measured. */
  converges: boolean | null;
  /** What to turn on before the start when it will not converge. */
  recommendation: 'auto-converge' | 'postcopy' | null;
  throughputBps: number | null;
  dirtyRateBps: number | null;
  ramBytes: number;
  diskBytes: number;
  /** Where the figures come from (history, a test transfer). */
  basis: string;
  /** One sentence for the user. */
  summary: string;
}

export interface TransferCounters {
  transferredBytes: number;
  remainingBytes: number;
  totalBytes: number;
}

export interface DiskProgress extends TransferCounters {
  device: string;
  path: string;
}

export interface MigrationSample {
  /** Milliseconds since the migration started. */
  t: number;
  phase: MigrationPhase;
  /** Memory pass (QEMU's dirty-sync-count), 0 before memory starts. */
  pass: number;
  ram: TransferCounters;
  disks: DiskProgress[];
  /** Computed from byte deltas between samples (QEMU's own mbps is unreliable). */
  throughputBps: number;
  dirtyRateBps: number;
  expectedDowntimeMs: number | null;
  timeLeftMs: number | null;
  throttlePercent: number;
  /** Set while memory is not converging, with the reason and what to do. */
  notConverging: string | null;
}

export interface MigrationReport {
  id: string;
  vm: string;
  from: string;
  to: string;
  mode: MigrationMode;
  /** in-doubt: stopped without being settled (a host out of reach); kept in the journal and retried. */
  outcome: 'completed' | 'failed' | 'cancelled' | 'in-doubt';
  startedAt: string;
  finishedAt: string;
  totalTimeMs: number;
  setupTimeMs: number | null;
  downtimeMs: number | null;
  maxHeartbeatGapMs: number | null;
  ramBytes: number;
  disks: Array<{ device: string; path: string; bytes: number }>;
  averageThroughputBps: number;
  options: Record<string, unknown>;
  error: { code: string; message: string; hint?: string } | null;
  /** Where the VM's QEMU was found when the migration ended, as the hosts said (not as hoped). */
  foundOn: VmLocation[];
}

export interface VmLocation {
  host: string;
  /** The VM's state there; 'absent' when no QEMU of it runs; 'unreachable' when the host did not answer. */
  state: VmRunState | 'absent' | 'unreachable';
}

export interface MigrationSummary {
  id: string;
  vm: string;
  from: string;
  to: string;
  mode: MigrationMode;
  phase: MigrationPhase;
  startedAt: string;
  /** Past the commit point: the migration can only finish forwards, so it can no longer be cancelled. */
  committed: boolean;
  report: MigrationReport | null;
  /** Run by another Ferry process of this user (a CLI, a web server): its events do not reach this one. */
  elsewhere?: true;
}

export interface MigrationRecord extends MigrationSummary {
  samples: MigrationSample[];
}

export type EvacuationVmState = 'waiting' | 'migrating' | 'completed' | 'failed' | 'cancelled' | 'in-doubt' | 'skipped';

export interface EvacuationVm {
  vm: string;
  /** The mode it moves (or would have moved) in; null when it is skipped before a mode was chosen. */
  mode: MigrationMode | null;
  migrationId: string | null;
  state: EvacuationVmState;
  /** Why it was skipped, failed or not cancelled, in words for the user. */
  message?: string;
  /** Where its QEMU was found when its migration ended, as the hosts said. */
  foundOn?: VmLocation[];
  /** Set when the evacuation was cancelled while this migration was past its commit point: it finishes forwards. */
  pastCommitPoint?: boolean;
  /** The migration's total time, once it has ended. */
  totalTimeMs?: number;
}

/** Moving every running VM off one host; kept in memory only (each migration keeps its own history). */
export interface EvacuationSummary {
  id: string;
  host: string;
  to: string;
  parallel: number;
  startedAt: string;
  finishedAt: string | null;
  /** failed: at least one running VM was not moved (and the evacuation was not cancelled). */
  state: 'running' | 'completed' | 'cancelled' | 'failed';
  vms: EvacuationVm[];
}

/** One connected host's VMs, pools and volumes as the engine last read them (kept current while watched). */
export interface HostInventory {
  host: string;
  /** null until first read: the GUI shows "loading", never "none", for null. */
  vms: VmSummary[] | null;
  pools: PoolSummary[] | null;
  /** Volumes of each active pool, by pool name; a pool missing here has not been read yet. */
  volumes: Record<string, VolumeInfo[]>;
  /** Why the last read failed; the lists keep what was read before. */
  error: { code: string; message: string; hint?: string } | null;
  /** When a read last succeeded (ISO time). */
  refreshedAt: string | null;
}

/**
 * One reading of a host's cumulative counters ('hosts.stats'). Rates come from the difference of
 * two readings over the difference of their `uptimeSeconds` (the host's own clock, so SSH delay
 * does not bend them).
 */
export interface HostStats {
  host: string;
  /** When the engine got the reading, ms since the epoch. */
  at: number;
  uptimeSeconds: number;
  /** USER_HZ: CPU times below are in these ticks. */
  clockTicksPerSecond: number;
  cpuCount: number;
  cpu: { busyTicks: number; totalTicks: number };
  memory: { totalBytes: number; availableBytes: number };
  /** Whole block devices (no partitions, loop or device-mapper), bytes since boot. */
  disk: { readBytes: number; writeBytes: number };
  /** Every interface but loopback, bridges and the VMs' tap devices, bytes since boot. */
  network: { rxBytes: number; txBytes: number };
  vms: VmStats[];
}

export interface VmStats {
  name: string;
  pid: number;
  /** User plus system time of the whole QEMU process, in clock ticks. */
  cpuTicks: number;
  rssBytes: number;
  /** Bytes QEMU made the kernel read from and write to storage; null when /proc/PID/io is unreadable. */
  disk: { readBytes: number; writeBytes: number } | null;
  /** Counted on the host's tap devices, from the guest's point of view (rx = received by the guest). */
  network: { rxBytes: number; txBytes: number; devices: string[] } | null;
  /** Why `network` is null: a user-mode NIC lives inside QEMU and has no host counters. */
  networkNote?: string;
}
