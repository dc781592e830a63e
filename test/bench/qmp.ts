import { QmpClient, type QmpEvent } from '../../src-main/core/qmp/index.js';
import type { HostTransport } from '../../src-main/core/ssh/transport.js';
import { sleep } from './stats.js';

/** The parts of query-migrate the baselines read (source side). */
export interface MigrateStatus {
  status?: string;
  'total-time'?: number;
  'setup-time'?: number;
  downtime?: number;
  'expected-downtime'?: number;
  'cpu-throttle-percentage'?: number;
  'error-desc'?: string;
  ram?: { transferred?: number; remaining?: number; total?: number; 'normal-bytes'?: number; 'dirty-sync-count'?: number; 'dirty-pages-rate'?: number };
  disk?: { transferred?: number; remaining?: number; total?: number };
  'socket-address'?: Array<{ port?: string }>;
}

/**
 * A small hand QMP driver for the baselines: one QmpClient over the host transport's UNIX socket
 * forwarding (what an administrator gets with `ssh -L` to the monitor socket), with every event
 * kept so a waiter started late still sees it.
 */
export class HandQmp {
  private readonly seen: QmpEvent[] = [];

  private constructor(readonly client: QmpClient) {
    client.on('event', (event) => this.seen.push(event));
  }

  static async open(transport: HostTransport, socket: string, timeoutMs = 20_000): Promise<HandQmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const stream = await transport.openUnixSocket(socket);
        return new HandQmp(await QmpClient.connect(stream, { timeoutMs: 5_000, commandTimeoutMs: 120_000 }));
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  }

  cmd<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    return this.client.execute<T>(command, args);
  }

  /** The first event (already seen or still to come) named `name` that passes `match`. */
  async event(name: string, match: (data: Record<string, unknown>) => boolean = () => true, timeoutMs = 300_000): Promise<QmpEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find((event) => event.event === name && match((event.data ?? {}) as Record<string, unknown>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${name} event within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  /** Polls query-migrate until it reports one of `states` (or failed/cancelled, which throw). */
  async migrateUntil(states: string[], intervalMs: number, timeoutMs: number, onPoll?: (info: MigrateStatus) => void): Promise<MigrateStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.cmd<MigrateStatus>('query-migrate');
      onPoll?.(info);
      const status = info.status ?? 'none';
      if (states.includes(status)) return info;
      if (status === 'failed' || status === 'cancelled') throw new Error(`migration ${status}: ${info['error-desc'] ?? ''}`);
      if (Date.now() > deadline) return info;
      await sleep(intervalMs);
    }
  }

  async waitRunning(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.cmd<{ status: string }>('query-status');
      if (status.status === 'running') return;
      if (Date.now() > deadline) throw new Error(`VM is ${status.status}, not running, after ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  async quit(): Promise<void> {
    await this.cmd('quit').catch(() => undefined);
    await this.close();
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}
