import { FerryError, isFerryError } from '../errors.js';
import type { QmpClient } from '../qmp/index.js';
import type { HostTransport, TransportState } from '../ssh/transport.js';
import { openMonitor } from '../vm/monitor.js';
import { sleep } from './run-context.js';

/** How long a monitor may stay unreachable (SSH reconnecting) before the migration gives up on it. */
const RECONNECT_BUDGET_MS = 90_000;

/**
 * A QMP connection that outlives SSH drops. Queries are re-issued on a fresh connection once the
 * transport is back (QEMU does not buffer events for a missing client, so state is re-polled);
 * state-changing commands are never retried, because they may have run before the drop.
 */
export class MonitorHandle {
  private client: QmpClient | undefined;

  constructor(
    private readonly transport: HostTransport,
    readonly socket: string,
    private readonly onLoss: (() => void) | undefined = undefined,
  ) {}

  async open(): Promise<QmpClient> {
    if (this.client) return this.client;
    const client = await openMonitor(this.transport, this.socket);
    // A channel of a dead SSH connection may never report its own end; the transport does.
    const onState = (state: TransportState) => {
      if (state.kind !== 'connected' && state.kind !== 'connecting') void client.close();
    };
    this.transport.on('state', onState);
    client.once('close', () => {
      this.transport.off('state', onState);
      if (this.client === client) this.client = undefined;
    });
    this.client = client;
    return client;
  }

  /** False once the connection has closed (QEMU exited, or SSH dropped) until it is opened again. */
  get isOpen(): boolean {
    return this.client !== undefined;
  }

  async command<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    const client = await this.open();
    try {
      return await client.execute<T>(command, args);
    } catch (error) {
      if (isFerryError(error, 'qmp-disconnected')) this.client = undefined;
      throw error;
    }
  }

  async query<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    const deadline = Date.now() + RECONNECT_BUDGET_MS;
    for (;;) {
      try {
        return await this.command<T>(command, args);
      } catch (error) {
        // 'busy': QEMU may not have noticed yet that the previous client's connection died.
        const lost = isFerryError(error, 'qmp-disconnected') || isFerryError(error, 'connection-lost') || isFerryError(error, 'connection-failed') || isFerryError(error, 'busy');
        if (!lost || Date.now() > deadline) throw error;
        this.client = undefined;
        this.onLoss?.();
        await sleep(1_000);
      }
    }
  }

  /**
   * A command that only sets a value, so repeating it is harmless: retried across an SSH drop
   * like a query (a live control may arrive while the runner is still reconnecting).
   */
  async repeatable<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    return this.query<T>(command, args);
  }

  /** Asks QEMU to exit; the monitor closing before it answers is the expected outcome. */
  async quit(): Promise<void> {
    try {
      await this.command('quit');
    } catch (error) {
      if (!isFerryError(error)) throw error;
    }
    this.client = undefined;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }
}

export function isProcessGone(error: unknown): boolean {
  return isFerryError(error, 'qmp-disconnected') || (isFerryError(error, 'connection-failed') && /socket/i.test(error.message));
}

export { FerryError };
