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
  autoconnect: boolean;
  state: ConnectionState;
  stateReason?: string;
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
}

export type PoolType = 'dir' | 'netfs' | 'shared';

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
}

export interface VmDisk {
  path: string;
  format: VolumeFormat;
  /** cache=none is the safe default for shared storage and live migration. */
  cache: 'none' | 'directsync' | 'writeback' | 'writethrough' | 'unsafe';
}

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
  kernel?: { path: string; initrd?: string; append?: string };
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
}

export interface VmDetails extends VmSummary {
  definition: VmDefinition | null;
  qmpSocket: string;
  serialLog: string;
  vncSocket: string;
  qemuVersion?: string;
}
