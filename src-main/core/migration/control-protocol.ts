import { join } from 'node:path';
import { z } from 'zod';
import { migrationTuneInput } from '../api/contract.js';
import type { MigrationRecord, MigrationSample, MigrationSummary } from '../api/types.js';
import type { FerryErrorCode } from '../errors.js';

/**
 * The control socket of a running migration: the Ferry process that runs it (CLI, web server or
 * desktop app) serves it, so another `ferry` can watch, tune or cancel the migration. One JSON
 * request line from the client; JSON lines back.
 */
export const controlDirectory = (home: string) => join(home, 'run');
export const controlSocketPath = (home: string, id: string) => join(controlDirectory(home), `migration-${id}.sock`);

export const controlRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('watch') }),
  z.object({ op: z.literal('cancel') }),
  migrationTuneInput.omit({ id: true }).extend({ op: z.literal('tune') }),
]);
export type ControlRequest = z.infer<typeof controlRequestSchema>;
export type TuneSettings = Omit<Extract<ControlRequest, { op: 'tune' }>, 'op'>;

export interface ControlErrorBody {
  code: FerryErrorCode;
  message: string;
  hint?: string;
}

/**
 * watch: `record` first (the summary and the samples so far), then `sample` and `update` as they
 * come; the last `update` carries the report, then the socket closes. cancel and tune: one
 * `result` or `error`.
 */
export type ControlMessage =
  | { type: 'record'; record: MigrationRecord }
  | { type: 'sample'; sample: MigrationSample }
  | { type: 'update'; summary: MigrationSummary }
  | { type: 'result'; summary: MigrationSummary }
  | { type: 'error'; error: ControlErrorBody };
