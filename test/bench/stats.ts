/** Median of the finite values, or null when there are none. */
export function median(values: ReadonlyArray<number | null | undefined>): number | null {
  const finite = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value)).sort((x, y) => x - y);
  if (finite.length === 0) return null;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? (finite[middle] ?? null) : ((finite[middle - 1] ?? 0) + (finite[middle] ?? 0)) / 2;
}

export const ratio = (value: number | null, base: number | null): number | null =>
  value === null || base === null || base === 0 ? null : value / base;

/**
 * CPU seconds and peak RSS of this process (which hosts the engine) over a window. RSS is sampled
 * every 100 ms because resourceUsage().maxRSS is a lifetime maximum that cannot be reset.
 */
export class ResourceMeter {
  private readonly cpuStart = process.cpuUsage();
  private peakRss = process.memoryUsage().rss;
  private readonly timer = setInterval(() => {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
  }, 100);

  stop(): { cpuSec: number; peakRssMB: number; lifetimeMaxRssMB: number } {
    clearInterval(this.timer);
    const cpu = process.cpuUsage(this.cpuStart);
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
    return {
      cpuSec: (cpu.user + cpu.system) / 1e6,
      peakRssMB: this.peakRss / 1e6,
      lifetimeMaxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
    };
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const mib = (bytes: number): number => bytes / (1024 * 1024);
