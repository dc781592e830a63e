import type { MigrationReport, MigrationSummary } from '../../../src-main/core/api/types.js';

/** A running block migration of vm1 from a to b; override what a test is about. */
export function runningSummary(extra: Partial<MigrationSummary> = {}): MigrationSummary {
  return { id: 'm1', vm: 'vm1', from: 'a', to: 'b', mode: 'block', phase: 'memory', startedAt: '2026-12-01T10:00:00.000Z', committed: false, report: null, ...extra };
}

export function report(extra: Partial<MigrationReport> = {}): MigrationReport {
  return {
    id: 'm1', vm: 'vm1', from: 'a', to: 'b', mode: 'block', outcome: 'completed',
    startedAt: '2026-12-01T10:00:00.000Z', finishedAt: '2026-12-01T10:01:00.000Z',
    totalTimeMs: 60_000, setupTimeMs: 800, downtimeMs: 120, maxHeartbeatGapMs: null, ramBytes: 1 << 30,
    disks: [], averageThroughputBps: 1e8, options: {}, error: null,
    foundOn: [{ host: 'b', state: 'running' }, { host: 'a', state: 'absent' }],
    ...extra,
  };
}

/** A migration that ended in doubt: the engine's message says where the VM is, the hint how it is retried. */
export function inDoubtSummary(id = 'm1'): MigrationSummary {
  return runningSummary({
    id,
    phase: 'in-doubt',
    report: report({
      id,
      outcome: 'in-doubt',
      error: {
        code: 'host-unreachable',
        message: 'b stopped answering. Ferry cannot confirm that the copy on b is gone, so vm1 stays paused on a rather than risk two running copies.',
        hint: 'Ferry keeps this migration in its journal and retries it: at its next start, or now with Recover in the History view.',
      },
      foundOn: [{ host: 'a', state: 'paused' }, { host: 'b', state: 'unreachable' }],
    }),
  });
}
