import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../errors.js';
import { LocalTransport, SshTransport, parseProxyJump, resolveSshConfig, type SshTransportOptions, type UnknownHostKeyPrompt } from '../ssh/index.js';
import type { HostTransport, TransportState } from '../ssh/transport.js';
import type { SavedHost } from './registry.js';
import { expandHomePath } from '../local-path.js';

export interface Secrets {
  password?: string;
  passphrase?: string;
}

export interface ConnectionOptions {
  ferryKnownHosts: string;
  /** The user's own known_hosts, read but never written. */
  userKnownHosts?: string;
  sshConfigPath?: string;
  agentSocket?: string | undefined;
}

/**
 * Keeps one live transport per saved host and passes its state changes on as
 * ('state', hostName, TransportState) events.
 */
export class ConnectionManager extends EventEmitter {
  private readonly transports = new Map<string, HostTransport>();
  private readonly pending = new Map<string, Promise<HostTransport>>();
  private readonly secrets = new Map<string, Secrets>();

  constructor(private readonly options: ConnectionOptions) {
    super();
  }

  rememberSecrets(host: string, secrets: Secrets): void {
    this.secrets.set(host, secrets);
  }

  state(host: string): TransportState | undefined {
    return this.transports.get(host)?.state;
  }

  /** Hosts whose connection is up right now. */
  connectedHosts(): string[] {
    return [...this.transports].filter(([, transport]) => transport.state.kind === 'connected').map(([name]) => name);
  }

  /** The connected transport for a host, connecting first if needed. */
  async get(host: SavedHost, onUnknownHostKey?: UnknownHostKeyPrompt): Promise<HostTransport> {
    const existing = this.transports.get(host.name);
    if (existing && existing.state.kind !== 'failed' && existing.state.kind !== 'closed') return existing;
    const inFlight = this.pending.get(host.name);
    if (inFlight) return inFlight;
    const connecting = this.open(host, onUnknownHostKey).finally(() => this.pending.delete(host.name));
    this.pending.set(host.name, connecting);
    return connecting;
  }

  private async open(host: SavedHost, onUnknownHostKey: UnknownHostKeyPrompt | undefined): Promise<HostTransport> {
    await this.transports.get(host.name)?.close();
    this.transports.delete(host.name);
    if (host.transport === 'local') {
      const local = new LocalTransport(host.name);
      this.adopt(host.name, local);
      return local;
    }
    const ssh = new SshTransport(await this.sshOptions(host, onUnknownHostKey));
    this.adopt(host.name, ssh);
    try {
      await ssh.connect();
    } catch (error) {
      this.transports.delete(host.name);
      await ssh.close().catch(() => undefined);
      throw error;
    }
    return ssh;
  }

  private adopt(name: string, transport: HostTransport): void {
    this.transports.set(name, transport);
    transport.on('state', (state: TransportState) => this.emit('state', name, state));
  }

  private async sshOptions(host: Extract<SavedHost, { transport: 'ssh' }>, onUnknownHostKey: UnknownHostKeyPrompt | undefined): Promise<SshTransportOptions> {
    const config = await resolveSshConfig(host.address, this.options.sshConfigPath === undefined ? {} : { configPath: this.options.sshConfigPath });
    const secrets = this.secrets.get(host.name) ?? {};
    const identityFile = host.identityFile !== undefined ? expandHomePath(host.identityFile) : (config.identityFiles[0] ?? defaultIdentity());
    const knownHostsFiles = [{ path: this.options.ferryKnownHosts, writable: true }];
    if (this.options.userKnownHosts) knownHostsFiles.push({ path: this.options.userKnownHosts, writable: false });
    const agent = host.useAgent ? this.options.agentSocket : undefined;
    const options: SshTransportOptions = {
      label: host.name,
      host: config.hostName,
      port: host.port ?? config.port,
      username: host.user ?? config.user ?? 'root',
      auth: {
        ...(agent ? { agent } : {}),
        ...(identityFile ? { identityFile } : {}),
        // Only a key named for this host must open; a default one (or one from ~/.ssh/config,
        // as ssh in batch mode treats it) that needs a passphrase falls through to the agent.
        identityFileIsDefault: host.identityFile === undefined,
        ...(secrets.passphrase !== undefined ? { passphrase: secrets.passphrase } : {}),
        ...(secrets.password !== undefined ? { password: secrets.password } : {}),
      },
      knownHostsFiles,
      ...(onUnknownHostKey ? { onUnknownHostKey } : {}),
    };
    if (config.proxyJump) {
      const hops = parseProxyJump(config.proxyJump);
      if (hops.length > 1) {
        throw new FerryError('unsupported', `ProxyJump with ${hops.length} hops is not supported yet for ${host.address}`, { hint: 'Use a single jump host in ~/.ssh/config.' });
      }
      const hop = hops[0];
      if (hop) {
        const jumpConfig = await resolveSshConfig(hop.host, this.options.sshConfigPath === undefined ? {} : { configPath: this.options.sshConfigPath });
        const jumpIdentity = jumpConfig.identityFiles[0] ?? defaultIdentity();
        options.proxyJump = {
          label: `${host.name} (jump ${hop.host})`,
          host: jumpConfig.hostName,
          port: hop.port ?? jumpConfig.port,
          username: hop.user ?? jumpConfig.user ?? options.username,
          auth: { ...(agent ? { agent } : {}), ...(jumpIdentity ? { identityFile: jumpIdentity } : {}), identityFileIsDefault: true },
          knownHostsFiles,
          ...(onUnknownHostKey ? { onUnknownHostKey } : {}),
        };
      }
    }
    return options;
  }

  async disconnect(host: string): Promise<void> {
    await this.transports.get(host)?.close();
    this.transports.delete(host);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.transports.values()].map((transport) => transport.close().catch(() => undefined)));
    this.transports.clear();
  }
}

/** The first default identity `ssh` itself would try, if present. */
function defaultIdentity(): string | undefined {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((file) => join(homedir(), '.ssh', file)).find((path) => existsSync(path));
}
