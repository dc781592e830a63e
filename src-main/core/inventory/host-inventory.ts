import type { HostInventory, PoolSummary, VmSummary, VolumeInfo } from '../api/types.js';
import { toFerryError } from '../errors.js';
import { listPools } from '../storage/pools.js';
import { listVolumes } from '../storage/volumes.js';
import type { HostTransport } from '../ssh/transport.js';
import { listVms, type KnownStatus } from '../vm/lifecycle.js';
import { listLibvirtDomains } from '../libvirt/domains.js';
import { listLibvirtPools, listLibvirtVolumes } from '../libvirt/pools.js';

export interface RefreshIntervals {
  vmsMs: number;
  statusMs: number;
  poolsMs: number;
  volumesMs: number;
}

/** How often each part of a watched host is read again. */
export const REFRESH_INTERVALS: Readonly<RefreshIntervals> = {
  /** VMs appear, stop and move outside Ferry (CLI, another Ferry, the guest powering off): read every second. */
  vmsMs: 1000,
  /** QEMU's run state (paused/running) costs a monitor connection per VM, so is asked only this often (and whenever a pid changes). */
  statusMs: 5000,
  poolsMs: 5000,
  volumesMs: 10_000,
};

export interface HostInventoryOptions {
  host: string;
  transport: () => Promise<HostTransport>;
  /** Called with the host's whole inventory whenever something in it changed. */
  changed: (inventory: HostInventory) => void;
  /** Whether Ferry itself holds this VM's monitor now (a migration of this process). */
  monitorHeld?: (vm: string) => boolean;
  /** libvirt hosts are read with virsh (one `virsh domstats` for all domains); unset: Ferry-managed. */
  hypervisor?: () => Promise<'ferry' | 'libvirt'>;
  intervals?: Partial<RefreshIntervals>;
}

type Part = 'vms' | 'pools' | 'volumes';

/**
 * Keeps one connected host's VMs, pools and volumes as the host has them now: each part is read
 * again on its own interval (never two reads of one part at a time), and `refresh` reads at once
 * (after Ferry's own actions and migrations). Lists are null until first read: loading, not empty.
 */
export class HostInventoryWatcher {
  private readonly intervals: RefreshIntervals;
  private state: HostInventory;
  private readonly timers = new Map<Part, ReturnType<typeof setTimeout>>();
  private readonly running = new Map<Part, Promise<void>>();
  /** A part asked for again while it was being read: read once more when that read ends. */
  private readonly again = new Set<Part>();
  private readonly statusReadAt = new Map<string, number>();
  private stopped = false;

  constructor(private readonly options: HostInventoryOptions) {
    this.intervals = { ...REFRESH_INTERVALS, ...options.intervals };
    this.state = { host: options.host, vms: null, pools: null, volumes: {}, error: null, refreshedAt: null };
  }

  get snapshot(): HostInventory {
    return this.state;
  }

  start(): void {
    for (const part of ['vms', 'pools', 'volumes'] as const) void this.read(part);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Reads the given parts now (all by default), resolving when they have been read. */
  async refresh(parts: readonly Part[] = ['vms', 'pools', 'volumes'], options: { freshStatus?: boolean } = {}): Promise<HostInventory> {
    if (options.freshStatus) this.statusReadAt.clear();
    await Promise.all(parts.map((part) => this.read(part)));
    return this.state;
  }

  private read(part: Part): Promise<void> {
    const inFlight = this.running.get(part);
    if (inFlight) {
      this.again.add(part);
      return inFlight.then(() => this.running.get(part));
    }
    const timer = this.timers.get(part);
    if (timer) clearTimeout(timer);
    this.timers.delete(part);
    const reading = this.readOnce(part).finally(() => {
      this.running.delete(part);
      if (this.stopped) return;
      if (this.again.delete(part)) {
        void this.read(part);
        return;
      }
      const interval = part === 'vms' ? this.intervals.vmsMs : part === 'pools' ? this.intervals.poolsMs : this.intervals.volumesMs;
      this.timers.set(part, setTimeout(() => void this.read(part), interval));
    });
    this.running.set(part, reading);
    return reading;
  }

  private async readOnce(part: Part): Promise<void> {
    try {
      const transport = await this.options.transport();
      if ((await this.options.hypervisor?.()) === 'libvirt') {
        await this.readLibvirt(part, transport);
        return;
      }
      if (part === 'vms') this.update({ vms: await listVms({ name: this.options.host, transport }, { knownStatus: (vm) => this.knownStatus(vm) }) });
      else if (part === 'pools') this.update({ pools: await listPools(transport) });
      else this.update({ volumes: await this.readVolumes(transport) });
    } catch (error) {
      if (this.stopped) return;
      const { code, message, hint } = toFerryError(error).toJSON();
      this.update({ error: { code, message, ...(hint !== undefined ? { hint } : {}) } });
    }
  }

  private async readLibvirt(part: Part, transport: HostTransport): Promise<void> {
    if (part === 'vms') this.update({ vms: await listLibvirtDomains({ name: this.options.host, transport }) });
    else if (part === 'pools') this.update({ pools: await listLibvirtPools(transport) });
    else {
      const pools = (this.state.pools ?? (await listLibvirtPools(transport))).filter((pool) => pool.active);
      const lists = await Promise.all(pools.map(async (pool) => [pool.name, await listLibvirtVolumes(transport, pool.name).catch(() => null)] as const));
      const volumes: Record<string, VolumeInfo[]> = {};
      for (const [name, list] of lists) if (list) volumes[name] = list;
      this.update({ volumes });
    }
  }

  /** The state read last time, reused while the pid is the same and the status is recent. */
  private knownStatus(vm: { name: string; pid: number }): KnownStatus | undefined {
    const previous = this.state.vms?.find((v) => v.name === vm.name);
    const readAt = this.statusReadAt.get(vm.name);
    const now = Date.now();
    if (previous && previous.pid === vm.pid && readAt !== undefined && now - readAt < this.intervals.statusMs && previous.state !== 'unknown') {
      return { state: previous.state, ...(previous.qemuStatus !== undefined ? { qemuStatus: previous.qemuStatus } : {}) };
    }
    this.statusReadAt.set(vm.name, now);
    return undefined;
  }

  private async readVolumes(transport: HostTransport): Promise<Record<string, VolumeInfo[]>> {
    const pools: PoolSummary[] = this.state.pools ?? (await listPools(transport));
    const usable = pools.filter((pool) => pool.active && pool.problem === undefined);
    const lists = await Promise.all(
      usable.map(async (pool) => {
        const file = { name: pool.name, type: pool.type, path: pool.path, autostart: pool.autostart, started: pool.active, ...(pool.source !== undefined ? { source: pool.source } : {}) };
        return [pool.name, await listVolumes(transport, this.options.host, file).catch(() => null)] as const;
      }),
    );
    const volumes: Record<string, VolumeInfo[]> = {};
    for (const [name, list] of lists) if (list) volumes[name] = list;
    return volumes;
  }

  private update(change: Partial<Pick<HostInventory, 'vms' | 'pools' | 'volumes' | 'error'>>): void {
    if (this.stopped) return;
    const next: HostInventory = { ...this.state, ...change };
    if (!('error' in change)) {
      next.error = null;
      next.refreshedAt = new Date().toISOString();
    }
    if (change.vms) keepUnknownStates(change.vms, this.state.vms, this.options.monitorHeld ?? (() => false));
    const changed =
      JSON.stringify([next.vms, next.pools, next.volumes, next.error]) !== JSON.stringify([this.state.vms, this.state.pools, this.state.volumes, this.state.error]);
    this.state = next;
    if (changed) this.options.changed(next);
  }
}

/**
 * A monitor Ferry itself holds (a migration of this process) answers "busy", which reads as
 * 'unknown': that VM is as it was a moment ago, so the last state read stays rather than
 * flickering. Any other unreachable monitor (a hung QEMU, another program) stays 'unknown'.
 */
function keepUnknownStates(vms: VmSummary[], previous: VmSummary[] | null, monitorHeld: (vm: string) => boolean): void {
  for (const vm of vms) {
    if (vm.state !== 'unknown' || !monitorHeld(vm.name)) continue;
    const before = previous?.find((v) => v.name === vm.name && v.pid === vm.pid);
    if (before && before.state !== 'unknown') {
      vm.state = before.state;
      if (before.qemuStatus !== undefined) vm.qemuStatus = before.qemuStatus;
    }
  }
}
