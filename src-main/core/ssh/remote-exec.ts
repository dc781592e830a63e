import type { Client, ClientChannel } from 'ssh2';
import { FerryError } from '../errors.js';
import { exitCodeForSignal } from './command-result.js';
import {
  CappedOutput,
  commandCancelled,
  commandOutputTooLarge,
  commandTimedOut,
  DEFAULT_MAX_STDERR_BYTES,
  DEFAULT_MAX_STDOUT_BYTES,
  resolveCap,
  resolveTimeoutMs,
} from './exec-limits.js';
import { withPrivilege, type Privilege } from './privilege.js';
import type { ExecOptions, ExecResult, ExecStreamOptions, StreamedCommand } from './transport.js';

/**
 * How long a killed command may keep its command slot. sshd frees a session only once its process
 * has exited, and one stuck in uninterruptible I/O (a hung NFS mount) ignores SIGKILL; waiting for
 * it would let a few such commands wedge every later one. After this the slot is handed on, and
 * if sshd is then out of sessions, its refusal to open one says so.
 */
const KILLED_SESSION_GRACE_MS = 5_000;

/** How long a command being killed may take to name its process group before its channel is just closed. */
const PROCESS_GROUP_WAIT_MS = 2_000;

/** A streamed command's stderr only feeds its error message. */
const STREAM_STDERR_BYTES = 64 * 1024;

/** A command started on a connection. */
export interface RemoteCommand<T> {
  result: Promise<T>;
  /** Resolves, never rejects, once the command no longer occupies a session on the host. */
  released: Promise<void>;
}

interface CommandControl<T> {
  resolve(value: T): void;
  reject(error: FerryError): void;
  /** Kills the command on the host and rejects with `error`. */
  fail(error: FerryError): void;
}

/** Runs one command with its collected output capped, on its own session channel. */
export function execOnClient(client: Client, command: string, options: ExecOptions, label: string, privilege: Privilege = 'login-user'): RemoteCommand<ExecResult> {
  const stdout = new CappedOutput(resolveCap(options.maxOutputBytes, DEFAULT_MAX_STDOUT_BYTES, 'maxOutputBytes'));
  const stderr = new CappedOutput(resolveCap(options.maxStderrBytes, DEFAULT_MAX_STDERR_BYTES, 'maxStderrBytes'));
  const limits = { timeoutMs: resolveTimeoutMs(options.timeoutMs), signal: options.signal };
  return onSessionChannel<ExecResult>(client, command, label, privilege, limits, (channel, control) => {
    let code: number | undefined;
    channel.on('data', (chunk: Buffer) => {
      if (options.onStdout) options.onStdout(chunk);
      else if (!stdout.push(chunk)) control.fail(commandOutputTooLarge(label, command, 'stdout', stdout.limitBytes));
    });
    channel.on('exit', (exitCode: number | null, signal?: string) => {
      code = exitCode ?? exitCodeForSignal(signal);
    });
    channel.on('close', () => {
      // A channel that closes without an exit status was cut off, not finished.
      if (code === undefined) control.reject(lostWhileRunning(label, command));
      else control.resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    });
    channel.end(options.stdin);
    return (chunk) => {
      if (!stderr.push(chunk)) control.fail(commandOutputTooLarge(label, command, 'stderr', stderr.limitBytes));
    };
  });
}

/** Starts one command whose stdin and stdout stay streams; `result` settles once it has started. */
export function execStreamOnClient(client: Client, command: string, options: ExecStreamOptions, label: string, privilege: Privilege = 'login-user'): RemoteCommand<StreamedCommand> {
  const limits = { timeoutMs: resolveTimeoutMs(options.timeoutMs), signal: options.signal };
  let started!: (streamed: StreamedCommand) => void;
  let notStarted!: (error: unknown) => void;
  const result = new Promise<StreamedCommand>((resolve, reject) => {
    started = resolve;
    notStarted = reject;
  });
  const run = onSessionChannel<{ code: number; stderr: string }>(client, command, label, privilege, limits, (channel, control) => {
    const stderr = new CappedOutput(STREAM_STDERR_BYTES);
    let code: number | undefined;
    channel.on('exit', (exitCode: number | null, signal?: string) => {
      code = exitCode ?? exitCodeForSignal(signal);
    });
    channel.on('close', () => {
      if (code === undefined) control.reject(lostWhileRunning(label, command));
      else control.resolve({ code, stderr: stderr.text() });
    });
    started({ stdin: channel, stdout: channel, exit: run.result, kill: () => control.fail(commandCancelled(label, command)) });
    return (chunk) => stderr.pushTruncating(chunk);
  });
  // Before the start this is the start's failure; after it, a no-op that also marks `exit` handled.
  run.result.catch(notStarted);
  return { result, released: run.released };
}

/**
 * The life of one session channel: opening it, the timeout, cancellation, a dropped connection,
 * and killing the command on the host. `attach` wires up the channel once it is open.
 */
function onSessionChannel<T>(
  client: Client,
  command: string,
  label: string,
  privilege: Privilege,
  limits: { timeoutMs: number | undefined; signal: AbortSignal | undefined },
  attach: (channel: ClientChannel, control: CommandControl<T>) => (stderrChunk: Buffer) => void,
): RemoteCommand<T> {
  let channel: ClientChannel | undefined;
  let processGroup: number | undefined;
  let killRequested = false;
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let settleResult!: { resolve: (value: T) => void; reject: (error: FerryError) => void };
  const result = new Promise<T>((resolve, reject) => {
    settleResult = { resolve, reject };
  });
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  // A dropped connection takes every session with it.
  client.once('close', release);
  void released.then(() => client.off('close', release));

  let killSent = false;
  const kill = (): void => {
    killRequested = true;
    // Not open yet: it is killed the moment it opens, so it never runs unwatched.
    if (channel === undefined || killSent) return;
    // Its process group comes first thing on stderr; a shell that never sends it gets a moment.
    if (processGroup === undefined) {
      setTimeout(closeChannel, PROCESS_GROUP_WAIT_MS).unref();
      return;
    }
    killProcessGroup(client, processGroup, privilege);
    closeChannel();
  };
  function closeChannel(): void {
    if (killSent || channel === undefined) return;
    killSent = true;
    try {
      // OpenSSH refuses the signal request for root logins ("requires privilege separation"),
      // hence the kill command above; where it is honoured it also needs no spare session.
      signalKill(channel);
      // Without a kill, closing the channel still ends a pipeline through SIGPIPE or EOF.
      channel.close();
    } catch {
      // The channel is already gone, which is what we wanted.
    }
    setTimeout(release, KILLED_SESSION_GRACE_MS).unref();
  }
  const settle = (outcome: () => void): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    client.off('close', onConnectionLost);
    limits.signal?.removeEventListener('abort', onAbort);
    outcome();
  };
  const control: CommandControl<T> = {
    resolve: (value) => settle(() => settleResult.resolve(value)),
    reject: (error) => settle(() => settleResult.reject(error)),
    fail: (error) => {
      if (settled) return;
      kill();
      control.reject(error);
    },
  };
  function onConnectionLost(): void {
    control.reject(lostWhileRunning(label, command));
  }
  function onAbort(): void {
    control.fail(commandCancelled(label, command));
  }

  if (limits.signal?.aborted) {
    release();
    control.reject(new FerryError('cancelled', `${label}: command cancelled before it started`, { details: { command } }));
    return { result, released };
  }
  limits.signal?.addEventListener('abort', onAbort, { once: true });
  client.once('close', onConnectionLost);
  const { timeoutMs } = limits;
  if (timeoutMs !== undefined) timer = setTimeout(() => control.fail(commandTimedOut(label, command, timeoutMs)), timeoutMs);
  try {
    client.exec(`${REPORT_PROCESS_GROUP}${withPrivilege(privilege, command)}`, (error, opened) => {
      if (error) {
        release();
        control.reject(cannotStart(label, command, error));
        return;
      }
      channel = opened;
      opened.once('close', release);
      const onStderr = attach(opened, control);
      let firstLine: Buffer | undefined = Buffer.alloc(0);
      opened.stderr.on('data', (chunk: Buffer) => {
        if (firstLine === undefined) {
          onStderr(chunk);
          return;
        }
        firstLine = Buffer.concat([firstLine, chunk]);
        const end = firstLine.indexOf(0x0a);
        if (end === -1) return;
        const group = Number(firstLine.subarray(0, end).toString('latin1'));
        processGroup = Number.isSafeInteger(group) && group > 1 ? group : undefined;
        const rest = firstLine.subarray(end + 1);
        firstLine = undefined;
        if (rest.length > 0) onStderr(rest);
        if (killRequested) kill();
      });
    });
  } catch (error) {
    // ssh2 throws "Not connected" synchronously if the socket died just before this call.
    release();
    control.reject(new FerryError('connection-lost', `${label}: the connection dropped: ${(error as Error).message}`, { details: { command }, cause: error }));
  }
  return { result, released };
}

/**
 * Prefixed to every command: the login shell sshd starts leads its own session and process group,
 * so its pid, sent first on stderr (and stripped there), is what to kill to end the whole command
 * with every process it started, from a second session.
 */
const REPORT_PROCESS_GROUP = 'printf \'%s\\n\' "$$" >&2; ';

/**
 * Kill commands for one connection run one at a time, each ending every group asked for so far:
 * they need a session beyond the command slots (sshd's spare one), and a burst of timeouts must
 * not ask for more sessions than that.
 */
interface PendingKills {
  groups: Set<number>;
  running: boolean;
  /** A command run under sudo is root's: only root can kill it. */
  privilege: Privilege;
}

const pendingKills = new WeakMap<Client, PendingKills>();

function killProcessGroup(client: Client, group: number, privilege: Privilege): void {
  let kills = pendingKills.get(client);
  if (kills === undefined) {
    kills = { groups: new Set(), running: false, privilege };
    pendingKills.set(client, kills);
  }
  kills.groups.add(group);
  if (!kills.running) runKills(client, kills);
}

function runKills(client: Client, kills: PendingKills): void {
  if (kills.groups.size === 0) {
    kills.running = false;
    return;
  }
  kills.running = true;
  const targets = [...kills.groups].map((group) => `-${group}`);
  kills.groups.clear();
  const next = (): void => runKills(client, kills);
  try {
    client.exec(`${withPrivilege(kills.privilege, `kill -s KILL -- ${targets.join(' ')}`)} 2>/dev/null; true`, (error, channel) => {
      if (error) {
        next();
        return;
      }
      channel.resume();
      channel.stderr.resume();
      channel.once('close', next);
      channel.end();
    });
  } catch {
    // The connection is gone, and with it every session it held.
    kills.running = false;
  }
}

/**
 * ssh2's channel.signal() silently does nothing once stdin has been ended (it checks that the
 * stream is writable), and exec ends stdin at once; the protocol layer sends the request all the
 * same, as the SSH protocol allows after EOF (EOF only ends our data, RFC 4254 §5.3).
 */
function signalKill(channel: ClientChannel): void {
  const internals = channel as unknown as {
    outgoing?: { id?: unknown; state?: unknown };
    _client?: { _protocol?: { signal?: unknown } };
  };
  const id = internals.outgoing?.id;
  const state = internals.outgoing?.state;
  const protocol = internals._client?._protocol;
  if (typeof id === 'number' && (state === 'open' || state === 'eof') && protocol !== undefined && typeof protocol.signal === 'function') {
    (protocol.signal as (channelId: number, signal: string) => void).call(protocol, id, 'KILL');
  } else {
    channel.signal('KILL');
  }
}

function lostWhileRunning(label: string, command: string): FerryError {
  return new FerryError('connection-lost', `${label}: the connection dropped while running a command`, { details: { command } });
}

function cannotStart(label: string, command: string, error: Error): FerryError {
  // sshd answers "open failed" when it has no session left (MaxSessions), which after timeouts
  // means killed commands are still stuck on the host.
  const refused = /open failed/i.test(error.message);
  return new FerryError('connection-failed', `${label}: cannot start a command: ${error.message}`, {
    ...(refused ? { hint: 'The host refused another session: earlier commands may be stuck there (e.g. on a hung NFS mount). Check its processes.' } : {}),
    details: { command },
    cause: error,
  });
}
