import { EventEmitter } from 'node:events';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Channel, ChannelArgs, ChannelOutput, EngineEvent, EngineEventName, EngineEvents } from './api/contract.js';
import type { HostSummary } from './api/types.js';
import { parseChannelInput } from './api/validate.js';
import { ConsoleService, DEFAULT_OWNER } from './console/console-service.js';
import { ConnectionManager } from './host/connections.js';
import { checkHost } from './host/check.js';
import { readHostInfo } from './host/info.js';
import { HostRegistry, hostUri, type SavedHost } from './host/registry.js';
import { Inventory, type InventoryPart } from './inventory/inventory.js';
import { ferryHome, ferryHomeLayout } from './paths.js';
import { definePool, deletePool, listPools, loadPool, startPool, stopPool } from './storage/pools.js';
import { createVolume, deleteVolume, listVolumes, volumeInfo } from './storage/volumes.js';
import type { HostTransport, TransportState } from './ssh/transport.js';
import { resolveSshConfig } from './ssh/config.js';
import { adoptVm } from './vm/adopt.js';
import { callLibvirtChannel, isLibvirtChannel } from './libvirt/channels.js';
import { assertLibvirtAnswers, libvirtCheckItems } from './libvirt/host-check.js';
import { updateVm } from './vm/edit.js';
import { readHostStats } from './vm/stats.js';
import { EvacuationService } from './migration/evacuation.js';
import { MigrationService } from './migration/service.js';
import { defineVm, destroyVm, listVms, pauseVm, resumeVm, serialTail, shutdownVm, startVm, undefineVm, vmDetails, type VmHost } from './vm/lifecycle.js';

export interface EngineOptions {
  home?: string;
  userKnownHosts?: string | null;
  sshConfigPath?: string;
  agentSocket?: string;
}

/** Which inventory parts the calls of a channel group change. */
const CHANGED_PARTS: Record<string, readonly InventoryPart[]> = {
  vms: ['vms'],
  pools: ['pools', 'volumes'],
  volumes: ['volumes', 'pools'],
};

/** Who is calling: the window or web page, so that what it opens (consoles) closes with it. */
export interface CallContext {
  owner: string;
}

type Handlers = { [C in Channel]: (args: ChannelArgs<C>, caller: CallContext) => Promise<ChannelOutput<C>> };

/**
 * The engine behind every front end. `call` is the single entry: it validates the input against
 * the contract, then runs the handler. Pushes (host state, migration samples) arrive via onEvent.
 */
export class FerryEngine extends EventEmitter {
  readonly home: string;
  private readonly sshConfigPath: string | undefined;
  private readonly registry: HostRegistry;
  readonly connections: ConnectionManager;
  readonly migrations: MigrationService;
  readonly evacuations: EvacuationService;
  readonly consoles: ConsoleService;
  readonly inventory: Inventory;

  constructor(options: EngineOptions = {}) {
    super();
    this.home = options.home ?? ferryHome();
    this.sshConfigPath = options.sshConfigPath;
    const layout = ferryHomeLayout(this.home);
    this.registry = new HostRegistry(layout.hosts);
    const userKnownHosts = options.userKnownHosts === null ? undefined : options.userKnownHosts ?? join(homedir(), '.ssh', 'known_hosts');
    this.connections = new ConnectionManager({
      ferryKnownHosts: layout.knownHosts,
      ...(userKnownHosts ? { userKnownHosts } : {}),
      ...(options.sshConfigPath ? { sshConfigPath: options.sshConfigPath } : {}),
      agentSocket: options.agentSocket ?? process.env['SSH_AUTH_SOCK'],
    });
    this.migrations = new MigrationService({
      home: this.home,
      transport: (host) => this.transport(host),
      hostAddress: (host) => this.hostAddress(host),
      publish: (name, payload) => this.publish(name, payload),
      hypervisor: (host) => this.hypervisor(host),
    });
    this.evacuations = new EvacuationService({
      migrations: this.migrations,
      listVms: async (host, only) => {
        const vmHost = await this.vmHost(host);
        return only ? Promise.all(only.map((name) => vmDetails(vmHost, name))) : listVms(vmHost);
      },
      connect: (host) => this.transport(host),
      publish: (summary) => this.publish('evacuation-update', summary),
    });
    this.inventory = new Inventory({
      transport: (host) => this.transport(host),
      connectedHosts: () => this.connections.connectedHosts(),
      publish: (host, inventory) => this.publish('inventory', { host, inventory }),
      monitorHeld: (host, vm) => this.migrations.isMigrating(host, vm),
      hypervisor: (host) => this.hypervisor(host),
    });
    this.onEvent((event) => {
      // Where a VM runs changes with its migration's phases: both hosts are read again at once.
      if (event.name !== 'migration-update') return;
      for (const host of [event.payload.from, event.payload.to]) void this.inventory.refresh(host, ['vms'], { freshStatus: true }).catch(() => undefined);
    });
    this.consoles = new ConsoleService({
      transport: (host) => this.transport(host),
      isRunning: async (host, name) => (await vmDetails(await this.vmHost(host), name)).state !== 'shutoff',
      publish: (name, payload) => this.publish(name, payload),
    });
    this.connections.on('state', (host: string, state: TransportState) => {
      if (state.kind !== 'connecting' && state.kind !== 'connected') this.consoles.closeHost(host, `The connection to ${host} dropped`);
      this.inventory.hostState(host, state.kind === 'connected');
      const payload: EngineEvents['host-state'] = { host, state: state.kind === 'closed' ? 'disconnected' : state.kind };
      if (state.kind === 'lost' || state.kind === 'failed') payload.reason = state.reason;
      this.publish('host-state', payload);
    });
  }

  /** Every push to front ends goes through here: listeners get one EngineEvent. */
  publish<E extends EngineEventName>(name: E, payload: EngineEvents[E]): void {
    // Typed here, where name and payload are known to belong together, so listeners can narrow on name.
    const event: EngineEvent<E> = { name, payload };
    this.emit('event', event);
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.on('event', listener);
    return () => this.off('event', listener);
  }

  async call<C extends Channel>(channel: C, input: unknown, caller: CallContext = { owner: DEFAULT_OWNER }): Promise<ChannelOutput<C>> {
    const args = parseChannelInput(channel, input);
    const libvirtHost = await this.libvirtHostOf(channel, args);
    if (libvirtHost !== undefined) {
      try {
        return await callLibvirtChannel(channel, args, { name: libvirtHost, transport: await this.transport(libvirtHost) });
      } finally {
        this.afterChange(channel, args);
      }
    }
    const handler = this.handlers[channel] as (args: ChannelArgs<C>, caller: CallContext) => Promise<ChannelOutput<C>>;
    try {
      return await handler(args, caller);
    } finally {
      this.afterChange(channel, args);
    }
  }

  /** The host a call is for, when that host is a libvirt host and the channel goes to libvirt there. */
  private async libvirtHostOf(channel: Channel, args: unknown): Promise<string | undefined> {
    if (!isLibvirtChannel(channel) || typeof args !== 'object' || args === null || !('host' in args) || typeof args.host !== 'string') return undefined;
    return (await this.hypervisor(args.host)) === 'libvirt' ? args.host : undefined;
  }

  /** Who runs a saved host's VMs: Ferry's own QEMU, or libvirtd. */
  async hypervisor(hostName: string): Promise<'ferry' | 'libvirt'> {
    return (await this.registry.get(hostName)).hypervisor === 'libvirt' ? 'libvirt' : 'ferry';
  }

  /** What a call may have changed on its host is read again now, even when the call failed halfway. */
  private afterChange(channel: Channel, args: unknown): void {
    const parts = CHANGED_PARTS[channel.slice(0, channel.indexOf('.'))];
    if (!parts || /\.(list|info|serial|subscribe|refresh)$/.test(channel)) return;
    if (typeof args !== 'object' || args === null || !('host' in args) || typeof args.host !== 'string') return;
    void this.inventory.refresh(args.host, parts, { freshStatus: true }).catch(() => undefined);
  }

  async transport(hostName: string): Promise<HostTransport> {
    return this.connections.get(await this.registry.get(hostName));
  }

  /** The address other hosts use to reach this one: its SSH address with ~/.ssh/config applied. */
  private async hostAddress(hostName: string): Promise<string> {
    const host = await this.registry.get(hostName);
    if (host.transport === 'local') return '127.0.0.1';
    return (await resolveSshConfig(host.address, this.sshConfigPath === undefined ? {} : { configPath: this.sshConfigPath })).hostName;
  }

  private async vmHost(hostName: string): Promise<VmHost> {
    return { name: hostName, transport: await this.transport(hostName) };
  }

  private summary(host: SavedHost): HostSummary {
    const state = this.connections.state(host.name);
    const summary: HostSummary = {
      name: host.name,
      transport: host.transport,
      uri: hostUri(host),
      autoconnect: host.autoconnect,
      state: state === undefined || state.kind === 'closed' ? 'disconnected' : state.kind,
      hypervisor: host.hypervisor === 'libvirt' ? 'libvirt' : 'ferry',
    };
    if (state && (state.kind === 'lost' || state.kind === 'failed')) summary.stateReason = state.reason;
    if (host.transport === 'ssh') {
      summary.address = host.address;
      if (host.port !== undefined) summary.port = host.port;
      if (host.user !== undefined) summary.user = host.user;
      if (host.identityFile !== undefined) summary.identityFile = host.identityFile;
      if (host.sudo) summary.sudo = true;
    }
    return summary;
  }

  private readonly handlers: Handlers = {
    'hosts.list': async () => (await this.registry.list()).map((host) => this.summary(host)),
    'hosts.add': async (args) => {
      const host: SavedHost =
        args.transport === 'local'
          ? { transport: 'local', name: args.name, autoconnect: args.autoconnect, ...(args.hypervisor === 'libvirt' ? { hypervisor: 'libvirt' as const } : {}) }
          : {
              transport: 'ssh',
              name: args.name,
              address: args.address,
              useAgent: args.useAgent,
              autoconnect: args.autoconnect,
              ...(args.sudo ? { sudo: true } : {}),
              ...(args.port !== undefined ? { port: args.port } : {}),
              ...(args.user !== undefined ? { user: args.user } : {}),
              ...(args.identityFile !== undefined ? { identityFile: args.identityFile } : {}),
              ...(args.hypervisor === 'libvirt' ? { hypervisor: 'libvirt' as const } : {}),
            };
      await this.registry.assertFree(host.name);
      if (args.transport === 'ssh') {
        this.connections.rememberSecrets(host.name, {
          ...(args.password !== undefined ? { password: args.password } : {}),
          ...(args.passphrase !== undefined ? { passphrase: args.passphrase } : {}),
        });
        // Connecting before saving means a host that cannot be reached or verified is not saved.
        await this.connections.get(host, async (key) => args.acceptNewHostKey || (args.trustFingerprint !== undefined && args.trustFingerprint === key.fingerprint));
      } else {
        await this.connections.get(host);
      }
      // A libvirt host whose virsh or libvirtd is missing is not saved: the error says what to install or start.
      if (host.hypervisor === 'libvirt') await assertLibvirtAnswers(host.name, await this.connections.get(host));
      await this.registry.add(host);
      return this.summary(host);
    },
    'hosts.remove': async ({ name }) => {
      await this.registry.remove(name);
      await this.connections.disconnect(name);
      return { removed: name };
    },
    'hosts.connect': async ({ name }) => {
      const host = await this.registry.get(name);
      const transport = await this.connections.get(host);
      if (host.hypervisor === 'libvirt') await assertLibvirtAnswers(host.name, transport);
      return this.summary(host);
    },
    'hosts.info': async ({ host }) => readHostInfo(host, await this.transport(host)),
    'hosts.check': async ({ host }) => {
      const transport = await this.transport(host);
      const report = await checkHost(host, transport);
      if ((await this.hypervisor(host)) !== 'libvirt') return report;
      const items = [...report.items, ...(await libvirtCheckItems(transport))];
      return { ...report, ok: items.every((entry) => entry.level !== 'error'), items };
    },
    'hosts.stats': async ({ host }) => readHostStats(await this.transport(host), host),
    'hosts.evacuate': (args) => this.evacuations.start(args),
    'evacuations.get': async ({ id }) => this.evacuations.get(id),
    'evacuations.cancel': ({ id }) => this.evacuations.cancel(id),
    'evacuations.list': async () => this.evacuations.list(),
    'inventory.subscribe': async () => this.inventory.subscribe(),
    'inventory.refresh': ({ host }) => this.inventory.refresh(host, undefined, { freshStatus: true }),
    'pools.list': async ({ host }) => listPools(await this.transport(host)),
    'pools.define': async (args) => definePool(await this.transport(args.host), args),
    'pools.start': async ({ host, pool }) => {
      const transport = await this.transport(host);
      return startPool(transport, await loadPool(transport, host, pool));
    },
    'pools.stop': async ({ host, pool }) => {
      const transport = await this.transport(host);
      return stopPool(transport, await loadPool(transport, host, pool));
    },
    'pools.delete': async ({ host, pool }) => {
      const transport = await this.transport(host);
      await deletePool(transport, host, await loadPool(transport, host, pool));
      return { deleted: pool };
    },
    'volumes.list': async ({ host, pool }) => {
      const transport = await this.transport(host);
      return listVolumes(transport, host, await loadPool(transport, host, pool));
    },
    'volumes.create': async (args) => {
      const transport = await this.transport(args.host);
      return createVolume(transport, await loadPool(transport, args.host, args.pool), args);
    },
    'volumes.info': async ({ host, pool, name }) => {
      const transport = await this.transport(host);
      return volumeInfo(transport, host, await loadPool(transport, host, pool), name);
    },
    'volumes.delete': async ({ host, pool, name }) => {
      const transport = await this.transport(host);
      await deleteVolume(transport, host, await loadPool(transport, host, pool), name);
      return { deleted: name };
    },
    'vms.list': async ({ host }) => listVms(await this.vmHost(host)),
    'vms.info': async ({ host, name }) => vmDetails(await this.vmHost(host), name),
    'vms.define': async (args) => defineVm(await this.vmHost(args.host), args),
    'vms.undefine': async ({ host, name }) => {
      await undefineVm(await this.vmHost(host), name);
      return { undefined: name };
    },
    'vms.start': async ({ host, name }) => startVm(await this.vmHost(host), name),
    'vms.update': async (args) => updateVm(await this.vmHost(args.host), args),
    'vms.pause': async ({ host, name }) => pauseVm(await this.vmHost(host), name),
    'vms.resume': async ({ host, name }) => resumeVm(await this.vmHost(host), name),
    'vms.shutdown': async ({ host, name, timeoutMs }) => shutdownVm(await this.vmHost(host), name, timeoutMs),
    'vms.destroy': async ({ host, name }) => destroyVm(await this.vmHost(host), name),
    'vms.adopt': async ({ host, name, qmpSocket }) => adoptVm(await this.vmHost(host), name, qmpSocket),
    'vms.serial': async ({ host, name, tailBytes }) => ({ text: await serialTail(await this.vmHost(host), name, tailBytes) }),
    'consoles.open': ({ host, name, kind }, caller) => this.consoles.open({ host, vm: name, kind }, caller.owner),
    'consoles.write': async ({ id, data }, caller) => this.consoles.write(id, Buffer.from(data, 'base64'), caller.owner),
    'consoles.close': async ({ id }, caller) => this.consoles.close(id, caller.owner),
    'migrations.modes': (args) => this.migrations.modes(args),
    'migrations.check': (args) => this.migrations.check(args),
    'migrations.start': (args) => this.migrations.start(args),
    'migrations.cancel': (args) => this.migrations.cancel(args),
    'migrations.tune': (args) => this.migrations.tune(args),
    'migrations.list': () => this.migrations.list(),
    'migrations.recover': () => this.migrations.recoverNow(),
    'migrations.get': (args) => this.migrations.get(args),
    'migrations.export': (args) => this.migrations.export(args),
  };

  async close(): Promise<void> {
    this.consoles.closeAll();
    this.inventory.close();
    await this.connections.closeAll();
  }
}
