import type { MigrationPhase, MigrationSample } from '../core/api/types.js';
import { formatBytes } from './output.js';

const BAR_WIDTH = 24;

function bar(done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
}

function duration(ms: number | null): string {
  if (ms === null) return '--';
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

/** A terminal progress display: redrawn in place on a TTY, one line per phase change elsewhere. */
export class ProgressView {
  private lastPhase: MigrationPhase | undefined;
  private drawnLines = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  phase(phase: MigrationPhase): void {
    if (phase === this.lastPhase) return;
    this.lastPhase = phase;
    this.clear();
    this.stream.write(`• ${phase.replace(/-/g, ' ')}\n`);
  }

  sample(sample: MigrationSample): void {
    this.phase(sample.phase);
    if (!this.stream.isTTY) return;
    const disk = sample.disks.reduce((sum, entry) => ({ done: sum.done + entry.transferredBytes, total: sum.total + entry.totalBytes }), { done: 0, total: 0 });
    const ramTotal = sample.ram.totalBytes;
    const ramDone = ramTotal - sample.ram.remainingBytes;
    const lines = [
      `  RAM  ${bar(ramDone, ramTotal)}  ${formatBytes(sample.ram.transferredBytes)} sent, ${formatBytes(sample.ram.remainingBytes)} left${sample.pass > 1 ? `, pass ${sample.pass}` : ''}`,
      ...(disk.total > 0 ? [`  Disk ${bar(disk.done, disk.total)}  ${formatBytes(disk.done)} of ${formatBytes(disk.total)}`] : []),
      `  ${formatBytes(sample.throughputBps)}/s, dirty ${formatBytes(sample.dirtyRateBps)}/s, time left ${duration(sample.timeLeftMs)}${sample.expectedDowntimeMs !== null ? `, expected downtime ${sample.expectedDowntimeMs} ms` : ''}${sample.throttlePercent > 0 ? `, throttle ${sample.throttlePercent}%` : ''}`,
      ...(sample.notConverging ? [`  ! ${sample.notConverging}`] : []),
    ];
    this.clear();
    this.stream.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  clear(): void {
    if (this.stream.isTTY && this.drawnLines > 0) this.stream.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }
}
