import { connect, type Socket } from 'node:net';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

/**
 * Watches the guest from outside while it moves and keeps the longest time without a sign of
 * life. "serial" reads the numbered heartbeat lines the guest prints on its serial console (the
 * log on whichever host runs it); tcp:HOST:PORT counts any bytes a guest service sends.
 */
export class HeartbeatProbe {
  private lastSeenAt = Date.now();
  /** Newest heartbeat seen per log: a rebooted guest (offline mode) counts from 1 again. */
  private readonly lastBeat = new Map<string, number>();
  private longestGapMs = 0;
  private stopped = false;
  private socket: Socket | undefined;

  static serial(logs: Array<{ transport: HostTransport; path: string }>): HeartbeatProbe {
    const probe = new HeartbeatProbe();
    void probe.pollSerial(logs);
    return probe;
  }

  static tcp(host: string, port: number): HeartbeatProbe {
    const probe = new HeartbeatProbe();
    probe.connectTcp(host, port);
    return probe;
  }

  private mark(): void {
    const now = Date.now();
    this.longestGapMs = Math.max(this.longestGapMs, now - this.lastSeenAt);
    this.lastSeenAt = now;
  }

  private async pollSerial(logs: Array<{ transport: HostTransport; path: string }>): Promise<void> {
    while (!this.stopped) {
      for (const log of logs) {
        const tail = await log.transport.exec(`tail -c 512 -- ${shellQuote(log.path)} 2>/dev/null`).catch(() => undefined);
        const beats = [...(tail?.stdout ?? '').matchAll(/ferry-heartbeat (\d+)/g)].map((match) => Number(match[1]));
        const newest = beats[beats.length - 1] ?? -1;
        const key = `${log.transport.label}:${log.path}`;
        const previous = this.lastBeat.get(key);
        if (newest !== -1 && newest !== previous) {
          this.lastBeat.set(key, newest);
          if (previous !== undefined) this.mark();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private connectTcp(host: string, port: number): void {
    if (this.stopped) return;
    const socket = connect({ host, port });
    this.socket = socket;
    socket.on('data', () => this.mark());
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!this.stopped) setTimeout(() => this.connectTcp(host, port), 100);
    });
  }

  /** Ends the probe; the gap still open at the end counts too. */
  stop(): number {
    this.stopped = true;
    this.socket?.destroy();
    this.longestGapMs = Math.max(this.longestGapMs, Date.now() - this.lastSeenAt);
    return this.longestGapMs;
  }
}
