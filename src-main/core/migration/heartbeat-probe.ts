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
  private readonly abort = new AbortController();

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

  /**
   * One `tail -F` per log, streamed: polling with a command per look would cost the hosts a
   * process (and sshd a session) several times a second, right when the migration needs the CPU.
   */
  private async pollSerial(logs: Array<{ transport: HostTransport; path: string }>): Promise<void> {
    await Promise.all(logs.map((log) => this.follow(log)));
  }

  private async follow(log: { transport: HostTransport; path: string }): Promise<void> {
    const key = `${log.transport.label}:${log.path}`;
    let partial = '';
    const onStdout = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const beat = /ferry-heartbeat (\d+)/.exec(line)?.[1];
        if (beat === undefined) continue;
        const previous = this.lastBeat.get(key);
        this.lastBeat.set(key, Number(beat));
        if (previous !== undefined && previous !== Number(beat)) this.mark();
        else if (previous === undefined && this.lastBeat.size > 1) this.mark();
      }
    };
    // tail -F follows the log through its creation on the destination; -n1 gives the newest beat at once.
    while (!this.stopped) {
      // Runs until the probe stops (its abort signal), not until the default command timeout.
      await log.transport.exec(`exec tail -n1 -F -- ${shellQuote(log.path)} 2>/dev/null`, { onStdout, signal: this.abort.signal, timeoutMs: null }).catch(() => undefined);
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 500));
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
    this.abort.abort();
    this.socket?.destroy();
    this.longestGapMs = Math.max(this.longestGapMs, Date.now() - this.lastSeenAt);
    return this.longestGapMs;
  }
}
