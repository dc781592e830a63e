import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { FerryError } from '../errors.js';

/**
 * Who runs a migration: the process that holds its lock file. Node has no flock(2), so a small
 * `flock` child takes the OS lock and keeps it while its stdin is open; when this process dies,
 * for any reason, the pipe closes, the child exits and the kernel releases the lock. A migration
 * whose lock nobody holds has no owner left, and only then may another process settle it.
 */
export interface MigrationOwner {
  pid: number;
  bootId: string;
  machine: string;
}

export function currentOwner(): MigrationOwner {
  return { pid: process.pid, bootId: bootId(), machine: hostname() };
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export class OwnerLock {
  private constructor(
    readonly file: string,
    private readonly holder: ChildProcessWithoutNullStreams,
  ) {}

  /** Takes the lock, or returns null at once when another process holds it. */
  static async tryAcquire(file: string): Promise<OwnerLock | null> {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await (await open(file, 'a', 0o600)).close();
    const holder = spawn('flock', ['--exclusive', '--nonblock', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C in the terminal must reach Ferry (which cancels cleanly), not drop the lock.
      detached: true,
    });
    const acquired = await new Promise<boolean>((resolve, reject) => {
      let stderr = '';
      holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      holder.stdout.once('data', () => resolve(true));
      holder.once('error', (error) => reject(new FerryError('internal', `Cannot lock ${file}: ${error.message}`, { hint: 'Ferry needs the flock command (util-linux) on this machine.' })));
      holder.once('exit', (code) => {
        if (code === 1) resolve(false);
        else reject(new FerryError('internal', `Cannot lock ${file}: flock exited with ${code}: ${stderr.trim()}`));
      });
    });
    if (!acquired) return null;
    // The holder must not keep this process alive, nor die with its terminal's signals first.
    holder.unref();
    for (const stream of [holder.stdin, holder.stdout, holder.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    return new OwnerLock(file, holder);
  }

  /** Whether some live process holds the lock (without keeping it). */
  static async isHeld(file: string): Promise<boolean> {
    const lock = await OwnerLock.tryAcquire(file);
    if (lock === null) return true;
    await lock.release();
    return false;
  }

  async release(): Promise<void> {
    if (this.holder.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.holder.once('exit', () => resolve()));
    this.holder.stdin.end();
    await exited;
  }
}
