import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { FerryError, toFerryError } from '../errors.js';
import { authHandler, authMethods, chooseIdentity, type SshAuthOptions } from './auth.js';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
import { stdoutOrThrow } from './command-result.js';
import { shellCommand, shellQuote } from './shell.js';
import { hostKeyAlgorithmsFor, isNoMatchingHostKeyFormat } from './host-key-algorithms.js';
import { presentedHostKey } from './host-key-probe.js';
import { newKeyTypeRefusal, verifyHostKey, type UnknownHostKeyPrompt } from './host-key-policy.js';
import { knownHostsName, knownKeyTypesOf, type KnownHostsFile } from './known-hosts.js';
import { Limiter } from './limiter.js';
import { HostSession, SessionGoneBeforeSend } from './host-session.js';
import { hostSessionCommand, SUDO_PROBE, sudoRefused, type Privilege } from './privilege.js';
import { execOnClient, execStreamOnClient, type RemoteCommand } from './remote-exec.js';
import { mapConnectError, type Ssh2Error } from './ssh-errors.js';
import { tempSiblingPath } from './temp-path.js';
import type { ExecOptions, ExecResult, ExecStreamOptions, HostTransport, StreamedCommand, TransportState, UnixSocketListener } from './transport.js';

export interface SshTransportOptions {
  label: string;
  host: string;
  port?: number;
  username: string;
  auth: SshAuthOptions;
  /** Searched in order; the first writable one receives keys the user accepts. */
  knownHostsFiles: KnownHostsFile[];
  /** Asked about an unknown host key. Without it, unknown keys are refused. */
  onUnknownHostKey?: UnknownHostKeyPrompt;
  keepaliveIntervalMs?: number;
  /** Budget for TCP connect + handshake + auth, not counting time spent in onUnknownHostKey. */
  readyTimeoutMs?: number;
  /** How long an operation issued while reconnecting waits before giving up. */
  reconnectWaitMs?: number;
  backoff?: BackoffOptions;
  proxyJump?: SshTransportOptions;
  /**
   * Run commands through one long-lived host session (default) rather than an SSH channel, and
   * so a login shell, per command. `false` is for comparing the two (benchmark, tests).
   */
  hostSession?: boolean;
  /** The SSH user is not root: every command runs under passwordless sudo (see privilege.ts). */
  sudo?: boolean;
}

/** Files read whole (definitions, keys, logs' ends) are small; bigger ones are streamed. */
const MAX_READ_FILE_BYTES = 64 * 1024 * 1024;

/** inSession's answer when commands go over channels instead. */
const NO_SESSION = Symbol('no host session');

// OpenSSH's default MaxSessions is 10; the SFTP session and the host session take one each, and
// one stays free for killing commands.
const MAX_CONCURRENT_EXEC = 7;

/**
 * One SSH connection per host, multiplexing every exec, socket forward and the SFTP session.
 * After an unexpected drop it reconnects on its own with backoff; a refused host key or failed
 * authentication stops it for good, because retrying cannot fix either.
 */
export class SshTransport extends EventEmitter implements HostTransport {
  readonly label: string;
  private current: TransportState = { kind: 'closed' };
  private client: Client | undefined;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private jump: SshTransport | undefined;
  private started: Promise<void> | undefined;
  private userClosed = false;
  private failure: FerryError | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly execLimiter = new Limiter(MAX_CONCURRENT_EXEC);
  private session: { client: Client; started: Promise<HostSession | undefined> } | undefined;
  private sessionUnavailable: string | undefined;
  private readonly options: Required<Pick<SshTransportOptions, 'port' | 'keepaliveIntervalMs' | 'readyTimeoutMs' | 'reconnectWaitMs' | 'backoff'>> & SshTransportOptions;

  constructor(options: SshTransportOptions) {
    super();
    this.label = options.label;
    // `??` rather than a spread, so an explicit `port: undefined` still gets the default.
    this.options = {
      ...options,
      port: options.port ?? 22,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      reconnectWaitMs: options.reconnectWaitMs ?? 60_000,
      backoff: options.backoff ?? defaultBackoff,
    };
  }

  private get privilege(): Privilege {
    return this.options.sudo === true ? 'sudo' : 'login-user';
  }

  get state(): TransportState {
    return this.current;
  }

  /**
   * Connects; later calls return the same promise. Operations call this implicitly. After a
   * failure, calling it again is the explicit retry (e.g. once the user fixed the key).
   */
  connect(): Promise<void> {
    if (this.userClosed) return Promise.reject(closedError(this.label));
    if (this.started === undefined || this.current.kind === 'failed') this.started = this.firstConnect();
    return this.started;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (commandTrace === undefined) return this.execUntraced(command, options);
    const started = performance.now();
    try {
      return await this.execUntraced(command, options);
    } finally {
      traceCommand(this.label, started, command);
    }
  }

  private async execUntraced(command: string, options: ExecOptions): Promise<ExecResult> {
    const result = await this.inSession((session) => session.exec(command, options));
    if (result !== NO_SESSION) return result;
    traceCommand(this.label, performance.now(), `(channel) ${command}`);
    return this.inCommandSlot((client) => execOnClient(client, command, options, this.label, this.privilege));
  }

  /**
   * Runs `work` in the host session, or says there is none (the host cannot run one, or it is
   * turned off). A session that ended before the command was sent ran nothing: the command goes
   * to the next one. Once sent, a command is never sent again.
   */
  private async inSession<T>(work: (session: HostSession) => Promise<T>): Promise<T | typeof NO_SESSION> {
    if (this.options.hostSession === false) return NO_SESSION;
    for (let attempt = 0; attempt < 3; attempt++) {
      const session = await this.hostSession();
      if (session === undefined) return NO_SESSION;
      try {
        return await work(session);
      } catch (error) {
        if (!(error instanceof SessionGoneBeforeSend)) throw error;
      }
    }
    return NO_SESSION;
  }

  /**
   * Why this connection runs each command on its own channel instead of in a host session
   * (the host could not start one), or undefined while sessions work.
   */
  get hostSessionUnavailable(): string | undefined {
    return this.sessionUnavailable;
  }

  /** The connection's host session, started on first use and again after it ended; undefined if the host cannot run one. */
  private async hostSession(): Promise<HostSession | undefined> {
    const client = await this.ready();
    const current = this.session;
    if (current !== undefined && current.client === client) {
      const session = await current.started;
      if (session === undefined || session.alive) return session;
      if (this.session === current) this.session = undefined;
      return this.hostSession();
    }
    const started = this.startHostSession(client);
    const entry = { client, started };
    this.session = entry;
    started.catch(() => {
      if (this.session === entry) this.session = undefined;
    });
    return started;
  }

  private async startHostSession(client: Client): Promise<HostSession | undefined> {
    if (this.sessionUnavailable !== undefined) return undefined;
    const started = performance.now();
    const channel = await guarded<ClientChannel>(this.label, (resolve, reject) => {
      client.exec(hostSessionCommand(this.privilege), (error, opened) => {
        if (error) reject(new FerryError('connection-failed', `${this.label}: cannot start a host session: ${error.message}`, { cause: error }));
        else resolve(opened);
      });
    });
    try {
      const session = await HostSession.start(this.label, {
        input: channel,
        output: channel,
        errors: channel.stderr,
        close: () => {
          try {
            channel.close();
          } catch {
            // Already closed with its connection.
          }
        },
      });
      traceCommand(this.label, started, '(host session started)');
      return session;
    } catch (error) {
      const failure = toFerryError(error);
      // A dropped connection is retried with the next connection; a host that cannot run the
      // program gets a channel per command from now on.
      if (this.client !== client) throw failure;
      this.sessionUnavailable = failure.message;
      this.emit('host-session-unavailable', failure);
      return undefined;
    }
  }

  async execStream(command: string, options: ExecStreamOptions): Promise<StreamedCommand> {
    traceCommand(this.label, performance.now(), `(stream) ${command}`);
    return this.inCommandSlot((client) => execStreamOnClient(client, command, options, this.label, this.privilege));
  }

  /**
   * Holds a command slot until the command's session is gone on the host, which for a killed
   * command comes after its promise has rejected: freeing the slot earlier would let the next
   * command ask sshd for a session it still counts as taken, and be refused.
   */
  private async inCommandSlot<T>(start: (client: Client) => RemoteCommand<T>): Promise<T> {
    const release = await this.execLimiter.acquire();
    let command: RemoteCommand<T>;
    try {
      command = start(await this.ready());
    } catch (error) {
      release();
      throw error;
    }
    void command.released.then(release);
    return command.result;
  }

  async run(command: string, options?: ExecOptions): Promise<string> {
    return stdoutOrThrow(this.label, command, await this.exec(command, options));
  }

  async openUnixSocket(path: string): Promise<Duplex> {
    const client = await this.ready();
    return guarded<Duplex>(this.label, (resolve, reject) => {
      client.openssh_forwardOutStreamLocal(path, (error, channel) => {
        if (error !== undefined && error !== null) {
          reject(new FerryError('connection-failed', `${this.label}: cannot open UNIX socket ${path}: ${error.message}`, {
            hint: 'Check that the socket exists and that sshd allows it (AllowStreamLocalForwarding yes).',
            details: { path },
            cause: error,
          }));
          return;
        }
        resolve(channel);
      });
    });
  }

  async listenUnixSocket(path: string, onConnection: (stream: Duplex) => void): Promise<UnixSocketListener> {
    const client = await this.ready();
    // ssh2 reports every forwarded connection of the client on one event; this listener takes
    // only those for its own path and leaves the others to theirs.
    const accept = (info: { socketPath: string }, acceptConnection: () => Duplex): void => {
      if (info.socketPath === path) onConnection(acceptConnection());
    };
    client.on('unix connection', accept);
    try {
      await guarded<void>(this.label, (resolve, reject) => {
        client.openssh_forwardInStreamLocal(path, (error) => {
          if (error !== undefined && error !== null) {
            reject(new FerryError('connection-failed', `${this.label}: cannot make UNIX socket ${path} on the host: ${error.message}`, {
              hint: 'Check that sshd allows remote socket forwarding (AllowStreamLocalForwarding yes) and that the directory exists.',
              details: { path },
              cause: error,
            }));
            return;
          }
          resolve();
        });
      });
    } catch (error) {
      client.removeListener('unix connection', accept);
      throw error;
    }
    return {
      path,
      close: () => {
        client.removeListener('unix connection', accept);
        return new Promise<void>((resolve) => {
          try {
            client.openssh_unforwardInStreamLocal(path, () => resolve());
          } catch {
            resolve(); // the connection is gone, and the socket's forward with it
          }
        });
      },
    };
  }

  async openTcp(host: string, port: number): Promise<Duplex> {
    const client = await this.ready();
    return guarded<Duplex>(this.label, (resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
        if (error !== undefined && error !== null) {
          reject(new FerryError('connection-failed', `${this.label}: cannot open TCP ${host}:${port} from the host: ${error.message}`, {
            hint: 'Check that the port is listening on the host and that sshd allows it (AllowTcpForwarding yes).',
            details: { host, port },
            cause: error,
          }));
          return;
        }
        resolve(channel);
      });
    });
  }

  async readFile(path: string): Promise<Buffer> {
    const read = await this.inSession((session) => session.execBytes(shellCommand(['cat', '--', path]), { maxOutputBytes: MAX_READ_FILE_BYTES }));
    if (read !== NO_SESSION) {
      if (read.code === 0) return read.stdout;
      throw this.fileError('read', path, read.stderr);
    }
    // SFTP would run as the SSH user, who under sudo cannot read root's files: the bytes come as
    // base64 text over a privileged channel instead.
    if (this.privilege === 'sudo') {
      const encoded = await this.exec(shellCommand(['base64', '--', path]), { maxOutputBytes: Math.ceil((MAX_READ_FILE_BYTES * 4) / 3) + MAX_READ_FILE_BYTES / 64 });
      if (encoded.code !== 0) throw this.fileError('read', path, encoded.stderr);
      return Buffer.from(encoded.stdout, 'base64');
    }
    const sftp = await this.sftp();
    return new Promise<Buffer>((resolve, reject) => {
      sftp.readFile(path, (error: Error | undefined, data: Buffer) => {
        if (error) reject(this.sftpError('read', path, error));
        else resolve(data);
      });
    });
  }

  async writeFile(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const temp = tempSiblingPath(path);
    // A NUL byte cannot travel in a session request; such data goes over SFTP.
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!bytes.includes(0)) {
      // The mode given to open() is filtered by the remote umask; chmod is not. rename(2) replaces atomically.
      const script = `umask 077 && cat > ${shellQuote(temp)} && chmod ${mode.toString(8)} ${shellQuote(temp)} && mv -f -- ${shellQuote(temp)} ${shellQuote(path)} || { rm -f -- ${shellQuote(temp)}; exit 1; }`;
      const written = await this.inSession((session) => session.exec(script, { stdin: bytes }));
      if (written !== NO_SESSION) {
        if (written.code !== 0) throw this.fileError('write', path, written.stderr);
        return;
      }
    }
    if (this.privilege === 'sudo') {
      // As for readFile: not SFTP, which is the SSH user's; base64 carries NUL bytes too.
      const script = `umask 077 && base64 -d > ${shellQuote(temp)} && chmod ${mode.toString(8)} ${shellQuote(temp)} && mv -f -- ${shellQuote(temp)} ${shellQuote(path)} || { rm -f -- ${shellQuote(temp)}; exit 1; }`;
      const written = await this.exec(script, { stdin: bytes.toString('base64') });
      if (written.code !== 0) throw this.fileError('write', path, written.stderr);
      return;
    }
    const sftp = await this.sftp();
    const step = (what: string, target: string, action: (done: (error?: Error | null) => void) => void) =>
      new Promise<void>((resolve, reject) => action((error) => (error ? reject(this.sftpError(what, target, error)) : resolve())));
    try {
      await step('write', temp, (done) => sftp.writeFile(temp, data, { mode }, (error) => done(error)));
      // The mode given to open() is filtered by the remote umask; chmod is not.
      await step('chmod', temp, (done) => sftp.chmod(temp, mode, (error) => done(error)));
      // Plain SFTP rename refuses to replace an existing file; the OpenSSH extension is rename(2).
      await step('rename', path, (done) => sftp.ext_openssh_rename(temp, path, (error) => done(error)));
    } catch (error) {
      await new Promise<void>((resolve) => sftp.unlink(temp, () => resolve()));
      throw error;
    }
  }

  async close(): Promise<void> {
    this.userClosed = true;
    clearTimeout(this.retryTimer);
    const session = this.session;
    this.session = undefined;
    void session?.started.then((started) => started?.close(), () => undefined);
    const client = this.client;
    this.client = undefined;
    this.sftpSession = undefined;
    if (client !== undefined) {
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve());
        client.end();
        // A peer that never answers the disconnect must not keep close() pending.
        setTimeout(() => {
          client.destroy();
          resolve();
        }, 2_000).unref();
      });
    }
    await this.jump?.close();
    this.setState({ kind: 'closed' });
  }

  private setState(state: TransportState): void {
    this.current = state;
    this.emit('state', state);
  }

  private async firstConnect(): Promise<void> {
    this.failure = undefined;
    this.setState({ kind: 'connecting' });
    try {
      this.adopt(await this.openClient());
    } catch (error) {
      const failure = toFerryError(error);
      this.fail(failure);
      throw failure;
    }
  }

  private fail(failure: FerryError): void {
    this.failure = failure;
    this.setState({ kind: 'failed', reason: failure.message });
  }

  private adopt(client: Client): void {
    if (this.userClosed) {
      client.end();
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.sessionUnavailable = undefined;
    client.setMaxListeners(0);
    // Errors on a live connection always precede 'close', which is where they are handled.
    client.on('error', () => undefined);
    client.once('close', () => this.onClientClose(client));
    this.setState({ kind: 'connected' });
    // The session starts with the connection, not with the first command: its login shell
    // (slow on many hosts) is then paid while the user looks at the host, not when they act.
    if (this.options.hostSession !== false) void this.hostSession().catch(() => undefined);
  }

  private onClientClose(client: Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.sftpSession = undefined;
    if (this.session?.client === client) this.session = undefined;
    if (this.userClosed) return;
    this.scheduleReconnect('the SSH connection was closed unexpectedly');
  }

  private scheduleReconnect(reason: string): void {
    const retryInMs = backoffDelay(this.attempt++, this.options.backoff);
    this.setState({ kind: 'lost', reason, retryInMs });
    this.retryTimer = setTimeout(() => void this.reconnect(), retryInMs);
  }

  private async reconnect(): Promise<void> {
    if (this.userClosed) return;
    this.setState({ kind: 'connecting' });
    try {
      this.adopt(await this.openClient());
    } catch (error) {
      if (this.userClosed) return;
      const failure = toFerryError(error);
      if (isPermanent(failure)) this.fail(failure);
      else this.scheduleReconnect(failure.message);
    }
  }

  /** The live client, waiting out a reconnection if one is under way. */
  private async ready(): Promise<Client> {
    if (this.started === undefined) await this.connect();
    const deadline = Date.now() + this.options.reconnectWaitMs;
    for (;;) {
      if (this.userClosed) throw closedError(this.label);
      if (this.client !== undefined && this.current.kind === 'connected') return this.client;
      if (this.current.kind === 'failed') throw this.failure ?? new FerryError('connection-failed', `${this.label}: ${this.current.reason}`);
      await this.nextState(deadline - Date.now());
    }
  }

  private nextState(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
      };
      const onState = (state: TransportState): void => {
        if (state.kind === 'lost') return;
        settle();
        resolve();
      };
      const timer = setTimeout(() => {
        settle();
        reject(new FerryError('connection-lost', `${this.label}: still reconnecting after ${Math.round(this.options.reconnectWaitMs / 1000)} s`, {
          hint: 'The host is unreachable; Ferry keeps retrying in the background.',
        }));
      }, Math.max(0, timeoutMs));
      this.on('state', onState);
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    if (this.sftpSession !== undefined) return this.sftpSession;
    const session = this.ready().then(
      (client) =>
        guarded<SFTPWrapper>(this.label, (resolve, reject) => {
          client.sftp((error, sftp) => {
            if (error) {
              reject(new FerryError('connection-failed', `${this.label}: cannot start SFTP: ${error.message}`, { hint: 'Check that sshd has an sftp Subsystem configured.', cause: error }));
              return;
            }
            sftp.once('close', () => {
              if (this.sftpSession === session) this.sftpSession = undefined;
            });
            resolve(sftp);
          });
        }),
    );
    this.sftpSession = session;
    session.catch(() => {
      if (this.sftpSession === session) this.sftpSession = undefined;
    });
    return session;
  }

  /** The same errors as over SFTP, from what cat, chmod or mv said. */
  private fileError(what: 'read' | 'write', path: string, stderr: string): FerryError {
    if (/no such file or directory|directory nonexistent/i.test(stderr)) return new FerryError('not-found', `${this.label}: ${path} does not exist`, { details: { path } });
    const said = stderr.trim().split('\n')[0] ?? '';
    return new FerryError('remote-command-failed', `${this.label}: cannot ${what} ${path}${said === '' ? '' : `: ${said}`}`, { details: { path, operation: what } });
  }

  private sftpError(what: string, path: string, error: Error): FerryError {
    const code = (error as Error & { code?: number }).code;
    // SFTP status 2 is SSH_FX_NO_SUCH_FILE.
    if (code === 2) return new FerryError('not-found', `${this.label}: ${path} does not exist`, { details: { path }, cause: error });
    if (this.client === undefined) return new FerryError('connection-lost', `${this.label}: connection lost during ${what} of ${path}`, { cause: error });
    return new FerryError('remote-command-failed', `${this.label}: cannot ${what} ${path}: ${error.message}`, { details: { path, operation: what }, cause: error });
  }

  private async openClient(): Promise<Client> {
    const o = this.options;
    const { identities, skipped } = await chooseIdentity(o.auth);
    const methods = authMethods(o.username, o.auth, identities);
    if (methods.length === 0) {
      if (skipped !== undefined) throw skipped;
      throw new FerryError('auth-failed', `${this.label}: no way to authenticate as ${o.username}@${o.host}`, { hint: 'Configure an identity file, ssh-agent (SSH_AUTH_SOCK) or a password.' });
    }
    let sock: Duplex | undefined;
    if (o.proxyJump !== undefined) {
      this.jump ??= new SshTransport(o.proxyJump);
      sock = await this.jump.openTcp(o.host, o.port);
    }
    const tried = methods.map((m): string => m.type);
    if (skipped !== undefined) tried.push(`not: ${skipped.message}`);
    const target = { label: this.label, host: o.host, port: o.port, username: o.username, methods: tried };
    const knownKeyTypes = await knownKeyTypesOf(o.host, o.port, o.knownHostsFiles);
    const serverHostKey = hostKeyAlgorithmsFor(knownKeyTypes);
    let offeredNoKnownKeyType = false;

    const handshake = new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      let verdict: FerryError | undefined;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const armTimer = (): void => {
        timer = setTimeout(() => finish(new FerryError('timeout', `${this.label}: ${o.host}:${o.port} did not answer within ${o.readyTimeoutMs} ms`, { hint: 'Check that the host is up and that SSH is not blocked by a firewall.' })), o.readyTimeoutMs);
      };
      const finish = (error: FerryError | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.off('error', onError);
        client.off('close', onClose);
        if (error === undefined) {
          // Each exec is a few small request/reply packets: with Nagle's algorithm meeting delayed
          // ACKs, one in three waited ~40 ms for nothing (as OpenSSH does, turn Nagle off).
          client.setNoDelay(true);
          resolve(client);
          return;
        }
        client.on('error', () => undefined);
        client.destroy();
        sock?.destroy();
        reject(error);
      };
      const onError = (error: Ssh2Error): void => {
        offeredNoKnownKeyType = verdict === undefined && serverHostKey !== undefined && isNoMatchingHostKeyFormat(error);
        finish(verdict ?? mapConnectError(error, target));
      };
      const onClose = (): void => finish(verdict ?? new FerryError('connection-failed', `${this.label}: ${o.host}:${o.port} closed the connection during the handshake`, { hint: 'Check the sshd logs on the host.' }));
      client.on('error', onError);
      client.on('close', onClose);
      client.once('ready', () => finish(undefined));

      const config: ConnectConfig = {
        host: o.host,
        port: o.port,
        username: o.username,
        ...(sock === undefined ? {} : { sock }),
        // ssh2's own timer cannot be paused while the user reads a fingerprint, so ours is used.
        readyTimeout: 0,
        keepaliveInterval: o.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        ...(serverHostKey === undefined ? {} : { algorithms: { serverHostKey } }),
        authHandler: authHandler(methods),
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void): void => {
          clearTimeout(timer);
          verifyHostKey(key, { label: this.label, host: o.host, port: o.port, knownHostsFiles: o.knownHostsFiles, onUnknownHostKey: o.onUnknownHostKey }).then(
            () => {
              if (!settled) armTimer();
              verify(true);
            },
            (error: unknown) => {
              verdict = toFerryError(error);
              verify(false);
            },
          );
        },
      };
      armTimer();
      try {
        client.connect(config);
      } catch (error) {
        finish(toFerryError(error));
      }
    });
    const client = await handshake.catch(async (error: unknown) => {
      if (!offeredNoKnownKeyType) throw error;
      throw await this.newKeyTypeError(knownKeyTypes);
    });
    if (o.sudo === true) await this.requireSudo(client);
    return client;
  }

  /**
   * A sudo connection that cannot get root is refused as a whole, with what to change, rather
   * than failing later at every command with "a password is required".
   */
  private async requireSudo(client: Client): Promise<void> {
    try {
      const probe = await execOnClient(client, SUDO_PROBE, { timeoutMs: 30_000 }, this.label).result;
      if (probe.code !== 0 || probe.stdout.trim() !== '0') throw sudoRefused(this.label, this.options.username, probe);
    } catch (error) {
      client.on('error', () => undefined);
      client.end();
      throw toFerryError(error);
    }
  }

  /**
   * The server offered none of the key types it is known by. A second handshake, refused at the
   * host-key step, learns what it does present, so the refusal can name the type and fingerprint.
   */
  private async newKeyTypeError(knownKeyTypes: readonly string[]): Promise<FerryError> {
    const o = this.options;
    const sock = this.jump === undefined ? undefined : await this.jump.openTcp(o.host, o.port).catch(() => undefined);
    const key = await presentedHostKey({ host: o.host, port: o.port, ...(sock === undefined ? {} : { sock }) }, o.readyTimeoutMs);
    if (key !== undefined) {
      // Without a prompt, the policy can only refuse; it words the refusal from known_hosts as it is now.
      const refusal = await verifyHostKey(key, { label: this.label, host: o.host, port: o.port, knownHostsFiles: o.knownHostsFiles, onUnknownHostKey: undefined }).then(() => undefined, toFerryError);
      if (refusal !== undefined) return refusal;
    }
    const files = o.knownHostsFiles.map((file) => file.path);
    return newKeyTypeRefusal(this.label, knownHostsName(o.host, o.port), { keyType: undefined, fingerprint: undefined, knownKeyTypes, files });
  }
}

/**
 * FERRY_TRACE_COMMANDS=FILE appends one JSON line per host command (host, start and duration in
 * ms, the command's start): how the round trips of a migration were found and counted.
 */
const commandTrace = process.env['FERRY_TRACE_COMMANDS'] || undefined;

function traceCommand(label: string, started: number, command: string): void {
  if (commandTrace === undefined) return;
  const line = { host: label, at: Math.round(started), ms: Math.round((performance.now() - started) * 10) / 10, command: command.slice(0, 160) };
  appendFileSync(commandTrace, `${JSON.stringify(line)}\n`);
}

function closedError(label: string): FerryError {
  return new FerryError('connection-lost', `${label}: the connection was closed`);
}

/**
 * A promise around an ssh2 call. ssh2 throws "Not connected" synchronously when the socket died
 * between our readiness check and the call; that is a lost connection, not a bug.
 */
function guarded<T>(label: string, executor: (resolve: (value: T) => void, reject: (error: FerryError) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      executor(resolve, reject);
    } catch (error) {
      reject(new FerryError('connection-lost', `${label}: the connection dropped: ${(error as Error).message}`, { cause: error }));
    }
  });
}

function isPermanent(error: FerryError): boolean {
  return error.code === 'auth-failed' || error.code === 'host-key-changed' || error.code === 'host-key-unknown';
}
