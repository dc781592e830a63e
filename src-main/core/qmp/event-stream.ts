/**
 * The async-iterator side of QmpClient's events. A subscription starts buffering the moment it is
 * created (not at the first next()), so no event emitted between `client.events()` and the first
 * `await` is lost.
 */
import type { FerryError } from '../errors.js';
import type { QmpEvent } from './messages.js';

export type QmpEventFilter = string | readonly string[] | ((event: QmpEvent) => boolean);

export function eventMatcher(filter: QmpEventFilter | undefined): (event: QmpEvent) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return filter;
  if (typeof filter === 'string') return (event) => event.event === filter;
  const names = new Set(filter);
  return (event) => names.has(event.event);
}

type Waiter = { resolve: (result: IteratorResult<QmpEvent, undefined>) => void; reject: (error: unknown) => void };

export class QmpEventSubscription implements AsyncIterableIterator<QmpEvent, undefined, undefined> {
  private readonly buffered: QmpEvent[] = [];
  private readonly waiters: Waiter[] = [];
  private finished = false;
  /** Set when the connection was lost rather than closed on purpose; thrown after the buffer drains. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly matches: (event: QmpEvent) => boolean,
    private readonly unsubscribe: (subscription: QmpEventSubscription) => void,
  ) {}

  /** Called by the client for every event. */
  offer(event: QmpEvent): void {
    if (this.finished) return;
    let wanted: boolean;
    try {
      wanted = this.matches(event);
    } catch (error) {
      // A throwing filter ends this subscription only, not the client's event dispatch.
      this.finish({ error });
      this.settleWaiters();
      return;
    }
    if (!wanted) return;
    const waiter = this.waiters.shift();
    if (waiter === undefined) this.buffered.push(event);
    else waiter.resolve({ value: event, done: false });
  }

  /** Called by the client when the connection goes away; `failure` is unset for a deliberate close. */
  end(failure: FerryError | undefined): void {
    if (this.finished) return;
    this.finish(failure === undefined ? undefined : { error: failure });
    this.settleWaiters();
  }

  next(): Promise<IteratorResult<QmpEvent, undefined>> {
    const event = this.buffered.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.failure !== undefined) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<QmpEvent, undefined>> {
    this.finish(undefined);
    this.buffered.length = 0;
    this.failure = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(failure: { error: unknown } | undefined): void {
    this.finished = true;
    this.failure = failure;
    this.unsubscribe(this);
  }

  /** Waiters only exist while the buffer is empty, so the failure (if any) goes to the first one. */
  private settleWaiters(): void {
    for (const waiter of this.waiters.splice(0)) {
      if (this.failure === undefined) {
        waiter.resolve({ value: undefined, done: true });
      } else {
        waiter.reject(this.failure.error);
        this.failure = undefined;
      }
    }
  }
}
