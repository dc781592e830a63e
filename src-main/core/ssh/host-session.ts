import type { Readable, Writable } from 'node:stream';
import { FerryError } from '../errors.js';
import {
  commandCancelled,
  commandName,
  commandTimedOut,
  DEFAULT_MAX_STDERR_BYTES,
  DEFAULT_MAX_STDOUT_BYTES,
  formatBytes,
  resolveCap,
  resolveTimeoutMs,
} from './exec-limits.js';
import { HOST_SESSION_PROGRAM, HOST_SESSION_PROTOCOL } from './host-session-program.js';
import { Limiter } from './limiter.js';
import { SessionFrameParser, SessionProtocolError, type SessionFrame } from './session-frames.js';
import { shellQuote } from './shell.js';
import type { ExecOptions, ExecResult } from './transport.js';

/** The byte streams of the `sh -s` that runs the session program on the host. */
export interface SessionPipes {
  input: Writable;
  output: Readable;
  errors: Readable;
  /** Ends the session from Ferry's side (closes the channel or kills the local process). */
  close(): void;
}

/**
 * Commands in flight at once. Far more than sshd's ten sessions allowed before; the bound keeps a
 * burst of work from forking without limit on the host.
 */
const SESSION_SLOTS = 64;

const GREETING = Buffer.from('ferry-session ');

/** A session that has not greeted by then is not coming (a login shell this slow is broken). */
export const SESSION_START_TIMEOUT_MS = 60_000;

/**
 * The session ended before this request was sent: nothing ran, so the caller may send it on a
 * new session. A request that was sent is never repeated; it fails with 'connection-lost'.
 */
export class SessionGoneBeforeSend extends Error {}

export interface RawResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

interface InFlight {
  id: number;
  slot: number;
  command: string;
  options: ExecOptions;
  stdoutCap: number;
  stderrCap: number;
  resolve(result: RawResult): void;
  reject(error: FerryError): void;
  /** Set once the promise has settled (timeout, cancel) while the host still runs the command. */
  settled: boolean;
  cleanup(): void;
  /** Gives the slot back; only once the host says the command ended, since its files live there. */
  freeSlot(): void;
}

/**
 * One long-lived shell per host that runs every command Ferry sends it, several at once, over a
 * single SSH channel: the user's login shell (and its ~/.bashrc) starts once per connection
 * instead of once per command. The host side is HOST_SESSION_PROGRAM.
 */
export class HostSession {
  private readonly parser = new SessionFrameParser();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly freeSlots: number[] = Array.from({ length: SESSION_SLOTS }, (_, slot) => SESSION_SLOTS - 1 - slot);
  private readonly slots = new Limiter(SESSION_SLOTS);
  private nextId = 1;
  private ended: FerryError | undefined;
  private errorText = '';
  private readonly endListeners = new Set<(reason: FerryError) => void>();

  private constructor(
    readonly label: string,
    private readonly pipes: SessionPipes,
    /** The host-side shell's pid. */
    readonly pid: number,
  ) {}

  /**
   * Sends the program and waits for its greeting. Rejects with FerryError('connection-failed')
   * if the host cannot run it (no sh, a missing tool) — callers then fall back to a channel per
   * command — or 'timeout'.
   */
  static start(label: string, pipes: SessionPipes, timeoutMs = SESSION_START_TIMEOUT_MS): Promise<HostSession> {
    return new Promise<HostSession>((resolve, reject) => {
      const parser = new SessionFrameParser();
      let stderr = '';
      let done = false;
      const finish = (error: FerryError | undefined, session?: HostSession): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        pipes.output.off('data', onData);
        pipes.output.off('close', onClose);
        pipes.errors.off('data', onStderr);
        pipes.input.off('error', onInputError);
        if (error !== undefined || session === undefined) {
          pipes.close();
          reject(error);
        } else {
          resolve(session);
        }
      };
      const onStderr = (chunk: Buffer): void => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      };
      const cannotStart = (why: string): FerryError =>
        new FerryError('connection-failed', `${label}: cannot start a host session: ${why}`, {
          hint: 'Ferry falls back to one SSH command per action, which is slower on hosts with a slow login shell.',
          details: { stderr: stderr.trim() },
        });
      // A login shell may print something before it runs the program (a banner from ~/.bashrc);
      // that is skipped up to the greeting line.
      let beforeGreeting: Buffer | undefined = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        let frames: SessionFrame[];
        try {
          if (beforeGreeting !== undefined) {
            beforeGreeting = Buffer.concat([beforeGreeting, chunk]);
            const at = beforeGreeting.indexOf(GREETING);
            if (at === -1) {
              if (beforeGreeting.length > 64 * 1024) throw new SessionProtocolError('no session greeting in the first 64 KiB of output');
              return;
            }
            chunk = beforeGreeting.subarray(at);
            beforeGreeting = undefined;
          }
          frames = parser.feed(chunk);
        } catch (error) {
          finish(cannotStart((error as Error).message));
          return;
        }
        const greeting = frames[0];
        if (greeting === undefined) return;
        if (greeting.kind !== 'greeting' || greeting.protocol !== HOST_SESSION_PROTOCOL) {
          finish(cannotStart('the host answered with something other than the session greeting'));
          return;
        }
        const session = new HostSession(label, pipes, greeting.pid);
        session.errorText = stderr;
        // Anything after the greeting (there should be nothing yet) still belongs to the session.
        finish(undefined, session);
        session.attach(frames.slice(1));
      };
      // What the shell said on stderr may still be on its way when its stdout closes.
      const onClose = (): void => {
        const fail = () => finish(cannotStart(stderr.trim() === '' ? 'the shell exited' : (stderr.trim().split('\n').slice(-1)[0] ?? '')));
        if (pipes.errors.readableEnded || pipes.errors.destroyed) fail();
        else {
          pipes.errors.once('end', fail);
          pipes.errors.once('close', fail);
          setTimeout(fail, 1_000).unref();
        }
      };
      // A shell that exited at once makes the write fail; its stderr, which comes with the
      // output's close, says why better than EPIPE does.
      const onInputError = (): void => undefined;
      const timer = setTimeout(() => {
        finish(new FerryError('timeout', `${label}: the host session did not start within ${Math.round(timeoutMs / 1000)} s`, {
          hint: "The user's login shell may be stuck (something in ~/.bashrc or ~/.profile waiting for input). Log in by hand and check.",
        }));
      }, timeoutMs);
      pipes.output.on('data', onData);
      pipes.output.on('close', onClose);
      pipes.output.on('end', onClose);
      pipes.errors.on('data', onStderr);
      pipes.input.on('error', onInputError);
      pipes.input.write(HOST_SESSION_PROGRAM);
    });
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  /** Commands running on the host now (for tests and diagnostics). */
  get running(): number {
    return this.inFlight.size;
  }

  /** Called once when the session ends, with the reason in-flight commands got. */
  onEnd(listener: (reason: FerryError) => void): () => void {
    if (this.ended !== undefined) {
      listener(this.ended);
      return () => undefined;
    }
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /**
   * Runs a command line with `sh` on the host. `onStdout` streams it line by line (for `tail -F`
   * and other text that keeps coming). Rejects with SessionGoneBeforeSend if the session ended
   * before the command was sent.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.execBytes(command, options);
    return { code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr };
  }

  /** Like exec, with stdout as the bytes the command wrote (file contents). */
  async execBytes(command: string, options: ExecOptions = {}): Promise<RawResult> {
    const timeoutMs = resolveTimeoutMs(options.timeoutMs);
    const stdoutCap = resolveCap(options.maxOutputBytes, DEFAULT_MAX_STDOUT_BYTES, 'maxOutputBytes');
    const stderrCap = resolveCap(options.maxStderrBytes, DEFAULT_MAX_STDERR_BYTES, 'maxStderrBytes');
    const script = Buffer.from(shellQuote(command), 'utf8');
    const input = quoteBytes(options.stdin);
    if (options.signal?.aborted) {
      throw new FerryError('cancelled', `${this.label}: command cancelled before it started`, { details: { command } });
    }
    const releaseSlot = await this.slots.acquire();
    if (this.ended !== undefined) {
      releaseSlot();
      throw new SessionGoneBeforeSend(this.ended.message);
    }
    if (options.signal?.aborted) {
      releaseSlot();
      throw new FerryError('cancelled', `${this.label}: command cancelled before it started`, { details: { command } });
    }
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      releaseSlot();
      throw new Error('host session: a slot was granted but none is free');
    }
    const id = this.nextId++;
    return new Promise<RawResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const entry: InFlight = {
        id,
        slot,
        command,
        options,
        stdoutCap,
        stderrCap,
        settled: false,
        resolve: (result) => {
          if (entry.settled) return;
          entry.settled = true;
          entry.cleanup();
          resolve(result);
        },
        reject: (error) => {
          if (entry.settled) return;
          entry.settled = true;
          entry.cleanup();
          reject(error);
        },
        cleanup: () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
        freeSlot: () => {
          this.freeSlots.push(slot);
          releaseSlot();
        },
      };
      const kill = (error: FerryError): void => {
        if (entry.settled) return;
        this.send(`f_kill ${slot} ${id}\n`);
        entry.reject(error);
      };
      const onAbort = (): void => kill(commandCancelled(this.label, command));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(() => kill(commandTimedOut(this.label, command, timeoutMs)), timeoutMs);
      this.inFlight.set(id, entry);
      const mode = options.onStdout === undefined ? 'c' : 'l';
      this.send(Buffer.concat([Buffer.from(`(f_run ${id} ${slot} ${stdoutCap} ${stderrCap} ${mode} `), script, Buffer.from(' '), input, Buffer.from(' >/dev/null &)\n')]));
    });
  }

  /** Ends the session: in-flight commands reject with 'connection-lost'. */
  close(): void {
    this.end(new FerryError('connection-lost', `${this.label}: the host session was closed`));
    this.pipes.close();
  }

  private attach(initial: SessionFrame[]): void {
    this.pipes.output.on('data', (chunk: Buffer) => {
      let frames: SessionFrame[];
      try {
        frames = this.parser.feed(chunk);
      } catch (error) {
        const reason = error instanceof SessionProtocolError ? error.message : String(error);
        this.end(new FerryError('connection-lost', `${this.label}: the host session broke: ${reason}`));
        this.pipes.close();
        return;
      }
      for (const frame of frames) this.handle(frame);
    });
    const onClose = (): void => {
      const why = this.errorText.trim().split('\n').slice(-1)[0];
      this.end(new FerryError('connection-lost', `${this.label}: the connection dropped while running a command${why ? ` (${why})` : ''}`));
    };
    this.pipes.output.on('close', onClose);
    this.pipes.output.on('end', onClose);
    this.pipes.errors.on('data', (chunk: Buffer) => {
      // The program itself writes nothing to stderr; keep the end of whatever the shell says.
      this.errorText = (this.errorText + chunk.toString('utf8')).slice(-4096);
    });
    this.pipes.input.on('error', () => onClose());
    for (const frame of initial) this.handle(frame);
  }

  private handle(frame: SessionFrame): void {
    if (frame.kind === 'greeting') return;
    const entry = this.inFlight.get(frame.id);
    if (entry === undefined) return;
    if (frame.kind === 'line') {
      if (!entry.settled) entry.options.onStdout?.(Buffer.from(`${frame.text}\n`, 'utf8'));
      return;
    }
    this.inFlight.delete(frame.id);
    entry.freeSlot();
    if (frame.stdoutTotal > entry.stdoutCap) {
      entry.reject(outputDropped(this.label, entry.command, 'stdout', entry.stdoutCap));
    } else if (frame.stderrTotal > entry.stderrCap) {
      entry.reject(outputDropped(this.label, entry.command, 'stderr', entry.stderrCap));
    } else {
      entry.resolve({ code: frame.code, stdout: frame.stdout, stderr: frame.stderr.toString('utf8') });
    }
  }

  private send(text: string | Buffer): void {
    if (this.ended !== undefined) return;
    this.pipes.input.write(text);
  }

  private end(reason: FerryError): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    for (const entry of this.inFlight.values()) {
      entry.reject(new FerryError(reason.code, reason.message, { details: { command: entry.command } }));
    }
    this.inFlight.clear();
    for (const listener of this.endListeners) listener(reason);
    this.endListeners.clear();
  }
}

const QUOTE = 0x27;
const QUOTED_QUOTE = Buffer.from(`'\\''`);

/** A word for sh that reaches the program byte for byte (single quotes; NUL cannot be passed). */
function quoteBytes(data: string | Buffer | undefined): Buffer {
  const bytes = data === undefined ? Buffer.alloc(0) : typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes.includes(0)) {
    throw new FerryError('invalid-input', 'Command input sent through a host session cannot contain a NUL byte', {
      hint: 'Binary data is streamed with execStream instead.',
    });
  }
  const parts: Buffer[] = [Buffer.from("'")];
  let start = 0;
  for (let at = bytes.indexOf(QUOTE); at !== -1; at = bytes.indexOf(QUOTE, start)) {
    parts.push(bytes.subarray(start, at), QUOTED_QUOTE);
    start = at + 1;
  }
  parts.push(bytes.subarray(start), Buffer.from("'"));
  return Buffer.concat(parts);
}

function outputDropped(label: string, command: string, stream: 'stdout' | 'stderr', limitBytes: number): FerryError {
  return new FerryError('output-too-large', `${label}: \`${commandName(command)}\` wrote more than ${formatBytes(limitBytes)} to ${stream}; its output was dropped`, {
    hint: 'Ferry caps what it collects from a command to protect its memory. If this much output is expected, the caller must raise the cap or stream it.',
    details: { command, stream, limitBytes },
  });
}
