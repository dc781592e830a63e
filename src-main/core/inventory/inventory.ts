import type { HostInventory } from '../api/types.js';
import type { HostTransport } from '../ssh/transport.js';
import { HostInventoryWatcher, type RefreshIntervals } from './host-inventory.js';

export type InventoryPart = 'vms' | 'pools' | 'volumes';

export interface InventoryOptions {
  transport: (host: string) => Promise<HostTransport>;
  /** The hosts whose connection is up now. */
  connectedHosts: () => string[];
  /** A host's inventory changed; null: the host is no longer watched (disconnected, lost, removed). */
  publish: (host: string, inventory: HostInventory | null) => void;
  /** Whether a migration of this process holds the VM's monitor on the host. */
  monitorHeld?: (host: string, vm: string) => boolean;
  /** Who runs the host's VMs; libvirt hosts are read with virsh. Unset: every host is Ferry-managed. */
  hypervisor?: (host: string) => Promise<'ferry' | 'libvirt'>;
  intervals?: Partial<RefreshIntervals>;
}

/**
 * The engine's one live inventory. Nothing is read until a front end subscribes (the CLI never
 * does, so a `ferry` command costs the hosts nothing extra); from then on every connected host is
 * kept current and each change is published, so every window and tab sees the same world.
 */
export class Inventory {
  private readonly watchers = new Map<string, HostInventoryWatcher>();
  private watching = false;

  constructor(private readonly options: InventoryOptions) {}

  /** What is known now about every connected host; starts keeping them current. */
  subscribe(): HostInventory[] {
    this.watching = true;
    for (const host of this.options.connectedHosts()) this.watch(host);
    return [...this.watchers.values()].map((watcher) => watcher.snapshot);
  }

  /** Follows a host's connection: watched while connected, dropped (and said so) otherwise. */
  hostState(host: string, connected: boolean): void {
    if (connected) {
      if (this.watching) this.watch(host);
    } else {
      this.forget(host);
    }
  }

  /**
   * Reads parts of a host now, e.g. after Ferry changed them; resolves with the host's inventory,
   * or null when no front end is watching (nothing to keep current).
   */
  async refresh(host: string, parts?: readonly InventoryPart[], options: { freshStatus?: boolean } = {}): Promise<HostInventory | null> {
    const watcher = this.watchers.get(host) ?? (this.watching && this.options.connectedHosts().includes(host) ? this.watch(host) : undefined);
    return watcher ? watcher.refresh(parts, options) : null;
  }

  forget(host: string): void {
    const watcher = this.watchers.get(host);
    if (!watcher) return;
    watcher.stop();
    this.watchers.delete(host);
    this.options.publish(host, null);
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.stop();
    this.watchers.clear();
    this.watching = false;
  }

  private watch(host: string): HostInventoryWatcher {
    const existing = this.watchers.get(host);
    if (existing) return existing;
    const watcher = new HostInventoryWatcher({
      host,
      transport: () => this.options.transport(host),
      changed: (inventory) => this.options.publish(host, inventory),
      monitorHeld: (vm) => this.options.monitorHeld?.(host, vm) ?? false,
      ...(this.options.hypervisor ? { hypervisor: () => this.options.hypervisor?.(host) ?? Promise.resolve('ferry' as const) } : {}),
      ...(this.options.intervals ? { intervals: this.options.intervals } : {}),
    });
    this.watchers.set(host, watcher);
    watcher.start();
    return watcher;
  }
}
