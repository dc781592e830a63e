import { createStore, type StateCreator, type StoreApi } from 'zustand/vanilla';
import type { HostInfo, HostInventory, HostSummary, MigrationRecord, MigrationSample, MigrationSummary, PoolSummary, VmDetails, VmSummary, VolumeInfo } from '../../../src-main/core/api/types';
import { errorInfo, type EngineEvents, type ErrorInfo, type FerryApi } from '../api/types';
import { RingBuffer } from './ring';

export const SAMPLE_CAPACITY = 3600;

export type Selection =
  | { kind: 'none' }
  | { kind: 'host'; host: string; tab?: 'overview' | 'storage' }
  | { kind: 'vm'; host: string; vm: string }
  | { kind: 'migration'; id: string }
  | { kind: 'history'; id?: string };

export type DialogState =
  | { kind: 'add-connection' }
  | { kind: 'new-vm'; host: string }
  | { kind: 'migrate'; host: string; vm: string }
  | { kind: 'evacuate'; host: string }
  | { kind: 'add-pool'; host: string }
  | { kind: 'new-volume'; host: string; pool: string }
  | { kind: 'delete-vm'; host: string; vm: string };

export interface UiSlice {
  api: FerryApi;
  selection: Selection;
  dialog: DialogState | null;
  select(selection: Selection): void;
  openDialog(dialog: DialogState): void;
  closeDialog(): void;
}

export interface ConnectionsSlice {
  hosts: HostSummary[];
  hostsLoaded: boolean;
  hostsError: ErrorInfo | null;
  connectErrors: Record<string, ErrorInfo>;
  loadHosts(options?: { autoconnect?: boolean }): Promise<void>;
  connectHost(name: string): Promise<void>;
  removeHost(name: string): Promise<void>;
  hostAdded(summary: HostSummary): void;
  hostState(event: EngineEvents['host-state']): void;
}

export interface HostsSlice {
  info: Record<string, HostInfo>;
  infoErrors: Record<string, ErrorInfo>;
  loadInfo(host: string): Promise<void>;
}

export interface InventorySlice {
  /** When each host's inventory was last read by the engine (ISO), and why the last read failed. */
  inventoryAt: Record<string, string | null>;
  inventoryErrors: Record<string, ErrorInfo>;
  /** Asks for every connected host's inventory and, from then on, its changes ('inventory' events). */
  subscribeInventory(): Promise<void>;
  inventoryChanged(host: string, inventory: HostInventory | null): void;
}

export interface VmsSlice {
  vms: Record<string, VmSummary[]>;
  vmErrors: Record<string, ErrorInfo>;
  loadVms(host: string): Promise<void>;
  vmChanged(details: VmDetails | VmSummary): void;
  vmRemoved(host: string, name: string): void;
}

export interface StorageSlice {
  pools: Record<string, PoolSummary[]>;
  poolErrors: Record<string, ErrorInfo>;
  volumes: Record<string, VolumeInfo[]>;
  volumeErrors: Record<string, ErrorInfo>;
  loadPools(host: string): Promise<void>;
  loadVolumes(host: string, pool: string): Promise<void>;
}

export interface MigrationsSlice {
  /** Migrations started or observed in this session, by id. */
  migrations: Record<string, MigrationSummary>;
  migrationOrder: string[];
  samples: Record<string, RingBuffer<MigrationSample>>;
  /** Bumped on every sample so components re-render; the ring itself is mutated in place. */
  sampleVersion: Record<string, number>;
  history: MigrationSummary[];
  historyLoaded: boolean;
  historyError: ErrorInfo | null;
  records: Record<string, MigrationRecord>;
  trackMigration(summary: MigrationSummary): void;
  migrationSample(event: EngineEvents['migration-sample']): void;
  migrationUpdate(summary: MigrationSummary): void;
  loadHistory(): Promise<void>;
  loadRecord(id: string): Promise<MigrationRecord>;
  /**
   * Picks up the migrations the engine is running now (after a reload, or in a second window), with
   * the samples they have so far, so the live views show them as they are.
   */
  resumeRunningMigrations(): Promise<void>;
  /** Asks the engine to settle orphaned and in-doubt migrations; returns what it settled. Throws the engine's error. */
  recoverMigrations(): Promise<MigrationSummary[]>;
}

export type FerryState = UiSlice & ConnectionsSlice & HostsSlice & InventorySlice & VmsSlice & StorageSlice & MigrationsSlice;
type Slice<T> = StateCreator<FerryState, [], [], T>;

export const volumeKey = (host: string, pool: string) => `${host}/${pool}`;
const without = <T,>(record: Record<string, T>, key: string): Record<string, T> => {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
};

const uiSlice = (api: FerryApi): Slice<UiSlice> => (set) => ({
  api,
  selection: { kind: 'none' },
  dialog: null,
  select: (selection) => set({ selection }),
  openDialog: (dialog) => set({ dialog }),
  closeDialog: () => set({ dialog: null }),
});

const connectionsSlice: Slice<ConnectionsSlice> = (set, get) => ({
  hosts: [],
  hostsLoaded: false,
  hostsError: null,
  connectErrors: {},
  async loadHosts(options) {
    try {
      const hosts = await get().api.call('hosts.list', {});
      set({ hosts, hostsLoaded: true, hostsError: null });
      void get().subscribeInventory();
      void get().resumeRunningMigrations().catch(() => undefined);
      for (const host of hosts) {
        if (host.state === 'connected') void get().loadInfo(host.name);
        else if (options?.autoconnect && host.autoconnect && host.state === 'disconnected') void get().connectHost(host.name);
      }
    } catch (error) {
      set({ hostsLoaded: true, hostsError: errorInfo(error) });
    }
  },
  async connectHost(name) {
    set((s) => ({ hosts: s.hosts.map((h) => (h.name === name ? { ...h, state: 'connecting' } : h)), connectErrors: without(s.connectErrors, name) }));
    try {
      const summary = await get().api.call('hosts.connect', { name });
      get().hostAdded(summary);
      await refreshHost(get, name);
    } catch (error) {
      const info = errorInfo(error);
      set((s) => ({
        connectErrors: { ...s.connectErrors, [name]: info },
        hosts: s.hosts.map((h) => (h.name === name ? { ...h, state: 'failed', stateReason: info.message } : h)),
      }));
    }
  },
  async removeHost(name) {
    await get().api.call('hosts.remove', { name });
    set((s) => ({
      hosts: s.hosts.filter((h) => h.name !== name),
      vms: without(s.vms, name),
      pools: without(s.pools, name),
      info: without(s.info, name),
      selection: 'host' in s.selection && s.selection.host === name ? { kind: 'none' } : s.selection,
    }));
  },
  hostAdded(summary) {
    set((s) => {
      const exists = s.hosts.some((h) => h.name === summary.name);
      const hosts = exists ? s.hosts.map((h) => (h.name === summary.name ? summary : h)) : [...s.hosts, summary];
      return { hosts: hosts.sort((a, b) => a.name.localeCompare(b.name)), connectErrors: without(s.connectErrors, summary.name) };
    });
    if (summary.state === 'connected') void refreshHost(get, summary.name);
  },
  hostState(event) {
    const before = get().hosts.find((h) => h.name === event.host)?.state;
    set((s) => ({
      hosts: s.hosts.map((h) => {
        if (h.name !== event.host) return h;
        const next: HostSummary = { ...h, state: event.state };
        if (event.reason) next.stateReason = event.reason;
        else delete next.stateReason;
        return next;
      }),
    }));
    if (event.state === 'connected' && before !== 'connected') void refreshHost(get, event.host);
  },
});

/** A host just connected: its details, and its inventory read at once (the engine keeps it current after). */
async function refreshHost(get: () => FerryState, host: string): Promise<void> {
  const inventory = get()
    .api.call('inventory.refresh', { host })
    .then((found) => {
      if (found) get().inventoryChanged(host, found);
    });
  await Promise.allSettled([inventory, get().loadInfo(host)]);
}

const inventorySlice: Slice<InventorySlice> = (set, get) => ({
  inventoryAt: {},
  inventoryErrors: {},
  async subscribeInventory() {
    try {
      for (const inventory of await get().api.call('inventory.subscribe', {})) get().inventoryChanged(inventory.host, inventory);
    } catch (error) {
      set({ hostsError: errorInfo(error) });
    }
  },
  inventoryChanged(host, inventory) {
    set((s) => {
      // A list the engine has not read yet (null) is left out: components show it as loading.
      const vms = inventory?.vms ? { ...s.vms, [host]: inventory.vms } : without(s.vms, host);
      const pools = inventory?.pools ? { ...s.pools, [host]: inventory.pools } : without(s.pools, host);
      const volumes = Object.fromEntries(Object.entries(s.volumes).filter(([key]) => !key.startsWith(`${host}/`)));
      for (const [pool, list] of Object.entries(inventory?.volumes ?? {})) volumes[volumeKey(host, pool)] = list;
      const inventoryErrors = inventory?.error ? { ...s.inventoryErrors, [host]: inventory.error } : without(s.inventoryErrors, host);
      return { vms, pools, volumes, inventoryErrors, inventoryAt: { ...s.inventoryAt, [host]: inventory?.refreshedAt ?? null } };
    });
  },
});

const hostsSlice: Slice<HostsSlice> = (set, get) => ({
  info: {},
  infoErrors: {},
  async loadInfo(host) {
    try {
      const info = await get().api.call('hosts.info', { host });
      set((s) => ({ info: { ...s.info, [host]: info }, infoErrors: without(s.infoErrors, host) }));
    } catch (error) {
      set((s) => ({ infoErrors: { ...s.infoErrors, [host]: errorInfo(error) } }));
    }
  },
});

const vmsSlice: Slice<VmsSlice> = (set, get) => ({
  vms: {},
  vmErrors: {},
  async loadVms(host) {
    try {
      const vms = await get().api.call('vms.list', { host });
      set((s) => ({ vms: { ...s.vms, [host]: vms }, vmErrors: without(s.vmErrors, host) }));
    } catch (error) {
      set((s) => ({ vmErrors: { ...s.vmErrors, [host]: errorInfo(error) } }));
    }
  },
  vmChanged(details) {
    const summary: VmSummary = { name: details.name, host: details.host, state: details.state, memoryMiB: details.memoryMiB, vcpus: details.vcpus, defined: details.defined };
    if (details.pid !== undefined) summary.pid = details.pid;
    if (details.qemuStatus !== undefined) summary.qemuStatus = details.qemuStatus;
    set((s) => {
      const list = s.vms[details.host] ?? [];
      const next = list.some((v) => v.name === details.name) ? list.map((v) => (v.name === details.name ? summary : v)) : [...list, summary].sort((a, b) => a.name.localeCompare(b.name));
      return { vms: { ...s.vms, [details.host]: next } };
    });
  },
  vmRemoved(host, name) {
    set((s) => ({ vms: { ...s.vms, [host]: (s.vms[host] ?? []).filter((v) => v.name !== name) } }));
  },
});

const storageSlice: Slice<StorageSlice> = (set, get) => ({
  pools: {},
  poolErrors: {},
  volumes: {},
  volumeErrors: {},
  async loadPools(host) {
    try {
      const pools = await get().api.call('pools.list', { host });
      set((s) => ({ pools: { ...s.pools, [host]: pools }, poolErrors: without(s.poolErrors, host) }));
    } catch (error) {
      set((s) => ({ poolErrors: { ...s.poolErrors, [host]: errorInfo(error) } }));
    }
  },
  async loadVolumes(host, pool) {
    const key = volumeKey(host, pool);
    try {
      const volumes = await get().api.call('volumes.list', { host, pool });
      set((s) => ({ volumes: { ...s.volumes, [key]: volumes }, volumeErrors: without(s.volumeErrors, key) }));
    } catch (error) {
      set((s) => ({ volumeErrors: { ...s.volumeErrors, [key]: errorInfo(error) } }));
    }
  },
});

// in-doubt is final for the run that ended so: only migrations.recover moves it on.
const FINAL = new Set(['completed', 'failed', 'cancelled', 'in-doubt']);
export const isFinalPhase = (phase: string) => FINAL.has(phase);

const migrationsSlice: Slice<MigrationsSlice> = (set, get) => ({
  migrations: {},
  migrationOrder: [],
  samples: {},
  sampleVersion: {},
  history: [],
  historyLoaded: false,
  historyError: null,
  records: {},
  trackMigration(summary) {
    set((s) => ({
      migrations: { ...s.migrations, [summary.id]: summary },
      migrationOrder: s.migrationOrder.includes(summary.id) ? s.migrationOrder : [...s.migrationOrder, summary.id],
      samples: s.samples[summary.id] ? s.samples : { ...s.samples, [summary.id]: new RingBuffer<MigrationSample>(SAMPLE_CAPACITY) },
    }));
  },
  migrationSample({ id, sample }) {
    const state = get();
    let ring = state.samples[id];
    if (!ring) {
      ring = new RingBuffer<MigrationSample>(SAMPLE_CAPACITY);
      set((s) => ({ samples: { ...s.samples, [id]: ring as RingBuffer<MigrationSample> } }));
    }
    const last = ring.last();
    if (last && last.t >= sample.t) return;
    ring.push(sample);
    set((s) => ({ sampleVersion: { ...s.sampleVersion, [id]: (s.sampleVersion[id] ?? 0) + 1 } }));
  },
  migrationUpdate(summary) {
    const known = summary.id in get().migrations;
    get().trackMigration(summary);
    // migrations.start may answer only after setup; show the live view as soon as the engine reports it.
    const dialog = get().dialog;
    if (!known && dialog?.kind === 'migrate' && dialog.vm === summary.vm && dialog.host === summary.from && !isFinalPhase(summary.phase)) {
      set({ dialog: null, selection: { kind: 'migration', id: summary.id } });
    }
    if (isFinalPhase(summary.phase)) {
      set((s) => ({ history: [summary, ...s.history.filter((h) => h.id !== summary.id)] }));
      void get().loadVms(summary.from);
      void get().loadVms(summary.to);
    }
  },
  async resumeRunningMigrations() {
    // One run by another Ferry process sends its events there, not here: it stays a History row.
    const running = (await get().api.call('migrations.list', {})).filter((summary) => !isFinalPhase(summary.phase) && summary.elsewhere !== true);
    for (const summary of running) {
      get().trackMigration(summary);
      const record = await get().api.call('migrations.get', { id: summary.id });
      for (const sample of record.samples) get().migrationSample({ id: summary.id, sample });
    }
  },
  async loadHistory() {
    try {
      const history = await get().api.call('migrations.list', {});
      set({ history: [...history].sort((a, b) => b.startedAt.localeCompare(a.startedAt)), historyLoaded: true, historyError: null });
    } catch (error) {
      set({ historyLoaded: true, historyError: errorInfo(error) });
    }
  },
  async loadRecord(id) {
    const record = await get().api.call('migrations.get', { id });
    set((s) => ({ records: { ...s.records, [id]: record } }));
    return record;
  },
  async recoverMigrations() {
    const settled = await get().api.call('migrations.recover', {});
    // Live views of these migrations show the new outcome even if the update event is missed.
    for (const summary of settled) if (summary.id in get().migrations) get().trackMigration(summary);
    await get().loadHistory();
    return settled;
  },
});

export type FerryStore = StoreApi<FerryState>;

export function createFerryStore(api: FerryApi): FerryStore {
  return createStore<FerryState>()((...a) => ({
    ...uiSlice(api)(...a),
    ...connectionsSlice(...a),
    ...hostsSlice(...a),
    ...inventorySlice(...a),
    ...vmsSlice(...a),
    ...storageSlice(...a),
    ...migrationsSlice(...a),
  }));
}

/** Wires engine events into the store; returns the unsubscribe function. */
export function connectEvents(store: FerryStore): () => void {
  return store.getState().api.onEvent((event) => {
    const state = store.getState();
    if (event.name === 'host-state') state.hostState(event.payload);
    else if (event.name === 'migration-sample') state.migrationSample(event.payload);
    else if (event.name === 'migration-update') state.migrationUpdate(event.payload);
    else if (event.name === 'inventory') state.inventoryChanged(event.payload.host, event.payload.inventory);
  });
}
