import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { sshArgs } from '../lab/ssh.js';
import type { LabEngine } from '../support/lab-engine.js';
import { sleep } from './stats.js';

/**
 * Watches the guest's serial heartbeat (a line every 200 ms) from outside, on both hosts at once,
 * with one long-lived `tail -F` per host over the system ssh client (so it costs the bench
 * process, which hosts the engine, next to nothing). The gap is the longest time between two
 * heartbeat lines arriving from either host, from start() until the guest has beaten on the
 * destination after the move.
 */
export class GapProbe {
  private readonly children: ChildProcessWithoutNullStreams[] = [];
  private readonly startedAt = Date.now();
  private lastBeatAt = this.startedAt;
  private longest = 0;
  private lastDestinationBeatAt = 0;
  beats = 0;

  constructor(le: LabEngine, logs: { source: string; destination: string }) {
    this.follow(le, 'a', logs.source, false);
    this.follow(le, 'b', logs.destination, true);
  }

  private follow(le: LabEngine, host: string, path: string, destination: boolean): void {
    // The tail ends when our end of the pipe closes (cat sees EOF), or after 20 minutes at most.
    const script = `timeout 1200 tail -n 0 -F -s 0.05 ${path} 2>/dev/null & t=$!; cat >/dev/null; kill $t 2>/dev/null`;
    const child = spawn('ssh', [...sshArgs(le.lab, le.labHost(host)), script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('ferry-heartbeat')) continue;
        const now = Date.now();
        this.longest = Math.max(this.longest, now - this.lastBeatAt);
        this.lastBeatAt = now;
        this.beats += 1;
        if (destination) this.lastDestinationBeatAt = now;
      }
    });
    child.stderr.on('data', () => undefined);
    child.on('error', () => undefined);
    this.children.push(child);
  }

  /** Resolves once the destination has printed a heartbeat after `after` (ms epoch), or after the timeout. */
  async destinationBeatAfter(after: number, timeoutMs = 90_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.lastDestinationBeatAt > after) return true;
      await sleep(50);
    }
    return false;
  }

  /** Stops following; the gap still open at the end counts too. */
  stop(): number {
    this.longest = Math.max(this.longest, Date.now() - this.lastBeatAt);
    for (const child of this.children) {
      child.stdin.end();
      setTimeout(() => child.kill('SIGTERM'), 2000).unref();
    }
    return this.longest;
  }
}
