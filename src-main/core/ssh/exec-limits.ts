import { FerryError } from '../errors.js';

/**
 * Two minutes. Ferry's routine commands (test, mkdir, qemu-img info, the host probe) finish in
 * seconds even on a busy host; one still running after 120 s is stuck, typically in I/O on a hung
 * NFS pool, and would otherwise hold one of the connection's few command slots for good. Work that
 * really takes long (disk copies, waiting for a guest to shut down) passes its own timeoutMs, or
 * `null` to have none.
 */
export const DEFAULT_EXEC_TIMEOUT_MS = 120_000;

/**
 * Far above any listing, JSON document or log tail Ferry reads; a command printing more is
 * misbehaving (or reading the wrong file) and would grow Ferry's memory without bound. Bulk data
 * goes through execStream instead, which never collects it.
 */
export const DEFAULT_MAX_STDOUT_BYTES = 16 * 1024 * 1024;

/** stderr only ever feeds error messages. */
export const DEFAULT_MAX_STDERR_BYTES = 1024 * 1024;

// setTimeout fires at once for anything above a signed 32-bit number of ms (~24.8 days).
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** The timeout to arm in ms, or undefined for none (`null`, Infinity, or beyond what a timer can hold). */
export function resolveTimeoutMs(timeoutMs: number | null | undefined): number | undefined {
  if (timeoutMs === undefined) return DEFAULT_EXEC_TIMEOUT_MS;
  if (timeoutMs === null || timeoutMs > LONGEST_TIMER_MS) return undefined;
  if (!(timeoutMs >= 0)) {
    throw new FerryError('invalid-input', `A command timeout must be a number of milliseconds ≥ 0, not ${timeoutMs}`, { hint: 'Pass null for no timeout.' });
  }
  return timeoutMs;
}

export function resolveCap(bytes: number | undefined, fallback: number, what: string): number {
  if (bytes === undefined) return fallback;
  if (!Number.isInteger(bytes) || bytes < 0) {
    throw new FerryError('invalid-input', `${what} must be a whole number of bytes ≥ 0, not ${bytes}`);
  }
  return bytes;
}

/** Collects one output stream of a command up to a byte cap. */
export class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private overflowed = false;

  constructor(readonly limitBytes: number) {}

  /** False once the stream has passed its cap; nothing is kept from then on. */
  push(chunk: Buffer): boolean {
    if (this.overflowed || this.length + chunk.length > this.limitBytes) {
      this.overflowed = true;
      return false;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    return true;
  }

  /** Keeps what still fits and drops the rest, for output that matters only in part. */
  pushTruncating(chunk: Buffer): void {
    const room = this.limitBytes - this.length;
    if (room > 0) this.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The program a command line starts with, for messages: `exec qemu-img info …` names qemu-img. */
export function commandName(command: string): string {
  const words = command.trim().split(/\s+/);
  return (words[0] === 'exec' ? words[1] : words[0]) ?? '';
}

export function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function formatBytes(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib && bytes % mib === 0) return `${bytes / mib} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

export function commandTimedOut(label: string, command: string, timeoutMs: number): FerryError {
  return new FerryError('timeout', `${label}: \`${commandName(command)}\` did not finish within ${formatDuration(timeoutMs)}; it was killed`, {
    hint: 'The host may be overloaded or stuck on storage (a hung NFS mount, a failing disk). Check it, then retry.',
    details: { command, timeoutMs },
  });
}

export function commandOutputTooLarge(label: string, command: string, stream: 'stdout' | 'stderr', limitBytes: number): FerryError {
  return new FerryError('output-too-large', `${label}: \`${commandName(command)}\` wrote more than ${formatBytes(limitBytes)} to ${stream}; it was killed`, {
    hint: 'Ferry caps what it collects from a command to protect its memory. If this much output is expected, the caller must raise the cap or stream it.',
    details: { command, stream, limitBytes },
  });
}

export function commandCancelled(label: string, command: string): FerryError {
  return new FerryError('cancelled', `${label}: \`${commandName(command)}\` was cancelled`, { details: { command } });
}
