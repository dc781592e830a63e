import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationRecord, MigrationSample } from '../api/types.js';
import { FerryError } from '../errors.js';
import { readJsonFiles, writeJsonAtomic } from '../local-json.js';
import { parseMigrationRecord } from './stored-records.js';

/** Samples kept per migration in the history: enough for a chart, small enough to list quickly. */
export const HISTORY_SAMPLE_LIMIT = 600;

/** Keeps every n-th sample so a long migration still fits, always keeping the last one. */
export function downsample(samples: readonly MigrationSample[], limit = HISTORY_SAMPLE_LIMIT): MigrationSample[] {
  if (samples.length <= limit) return [...samples];
  const step = samples.length / limit;
  const kept: MigrationSample[] = [];
  for (let index = 0; index < limit - 1; index += 1) {
    const sample = samples[Math.floor(index * step)];
    if (sample) kept.push(sample);
  }
  const last = samples[samples.length - 1];
  if (last) kept.push(last);
  return kept;
}

export class History {
  constructor(private readonly directory: string) {}

  async save(record: MigrationRecord): Promise<void> {
    await writeJsonAtomic(join(this.directory, `${record.id}.json`), { ...record, samples: downsample(record.samples) });
  }

  async get(id: string): Promise<MigrationRecord> {
    const file = join(this.directory, `${id}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new FerryError('not-found', `No migration with id ${id} in the history`, { hint: '`ferry migration list` shows the recorded ones.' });
    }
    let record: MigrationRecord | null = null;
    try {
      record = parseMigrationRecord(JSON.parse(text));
    } catch {
      record = null;
    }
    if (!record) throw new FerryError('internal', `The history file ${file} is damaged`, { hint: 'Remove that file; the other migrations in the history are not affected.' });
    return record;
  }

  /** Every readable record, newest first; damaged files are left out rather than failing the list. */
  async list(): Promise<MigrationRecord[]> {
    const records = (await readJsonFiles(this.directory)).map(parseMigrationRecord).filter((record): record is MigrationRecord => record !== null);
    return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }
}

const CSV_COLUMNS = ['t_ms', 'phase', 'pass', 'ram_transferred', 'ram_remaining', 'ram_total', 'disk_transferred', 'disk_remaining', 'disk_total', 'throughput_bps', 'dirty_rate_bps', 'expected_downtime_ms', 'time_left_ms', 'throttle_percent', 'not_converging'];

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per sample; disks are summed so the columns stay fixed whatever the disk count. */
export function recordToCsv(record: MigrationRecord): string {
  const rows = record.samples.map((sample) => {
    const disk = sample.disks.reduce((sum, entry) => ({ t: sum.t + entry.transferredBytes, r: sum.r + entry.remainingBytes, n: sum.n + entry.totalBytes }), { t: 0, r: 0, n: 0 });
    return [sample.t, sample.phase, sample.pass, sample.ram.transferredBytes, sample.ram.remainingBytes, sample.ram.totalBytes, disk.t, disk.r, disk.n, Math.round(sample.throughputBps), Math.round(sample.dirtyRateBps), sample.expectedDowntimeMs, sample.timeLeftMs, sample.throttlePercent, sample.notConverging]
      .map(csvCell)
      .join(',');
  });
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
