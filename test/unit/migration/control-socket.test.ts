import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MigrationReport, MigrationSample, MigrationSummary } from '../../../src-main/core/api/types.js';
import { FerryError } from '../../../src-main/core/errors.js';
import { controlMigration, isNotServed, migrationsRunningElsewhere, runningRecord, talkToMigration } from '../../../src-main/core/migration/control-client.js';
import { controlSocketPath, type ControlMessage, type TuneSettings } from '../../../src-main/core/migration/control-protocol.js';
import { ControlSockets, type ControlledMigration } from '../../../src-main/core/migration/control-socket.js';

const ID = '0b7c6a1e-1111-4222-8333-944455556666';
const sample = (t: number): MigrationSample => ({ t, phase: 'memory', pass: 1, ram: { transferredBytes: t, remainingBytes: 100, totalBytes: 200 }, disks: [], throughputBps: 10, dirtyRateBps: 0, expectedDowntimeMs: null, timeLeftMs: null, throttlePercent: 0, notConverging: null });
const summary = (phase: MigrationSummary['phase'] = 'memory', report: MigrationReport | null = null): MigrationSummary => ({ id: ID, vm: 'web', from: 'a', to: 'b', mode: 'live', phase, startedAt: '2026-01-01T00:00:00.000Z', committed: false, report });
const report: MigrationReport = { id: ID, vm: 'web', from: 'a', to: 'b', mode: 'live', outcome: 'cancelled', startedAt: '', finishedAt: '', totalTimeMs: 1, setupTimeMs: null, downtimeMs: null, maxHeartbeatGapMs: null, ramBytes: 0, disks: [], averageThroughputBps: 0, options: {}, error: null, foundOn: [] };

/** A migration underneath the socket that records what it was asked. */
class FakeMigration implements ControlledMigration {
  cancels = 0;
  tunes: TuneSettings[] = [];
  refuseCancel = false;
  record() {
    return { ...summary(), samples: [sample(1)] };
  }
  async cancel() {
    if (this.refuseCancel) throw new FerryError('busy', 'Migration can no longer be cancelled', { hint: 'It is past the point of no return.' });
    this.cancels += 1;
    return summary('cancelled');
  }
  async tune(settings: TuneSettings) {
    this.tunes.push(settings);
    return summary();
  }
}

let home: string;
let sockets: ControlSockets;
let migration: FakeMigration;

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'ferry-control-'));
  sockets = new ControlSockets(home);
  migration = new FakeMigration();
  await sockets.serve(ID, migration);
});

afterEach(async () => {
  await sockets.closeAll();
  rmSync(home, { recursive: true, force: true });
});

/** A raw client: one line out, every line back until the server closes. */
function raw(line: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(home, ID), () => socket.write(`${line}\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.split('\n').filter(Boolean)));
  });
}

describe('the control socket of a running migration', () => {
  it('listens in $FERRY_HOME/run, readable and writable by this user only', () => {
    const path = controlSocketPath(home, ID);
    expect(path).toBe(join(home, 'run', `migration-${ID}.sock`));
    expect(statSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'run')).mode & 0o777).toBe(0o700);
  });

  it('watch: the record so far, then samples and updates as they come, ending with the report', async () => {
    const messages: ControlMessage[] = [];
    let seenRecord: () => void = () => undefined;
    const recordArrived = new Promise<void>((resolve) => (seenRecord = resolve));
    const watching = talkToMigration(home, ID, { op: 'watch' }, (message) => {
      messages.push(message);
      if (message.type === 'record') seenRecord();
    });
    await recordArrived;
    sockets.publish('migration-sample', { id: ID, sample: sample(2) });
    sockets.publish('migration-sample', { id: 'another-migration', sample: sample(99) });
    sockets.publish('migration-update', summary('switchover'));
    sockets.publish('migration-update', summary('cancelled', report));
    await watching;
    expect(messages).toEqual([
      { type: 'record', record: { ...summary(), samples: [sample(1)] } },
      { type: 'sample', sample: sample(2) },
      { type: 'update', summary: summary('switchover') },
      { type: 'update', summary: summary('cancelled', report) },
    ]);
  });

  it('cancel and tune reach the migration and answer with its summary', async () => {
    expect(await controlMigration(home, ID, { op: 'cancel' })).toEqual(summary('cancelled'));
    expect(migration.cancels).toBe(1);
    expect(await controlMigration(home, ID, { op: 'tune', bandwidthMiBps: 8, downtimeMs: 500, startPostcopy: true })).toEqual(summary());
    expect(migration.tunes).toEqual([{ bandwidthMiBps: 8, downtimeMs: 500, startPostcopy: true }]);
  });

  it('a refusal comes back as the same FerryError', async () => {
    migration.refuseCancel = true;
    await expect(controlMigration(home, ID, { op: 'cancel' })).rejects.toMatchObject({ code: 'busy', message: 'Migration can no longer be cancelled', hint: 'It is past the point of no return.' });
  });

  it('refuses what is not a request, and settings out of range, without touching the migration', async () => {
    for (const line of ['hello', '{"op":"reboot"}', '{"op":"tune","bandwidthMiBps":-1}']) {
      const [answer] = await raw(line);
      expect(JSON.parse(answer ?? '{}'), line).toMatchObject({ type: 'error', error: { code: 'invalid-input', message: expect.stringContaining('Not a control request') } });
    }
    expect(migration.tunes).toEqual([]);
    expect(migration.cancels).toBe(0);
  });

  it('is removed when the migration ends; then a client is told no process serves it', async () => {
    await sockets.close(ID);
    expect(existsSync(controlSocketPath(home, ID))).toBe(false);
    const refused = await controlMigration(home, ID, { op: 'cancel' }).catch((error: unknown) => error);
    expect(isNotServed(refused)).toBe(true);
    expect(refused).toMatchObject({ code: 'not-found', message: `Migration ${ID} is not running in any Ferry process`, hint: expect.stringContaining('ferry migration recover') });
  });
});

describe('migrations running in other Ferry processes', () => {
  it('are listed with their record as that process has it now', async () => {
    const found = await migrationsRunningElsewhere(home, new Set());
    expect(found).toEqual([{ ...summary(), samples: [sample(1)] }]);
    expect(await runningRecord(home, ID)).toEqual({ ...summary(), samples: [sample(1)] });
    // This process's own runs are not asked about.
    expect(await migrationsRunningElsewhere(home, new Set([ID]))).toEqual([]);
  });

  it('a socket file no process listens on (left by a crash) is removed, not listed', async () => {
    const stale = '99999999-1111-4222-8333-944455556666';
    const path = controlSocketPath(home, stale);
    // A process that dies without closing its listener leaves exactly this: a socket file nobody serves.
    execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
    expect(statSync(path).isSocket()).toBe(true);
    expect((await migrationsRunningElsewhere(home, new Set())).map((record) => record.id)).toEqual([ID]);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(controlSocketPath(home, ID))).toBe(true);
  });

  it('a home without a run directory has none', async () => {
    expect(await migrationsRunningElsewhere(join(home, 'nowhere'), new Set())).toEqual([]);
  });
});
