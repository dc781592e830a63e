import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MigrationRecord, MigrationSample } from '../../../src-main/core/api/types.js';
import { FerryError } from '../../../src-main/core/errors.js';
import { History, downsample, recordToCsv } from '../../../src-main/core/migration/history.js';
import { Journal, type JournalEntry } from '../../../src-main/core/migration/journal.js';
import { rejection } from '../../support/rejection.js';

const sample = (t: number, overrides: Partial<MigrationSample> = {}): MigrationSample => ({
  t,
  phase: 'memory',
  pass: 1,
  ram: { transferredBytes: t, remainingBytes: 1000 - t, totalBytes: 1000 },
  disks: [{ device: 'ferry-disk0', path: '/a', transferredBytes: 5, remainingBytes: 5, totalBytes: 10 }],
  throughputBps: 100,
  dirtyRateBps: 10,
  expectedDowntimeMs: 30,
  timeLeftMs: null,
  throttlePercent: 0,
  notConverging: null,
  ...overrides,
});

const record = (id: string, startedAt: string, samples: MigrationSample[]): MigrationRecord => ({ id, vm: 'v', from: 'a', to: 'b', mode: 'live', phase: 'completed', startedAt, committed: true, report: null, samples });

describe('downsample', () => {
  it('keeps short series whole and long ones at the limit, always with the last sample', () => {
    expect(downsample([sample(1), sample(2)], 10)).toHaveLength(2);
    const long = Array.from({ length: 1000 }, (_, index) => sample(index));
    const kept = downsample(long, 100);
    expect(kept).toHaveLength(100);
    expect(kept[0]?.t).toBe(0);
    expect(kept[kept.length - 1]?.t).toBe(999);
    expect(kept.every((entry, index) => index === 0 || entry.t > (kept[index - 1]?.t ?? -1))).toBe(true);
  });
});

describe('recordToCsv', () => {
  it('writes one row per sample with fixed columns and quotes text with commas', () => {
    const csv = recordToCsv(record('x', '2026-01-01T00:00:00Z', [sample(0), sample(500, { notConverging: 'slow, very "slow"' })]));
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('t_ms,phase,pass,ram_transferred,ram_remaining,ram_total,disk_transferred,disk_remaining,disk_total,throughput_bps,dirty_rate_bps,expected_downtime_ms,time_left_ms,throttle_percent,not_converging');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('500,memory,1,500,500,1000,5,5,10,100,10,30,,0,"slow, very ""slow"""');
  });
});

describe('History', () => {
  it('saves, lists newest first, and reports an unknown id clearly', async () => {
    const history = new History(join(mkdtempSync(join(tmpdir(), 'ferry-history-')), 'history'));
    await history.save(record('old', '2026-01-01T00:00:00Z', [sample(1)]));
    await history.save(record('new', '2026-02-01T00:00:00Z', Array.from({ length: 2000 }, (_, index) => sample(index))));
    expect((await history.list()).map((entry) => entry.id)).toEqual(['new', 'old']);
    expect((await history.get('new')).samples.length).toBeLessThanOrEqual(600);
    await expect(history.get('missing')).rejects.toBeInstanceOf(FerryError);
  });

  it('leaves damaged files out of the list and names them when asked for directly', async () => {
    const directory = join(mkdtempSync(join(tmpdir(), 'ferry-history-')), 'history');
    const history = new History(directory);
    await history.save(record('good', '2026-01-01T00:00:00Z', [sample(1)]));
    writeFileSync(join(directory, 'torn.json'), '{"id": "torn", "vm"');
    writeFileSync(join(directory, 'shape.json'), JSON.stringify({ ...record('shape', '2026-03-01T00:00:00Z', []), mode: 'teleport' }));
    writeFileSync(join(directory, 'samples.json'), JSON.stringify({ ...record('samples', '2026-03-01T00:00:00Z', []), samples: [{ t: 'soon' }] }));
    expect((await history.list()).map((entry) => entry.id)).toEqual(['good']);
    const error = await rejection(history.get('shape'));
    expect(error.code).toBe('internal');
    expect(error.message).toContain(join(directory, 'shape.json'));
    expect((await rejection(history.get('torn'))).code).toBe('internal');
  });
});

describe('Journal', () => {
  const entry = (id: string): JournalEntry => ({
    id, vm: 'v', from: 'a', to: 'b', mode: 'block', startedAt: '2026-01-01T00:00:00Z', state: 'running',
    doubt: null, owner: { pid: 4242, bootId: 'b00t', machine: 'desk' },
    sourceQmpSocket: '/run/ferry/v.qmp', destinationQmpSocket: '/run/ferry/v.qmp',
    undo: [{ kind: 'kill-qemu', host: 'b', pidFile: '/run/ferry/v.pid', qmpSocket: '/run/ferry/v.qmp' }, { kind: 'cancel-source-migration', host: 'a', qmpSocket: '/run/ferry/v.qmp', nbdNodes: ['ferry-nbd0'] }],
    options: { vm: 'v' },
    destinationDefinition: { name: 'v', memoryMiB: 64, vcpus: 1, machineType: 'pc-q35-7.2', cpuModel: 'qemu64', accel: 'tcg', disks: [], nic: null, createdAt: '2026-01-01T00:00:00Z' },
  });

  it('lists entries recovery can rely on and leaves damaged ones on disk', async () => {
    const directory = join(mkdtempSync(join(tmpdir(), 'ferry-journal-')), 'journal');
    const journal = new Journal(directory);
    await journal.write(entry('whole'));
    writeFileSync(join(directory, 'torn.json'), '{"id": "torn"');
    writeFileSync(join(directory, 'step.json'), JSON.stringify({ ...entry('step'), undo: [{ kind: 'format-disk', host: 'b' }] }));
    writeFileSync(join(directory, 'state.json'), JSON.stringify({ ...entry('state'), state: 'half-done' }));
    const listed = await journal.list();
    expect(listed.map((item) => item.id)).toEqual(['whole']);
    expect(listed[0]).toEqual(entry('whole'));
    expect(readdirSync(directory).sort()).toEqual(['state.json', 'step.json', 'torn.json', 'whole.json']);
  });

  it('reads entries written before owners and doubt were recorded ("committing" is committed)', async () => {
    const directory = join(mkdtempSync(join(tmpdir(), 'ferry-journal-')), 'journal');
    const { owner: _owner, doubt: _doubt, ...old } = entry('old');
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, 'old.json'), JSON.stringify({ ...old, state: 'committing' }));
    const [listed] = await new Journal(directory).list();
    expect(listed).toMatchObject({ id: 'old', state: 'committed', doubt: null, owner: { pid: 0 } });
  });
});
