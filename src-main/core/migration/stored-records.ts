import { z } from 'zod';
import type { MigrationRecord } from '../api/types.js';
import type { JournalEntry } from './journal.js';

/*
 * Shapes of what Ferry keeps under FERRY_HOME (history and journal). The files are Ferry's own,
 * but a torn write, a hand edit or a file from another version must not reach the GUI or the
 * recovery code as if it were whole: the fields they rely on are checked, the rest passes.
 */

const mode = z.enum(['offline', 'live', 'block']);

const undoStep = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('kill-qemu'), host: z.string(), pidFile: z.string(), qmpSocket: z.string() }),
  z.object({ kind: z.literal('kill-process'), host: z.string(), pidFile: z.string(), program: z.string().optional(), argument: z.string().optional() }),
  z.object({ kind: z.literal('remove-file'), host: z.string(), path: z.string() }),
  z.object({ kind: z.literal('remove-key-dir'), host: z.string(), path: z.string() }),
  z.object({ kind: z.literal('cancel-source-migration'), host: z.string(), qmpSocket: z.string(), nbdNodes: z.array(z.string()) }),
  z.object({ kind: z.literal('resume-source'), host: z.string(), qmpSocket: z.string() }),
  z.object({ kind: z.literal('restart-source'), host: z.string(), vm: z.string() }),
]);

const journalEntry = z.looseObject({
  id: z.string().min(1),
  vm: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  mode,
  startedAt: z.string(),
  // "committing" is what Ferry before 0.2 wrote for the same state.
  state: z.enum(['running', 'committed', 'committing']).transform((state) => (state === 'committing' ? 'committed' : state)),
  doubt: z.string().nullable().default(null),
  owner: z.looseObject({ pid: z.number(), bootId: z.string(), machine: z.string() }).default({ pid: 0, bootId: 'unknown', machine: 'unknown' }),
  sourceQmpSocket: z.string().nullable(),
  destinationQmpSocket: z.string().nullable(),
  undo: z.array(undoStep),
  options: z.record(z.string(), z.unknown()),
  destinationDefinition: z.looseObject({ name: z.string(), disks: z.array(z.looseObject({ path: z.string() })) }),
});

const sample = z.looseObject({
  t: z.number(),
  phase: z.string(),
  ram: z.looseObject({ transferredBytes: z.number(), remainingBytes: z.number(), totalBytes: z.number() }),
  disks: z.array(z.looseObject({ device: z.string(), transferredBytes: z.number(), remainingBytes: z.number(), totalBytes: z.number() })),
});

const migrationRecord = z.looseObject({
  id: z.string().min(1),
  vm: z.string(),
  from: z.string(),
  to: z.string(),
  mode,
  phase: z.string(),
  startedAt: z.string(),
  report: z.looseObject({ outcome: z.enum(['completed', 'failed', 'cancelled', 'in-doubt']), totalTimeMs: z.number(), disks: z.array(z.looseObject({ bytes: z.number() })) }).nullable(),
  samples: z.array(sample),
});

/** The record if the fields Ferry relies on are there and of the right type, otherwise null. */
export function parseMigrationRecord(value: unknown): MigrationRecord | null {
  if (!migrationRecord.safeParse(value).success) return null;
  // Records from before commit points and found-on checks: neither was known then.
  const record = value as MigrationRecord;
  return {
    ...record,
    committed: record.committed ?? false,
    report: record.report === null ? null : { ...record.report, foundOn: record.report.foundOn ?? [] },
  };
}

export function parseJournalEntry(value: unknown): JournalEntry | null {
  const parsed = journalEntry.safeParse(value);
  return parsed.success ? ({ ...(value as object), state: parsed.data.state, doubt: parsed.data.doubt, owner: parsed.data.owner } as unknown as JournalEntry) : null;
}
