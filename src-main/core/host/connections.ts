import { EventEmitter } from 'node:events';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport, SshTransport, type KnownHostsFile, type SshTransportOptions, type UnknownHostKeyPrompt } from '../ssh/index.js';
import type { IdentityFile } from '../ssh/auth.js';
import { parseProxyJump, resolveSshConfig, type JumpHost, type ResolvedSshConfig } from '../ssh/config.js';
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
  /** Debug-level notes, such as why ~/.ssh/config was read by Ferry's parser instead of `ssh -G`. */
  debug?: (note: string) => void;
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
    const config = await this.resolveConfig(host.address, host.port, host.user);
    const secrets = this.secrets.get(host.name) ?? {};
    const agent = host.useAgent ? this.options.agentSocket : undefined;
    // A key named for this host must open; keys from ~/.ssh/config that need a passphrase fall
    // through to the next key and the agent, as ssh in batch mode treats them.
    const identityFiles = host.identityFile !== undefined ? [{ path: expandHomePath(host.identityFile), defaultName: false, required: true }] : identityFilesOf(config);
    const options: SshTransportOptions = {
      label: host.name,
      host: config.hostName,
      port: host.port ?? config.port,
      username: host.user ?? config.user ?? 'root',
      auth: {
        ...(agent ? { agent } : {}),
        identityFiles,
        ...(secrets.passphrase !== undefined ? { passphrase: secrets.passphrase } : {}),
        ...(secrets.password !== undefined ? { password: secrets.password } : {}),
      },
      knownHostsFiles: this.knownHostsFiles(config),
      ...(onUnknownHostKey ? { onUnknownHostKey } : {}),
      ...(host.sudo ? { sudo: true } : {}),
    };
    const jump = config.proxyJump === undefined ? undefined : await this.jumpChain(host.name, parseProxyJump(config.proxyJump), options.username, agent, onUnknownHostKey);
    if (jump !== undefined) options.proxyJump = jump;
    return options;
  }

  /**
   * ProxyJump a,b,c: a is reached directly, b through a, c through b, the target through c. Each
   * hop is resolved through the ssh config like its own alias; its own ProxyJump is not followed.
   */
  private async jumpChain(name: string, hops: readonly JumpHost[], targetUser: string, agent: string | undefined, onUnknownHostKey: UnknownHostKeyPrompt | undefined): Promise<SshTransportOptions | undefined> {
    let previous: SshTransportOptions | undefined;
    for (const [index, hop] of hops.entries()) {
      const hopConfig = await this.resolveConfig(hop.host, hop.port, hop.user);
      const step = hops.length === 1 ? '' : ` ${index + 1}/${hops.length}`;
      const options: SshTransportOptions = {
        label: `${name} (jump${step} ${hop.host})`,
        host: hopConfig.hostName,
        port: hop.port ?? hopConfig.port,
        username: hop.user ?? hopConfig.user ?? targetUser,
        auth: { ...(agent ? { agent } : {}), identityFiles: identityFilesOf(hopConfig) },
        knownHostsFiles: this.knownHostsFiles(hopConfig),
        ...(onUnknownHostKey ? { onUnknownHostKey } : {}),
        ...(previous === undefined ? {} : { proxyJump: previous }),
      };
      previous = options;
    }
    return previous;
  }

  private resolveConfig(alias: string, port: number | undefined, user: string | undefined): Promise<ResolvedSshConfig> {
    const { sshConfigPath, debug } = this.options;
    return resolveSshConfig(alias, {
      ...(sshConfigPath === undefined ? {} : { configPath: sshConfigPath }),
      ...(port === undefined ? {} : { port }),
      ...(user === undefined ? {} : { user }),
      ...(debug === undefined ? {} : { debug }),
    });
  }

  /** Ferry's own file first (the only one written), then the user's and the system-wide ones ssh reads. */
  private knownHostsFiles(config: ResolvedSshConfig): KnownHostsFile[] {
    const files: KnownHostsFile[] = [{ path: this.options.ferryKnownHosts, writable: true }];
    const readOnly = [
      // The user's files are left out when Ferry was told not to read the user's known_hosts.
      ...(this.options.userKnownHosts ? [this.options.userKnownHosts, ...config.userKnownHostsFiles] : []),
      ...config.globalKnownHostsFiles,
    ];
    for (const path of readOnly) {
      if (!files.some((file) => file.path === path)) files.push({ path, writable: false });
    }
    return files;
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

/** The config's IdentityFiles, or else ssh's default key names (a missing one is no error). */
function identityFilesOf(config: ResolvedSshConfig): IdentityFile[] {
  if (config.identityFiles.length > 0) return config.identityFiles.map((path) => ({ path, defaultName: false, required: false }));
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((file) => ({ path: join(homedir(), '.ssh', file), defaultName: true, required: false }));
}
