/**
 * A QMP client in the spirit of QEMU's python qemu.qmp: greeting, capabilities negotiation, id
 * correlation and an event stream, nothing else. It talks over any Duplex (an SSH streamlocal
 * channel to /run/ferry/NAME.qmp, or net.connect locally) and knows nothing about what the
 * commands mean.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.js';
import { QmpEventSubscription, eventMatcher, type QmpEventFilter } from './event-stream.js';
import { QmpFramer, type QmpFrame } from './framing.js';
import {
  classifyServerMessage,
  type QmpArguments,
  type QmpCommand,
  type QmpErrorResponse,
  type QmpEvent,
  type QmpGreeting,
  type QmpSuccess,
} from './messages.js';

export const DEFAULT_NEGOTIATION_TIMEOUT_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** Grace period for the peer to close its side after close() before the stream is destroyed. */
const CLOSE_GRACE_MS = 2_000;
/** Ids of timed-out commands remembered so their late replies are dropped quietly. */
const MAX_REMEMBERED_TIMEOUTS = 1024;

export interface QmpClientOptions {
  /** Time allowed for the greeting plus qmp_capabilities. */
  timeoutMs?: number;
  /** Default for execute() and waitForEvent() when they are not given one. Infinity disables it. */
  commandTimeoutMs?: number;
  maxLineBytes?: number;
}

export interface ExecuteOptions<T> {
  /** Infinity waits forever. */
  timeoutMs?: number;
  /**
   * Validates the `return` value. Without it the value is handed back typed as T on trust in
   * QEMU's schema; pass one wherever a wrong shape would do harm.
   */
  parse?: (value: unknown) => T;
}

export type QmpClientState = 'awaiting-greeting' | 'negotiating' | 'ready' | 'closed';

export type QmpClientEvents = {
  event: [event: QmpEvent];
  /** Something QEMU sent that could not be matched or parsed; the connection carries on. */
  'protocol-error': [error: FerryError];
  /** Emitted once; the reason is a FerryError('qmp-disconnected') whose cause is what happened. */
  close: [reason: FerryError];
};

interface PendingCommand {
  id: string;
  command: string;
  line: string;
  sent: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: (value: unknown) => void;
  reject: (error: FerryError) => void;
}

interface EventWaiter {
  matches: (event: QmpEvent) => boolean;
  reject: (error: FerryError) => void;
  settle: (event: QmpEvent) => void;
}

export class QmpClient extends EventEmitter<QmpClientEvents> {
  /** Connects over `stream` and resolves once qmp_capabilities has succeeded. */
  static async connect(stream: Duplex, options: QmpClientOptions = {}): Promise<QmpClient> {
    const client = new QmpClient(stream, options);
    await client.negotiated;
    return client;
  }

  /**
   * Resolves with the greeting once negotiation is done. Commands issued before that are queued
   * and sent afterwards; if negotiation fails they are rejected with qmp-disconnected.
   */
  readonly negotiated: Promise<QmpGreeting>;

  private readonly stream: Duplex;
  private readonly framer: QmpFramer;
  private readonly commandTimeoutMs: number;
  private readonly pending = new Map<string, PendingCommand>();
  private readonly timedOut = new Set<string>();
  private readonly subscriptions = new Set<QmpEventSubscription>();
  private readonly eventWaiters = new Set<EventWaiter>();
  private currentState: QmpClientState = 'awaiting-greeting';
  private greetingMessage: QmpGreeting | undefined;
  private reason: FerryError | undefined;
  private closedByUs = false;
  private nextId = 0;
  private negotiationTimer: NodeJS.Timeout | undefined;
  private settleNegotiation: { resolve: (greeting: QmpGreeting) => void; reject: (error: FerryError) => void } | undefined;
  private readonly streamClosed: Promise<void>;

  constructor(stream: Duplex, options: QmpClientOptions = {}) {
    super();
    this.stream = stream;
    this.framer = new QmpFramer(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes });
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;

    this.negotiated = new Promise<QmpGreeting>((resolve, reject) => {
      this.settleNegotiation = { resolve, reject };
    });
    // Callers that never await `negotiated` (they only use execute) must not see an unhandled rejection.
    this.negotiated.catch(() => undefined);

    const negotiationMs = options.timeoutMs ?? DEFAULT_NEGOTIATION_TIMEOUT_MS;
    if (Number.isFinite(negotiationMs)) {
      this.negotiationTimer = setTimeout(() => this.negotiationTimedOut(negotiationMs), negotiationMs);
    }

    this.streamClosed = new Promise((resolve) => {
      if (stream.destroyed) resolve();
      else stream.once('close', () => resolve());
    });

    stream.on('data', (chunk: Buffer | string) => this.onData(chunk));
    stream.on('end', () => {
      for (const frame of this.framer.end()) this.onFrame(frame);
      this.shutdown(disconnected('QEMU closed the QMP connection'), 'end');
    });
    stream.on('error', (error: Error) => {
      this.shutdown(disconnected(`QMP connection failed: ${error.message}`, error), 'destroy');
    });
    stream.on('close', () => this.shutdown(disconnected('QMP connection closed'), 'none'));
    if (stream.destroyed) this.shutdown(disconnected('QMP stream was already closed'), 'none');
  }

  get state(): QmpClientState {
    return this.currentState;
  }

  /** The greeting QEMU sent, once it has arrived. */
  get greeting(): QmpGreeting | undefined {
    return this.greetingMessage;
  }

  /** Why the client closed, once it has. */
  get closeReason(): FerryError | undefined {
    return this.reason;
  }

  /**
   * Runs one command. Rejects with qmp-error (details: class, desc, command) when QEMU answers
   * with an error, qmp-timeout when it does not answer in time, qmp-disconnected when the
   * connection goes away first.
   */
  execute<T = unknown>(command: string, args?: QmpArguments, options: ExecuteOptions<T> = {}): Promise<T> {
    if (this.reason !== undefined) {
      return Promise.reject(commandDisconnected(command, this.reason));
    }
    const id = `ferry-${++this.nextId}`;
    const message: QmpCommand = { execute: command, ...(args === undefined ? {} : { arguments: args }), id };
    let line: string;
    try {
      line = `${JSON.stringify(message)}\n`;
    } catch (cause) {
      return Promise.reject(
        new FerryError('invalid-input', `Arguments of ${command} cannot be sent as JSON`, { details: { command }, cause }),
      );
    }

    const raw = new Promise<unknown>((resolve, reject) => {
      const entry: PendingCommand = { id, command, line, sent: false, timer: undefined, resolve, reject };
      const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
      if (Number.isFinite(timeoutMs)) entry.timer = setTimeout(() => this.commandTimedOut(entry, timeoutMs), timeoutMs);
      this.pending.set(id, entry);
      if (this.currentState === 'ready') this.send(entry);
    });

    const { parse } = options;
    if (parse === undefined) {
      // Unvalidated by request: see ExecuteOptions.parse.
      return raw as Promise<T>;
    }
    return raw.then((value) => {
      try {
        return parse(value);
      } catch (cause) {
        if (cause instanceof FerryError) throw cause;
        throw new FerryError('qmp-protocol', `Unexpected reply to ${command}`, { details: { command }, cause });
      }
    });
  }

  /**
   * Every event from now on that passes `filter`, in order. Ends when close() is called; throws
   * qmp-disconnected (after the buffered events) if the connection is lost. Break out of the loop
   * (or call return()) to unsubscribe.
   */
  events(filter?: QmpEventFilter): AsyncIterableIterator<QmpEvent, undefined, undefined> {
    const subscription = new QmpEventSubscription(eventMatcher(filter), (s) => this.subscriptions.delete(s));
    if (this.reason !== undefined) subscription.end(this.closedByUs ? undefined : this.reason);
    else this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * The next event named `name` that satisfies `predicate`. Call it before issuing the command
   * that triggers the event: events that arrived earlier are not replayed.
   */
  waitForEvent(name: string, predicate?: (event: QmpEvent) => boolean, timeoutMs: number = this.commandTimeoutMs): Promise<QmpEvent> {
    if (this.reason !== undefined) return Promise.reject(commandDisconnected(`waiting for ${name}`, this.reason));
    return new Promise<QmpEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: EventWaiter = {
        matches: (event) => event.event === name && (predicate === undefined || predicate(event)),
        settle: (event) => {
          done();
          resolve(event);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.eventWaiters.delete(waiter);
      };
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          waiter.reject(
            new FerryError('qmp-timeout', `QEMU sent no ${name} event within ${timeoutMs} ms`, { details: { event: name, timeoutMs } }),
          );
        }, timeoutMs);
      }
      this.eventWaiters.add(waiter);
    });
  }

  /** Ends the stream cleanly; in-flight commands are rejected with qmp-disconnected. */
  async close(): Promise<void> {
    if (this.reason === undefined) {
      this.closedByUs = true;
      this.shutdown(disconnected('QMP connection closed by Ferry'), 'end');
    }
    if (this.stream.destroyed) return;
    let grace: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      grace = setTimeout(() => resolve('expired'), CLOSE_GRACE_MS);
    });
    const outcome = await Promise.race([this.streamClosed, expired]);
    clearTimeout(grace);
    // A peer that never closes its half (or a stream that never emits 'close') is cut off.
    if (outcome === 'expired') this.stream.destroy();
  }

  private onData(chunk: Buffer | string): void {
    if (this.currentState === 'closed') return;
    const frames = this.framer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    for (const frame of frames) this.onFrame(frame);
  }

  private onFrame(frame: QmpFrame): void {
    if (this.currentState === 'closed') return;
    if (frame.kind === 'error') {
      this.emit('protocol-error', frame.error);
      return;
    }
    const message = classifyServerMessage(frame.message);
    switch (message.kind) {
      case 'greeting':
        this.onGreeting(message.greeting);
        return;
      case 'success':
      case 'error':
        this.onResponse(message.response);
        return;
      case 'event':
        this.onEvent(message.event);
        return;
      case 'unknown':
        this.emit(
          'protocol-error',
          new FerryError('qmp-protocol', 'QEMU sent a message of unknown shape', { details: { keys: Object.keys(message.message) } }),
        );
        return;
    }
  }

  private onGreeting(greeting: QmpGreeting): void {
    if (this.currentState !== 'awaiting-greeting') {
      this.emit('protocol-error', new FerryError('qmp-protocol', 'QEMU sent a second greeting'));
      return;
    }
    this.greetingMessage = greeting;
    this.currentState = 'negotiating';
    // Sent ahead of anything queued, with no timer of its own: the negotiation timer covers it.
    const id = `ferry-${++this.nextId}`;
    const entry: PendingCommand = {
      id,
      command: 'qmp_capabilities',
      line: `${JSON.stringify({ execute: 'qmp_capabilities', id })}\n`,
      sent: false,
      timer: undefined,
      resolve: () => this.onNegotiated(greeting),
      reject: (error) => this.failNegotiation(error),
    };
    this.pending.set(id, entry);
    this.send(entry);
  }

  private onNegotiated(greeting: QmpGreeting): void {
    if (this.currentState !== 'negotiating') return;
    clearTimeout(this.negotiationTimer);
    this.currentState = 'ready';
    this.settleNegotiation?.resolve(greeting);
    this.settleNegotiation = undefined;
    // Map iteration follows insertion, so queued commands go out in the order they were issued.
    for (const entry of this.pending.values()) if (!entry.sent) this.send(entry);
  }

  private failNegotiation(error: FerryError): void {
    this.settleNegotiation?.reject(error);
    this.settleNegotiation = undefined;
    this.shutdown(disconnected(`QMP negotiation failed: ${error.message}`, error), 'end');
  }

  private negotiationTimedOut(timeoutMs: number): void {
    const waitingFor = this.currentState === 'awaiting-greeting' ? 'no greeting' : 'no answer to qmp_capabilities';
    this.failNegotiation(
      new FerryError('qmp-timeout', `QMP negotiation timed out: ${waitingFor} within ${timeoutMs} ms`, {
        details: { timeoutMs },
        hint: 'QEMU serves one QMP client per socket; another client may be connected.',
      }),
    );
  }

  private onResponse(response: QmpSuccess | QmpErrorResponse): void {
    const { id } = response;
    if (id === undefined) {
      // QEMU answers without an id when it could not parse the request at all.
      const error =
        'error' in response
          ? new FerryError('qmp-protocol', `QEMU rejected a message: ${response.error.desc}`, {
              details: { class: response.error.class, desc: response.error.desc },
            })
          : new FerryError('qmp-protocol', 'QEMU sent a reply without an id');
      this.emit('protocol-error', error);
      return;
    }
    const entry = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (entry === undefined) {
      if (typeof id === 'string' && this.timedOut.delete(id)) return;
      this.emit('protocol-error', new FerryError('qmp-protocol', 'QEMU answered a command that was never sent', { details: { id } }));
      return;
    }
    this.pending.delete(entry.id);
    clearTimeout(entry.timer);
    if ('error' in response) {
      const { class: errorClass, desc } = response.error;
      entry.reject(new FerryError('qmp-error', `${entry.command}: ${desc}`, { details: { class: errorClass, desc, command: entry.command } }));
    } else {
      entry.resolve(response.return);
    }
  }

  private onEvent(event: QmpEvent): void {
    this.emit('event', event);
    for (const subscription of [...this.subscriptions]) subscription.offer(event);
    for (const waiter of [...this.eventWaiters]) {
      let matched: boolean;
      try {
        matched = waiter.matches(event);
      } catch (cause) {
        waiter.reject(new FerryError('internal', `Event predicate failed: ${String(cause)}`, { cause }));
        continue;
      }
      if (matched) waiter.settle(event);
    }
  }

  private commandTimedOut(entry: PendingCommand, timeoutMs: number): void {
    if (!this.pending.delete(entry.id)) return;
    if (entry.sent) {
      this.timedOut.add(entry.id);
      if (this.timedOut.size > MAX_REMEMBERED_TIMEOUTS) {
        const oldest = this.timedOut.values().next();
        if (oldest.done !== true) this.timedOut.delete(oldest.value);
      }
    }
    entry.reject(
      new FerryError('qmp-timeout', `QEMU did not answer ${entry.command} within ${timeoutMs} ms`, {
        details: { command: entry.command, timeoutMs, sent: entry.sent },
      }),
    );
  }

  private send(entry: PendingCommand): void {
    entry.sent = true;
    // Write failures surface as the stream's 'error' event, which shuts the client down.
    this.stream.write(entry.line);
  }

  private shutdown(reason: FerryError, streamAction: 'end' | 'destroy' | 'none'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.currentState = 'closed';
    clearTimeout(this.negotiationTimer);
    if (this.settleNegotiation !== undefined) {
      this.settleNegotiation.reject(reason);
      this.settleNegotiation = undefined;
    }

    const entries = [...this.pending.values()];
    this.pending.clear();
    this.timedOut.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      entry.reject(commandDisconnected(entry.command, reason));
    }
    for (const waiter of [...this.eventWaiters]) waiter.reject(commandDisconnected('waiting for an event', reason));
    for (const subscription of [...this.subscriptions]) subscription.end(this.closedByUs ? undefined : reason);
    this.subscriptions.clear();

    if (streamAction === 'end' && !this.stream.writableEnded) this.stream.end();
    if (streamAction === 'destroy') this.stream.destroy();
    this.emit('close', reason);
  }
}

function disconnected(message: string, cause?: unknown): FerryError {
  return new FerryError('qmp-disconnected', message, cause === undefined ? {} : { cause });
}

function commandDisconnected(command: string, reason: FerryError): FerryError {
  return new FerryError('qmp-disconnected', `${command}: ${reason.message}`, { details: { command }, cause: reason });
}
