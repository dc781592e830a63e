import type { Command } from 'commander';
import type { MigrationReport, MigrationSummary } from '../../core/api/types.js';
import { migrationTuneInput } from '../../core/api/contract.js';
import { FerryError } from '../../core/errors.js';
import { controlMigration, isNotServed, talkToMigration } from '../../core/migration/control-client.js';
import type { ControlRequest } from '../../core/migration/control-protocol.js';
import { ferryHome } from '../../core/paths.js';
import { printError, printResult } from '../output.js';
import { ProgressView } from '../progress.js';
import { cliEngine, jsonFlag } from '../run.js';
import { describeReport } from './migrate.js';

/**
 * The migration's recorded report when no process serves it any more; when it has none either,
 * the process running it is gone and the "not running" error (which points to recover) stands.
 */
async function endedReport(id: string, notServed: unknown): Promise<MigrationReport> {
  const record = await cliEngine().call('migrations.get', { id }).catch(() => null);
  if (record?.report) return record.report;
  throw notServed;
}

/** Follows a migration another Ferry process runs, as `ferry migrate` draws it; the report at the end. */
async function watch(id: string, json: boolean): Promise<MigrationReport> {
  const view = new ProgressView(process.stderr);
  let report: MigrationReport | null = null;
  try {
    await talkToMigration(ferryHome(), id, { op: 'watch' }, (message) => {
      if (message.type === 'error') throw new FerryError(message.error.code, message.error.message, message.error.hint === undefined ? {} : { hint: message.error.hint });
      const summary: MigrationSummary | null = message.type === 'record' ? message.record : message.type === 'update' ? message.summary : null;
      if (summary?.report) report = summary.report;
      if (json) return;
      if (message.type === 'record') {
        process.stderr.write(`Watching migration ${id}: ${message.record.vm} ${message.record.from} → ${message.record.to} (${message.record.mode}). Ctrl-C stops watching; the migration goes on.\n`);
        const last = message.record.samples.at(-1);
        if (last) view.sample(last);
        else view.phase(message.record.phase);
      } else if (message.type === 'sample') {
        view.sample(message.sample);
      } else if (message.type === 'update') {
        view.phase(message.summary.phase);
      }
    });
  } catch (error) {
    if (isNotServed(error)) return endedReport(id, error);
    throw error;
  } finally {
    view.clear();
  }
  if (report) return report;
  // The serving process went away mid-way: it may have been killed.
  return endedReport(id, new FerryError('connection-lost', `The Ferry process running migration ${id} stopped before the migration ended`, { hint: 'Run `ferry migration recover` to settle it.' }));
}

/** A cancel or tune for a migration no process serves: "already ended", or the not-running error. */
async function notRunning(id: string, notServed: unknown): Promise<never> {
  const report = await endedReport(id, notServed);
  throw new FerryError('invalid-input', `Migration ${id} has already ended (${report.outcome})`, { hint: `\`ferry migration show ${id}\` shows its report.` });
}

async function steer(id: string, request: Exclude<ControlRequest, { op: 'watch' }>): Promise<MigrationSummary> {
  try {
    return await controlMigration(ferryHome(), id, request);
  } catch (error) {
    if (isNotServed(error)) return notRunning(id, error);
    throw error;
  }
}

interface TuneFlags {
  bandwidth?: number;
  downtime?: number;
  postcopy?: boolean;
}

/** The tune settings, checked here by the contract's own rules so a typo never reaches the migration. */
function tuneSettings(id: string, flags: TuneFlags) {
  const settings = {
    ...(flags.bandwidth !== undefined ? { bandwidthMiBps: flags.bandwidth } : {}),
    ...(flags.downtime !== undefined ? { downtimeMs: flags.downtime } : {}),
    ...(flags.postcopy ? { startPostcopy: true } : {}),
  };
  if (Object.keys(settings).length === 0) throw new FerryError('invalid-input', 'Nothing to tune', { hint: 'Give --bandwidth MiB/s, --downtime MS or --postcopy.' });
  const checked = migrationTuneInput.safeParse({ id, ...settings });
  if (!checked.success) {
    throw new FerryError('invalid-input', `Cannot tune migration ${id}: ${checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, {
      hint: '--bandwidth is MiB/s above 0, --downtime whole milliseconds from 1.',
    });
  }
  const { id: _id, ...valid } = checked.data;
  return valid;
}

/** `ferry migration watch|cancel|tune ID`: steer a migration that another Ferry process runs. */
export function addMigrationControlCommands(migration: Command): void {
  migration
    .command('watch <id>')
    .description('follow a running migration (started here or elsewhere: another terminal, the app, the web UI); an ended one shows its report')
    .action(async (id: string, _options: object, command: Command) => {
      const json = jsonFlag(command);
      try {
        const report = await watch(id, json);
        printResult(report, { json }, () => describeReport(report));
        if (report.outcome !== 'completed') process.exitCode = 1;
      } catch (error) {
        printError(error, { json });
      }
    });
  migration
    .command('cancel <id>')
    .description('cancel a running migration; what was made on the destination is undone')
    .action(async (id: string, _options: object, command: Command) => {
      const json = jsonFlag(command);
      try {
        const summary = await steer(id, { op: 'cancel' });
        printResult(summary, { json }, () => `Cancelling migration ${id} (${summary.vm} ${summary.from} → ${summary.to}): the Ferry running it undoes what was made on ${summary.to}. \`ferry migration watch ${id}\` shows the end.`);
      } catch (error) {
        printError(error, { json });
      }
    });
  migration
    .command('tune <id>')
    .description('change a running migration\'s bandwidth or downtime limit, or switch it to postcopy')
    .option('--bandwidth <MiB/s>', 'bandwidth limit', Number)
    .option('--downtime <ms>', 'downtime limit', Number)
    .option('--postcopy', 'switch to postcopy now (the migration must have been started with --postcopy)')
    .action(async (id: string, flags: TuneFlags, command: Command) => {
      const json = jsonFlag(command);
      try {
        const summary = await steer(id, { op: 'tune', ...tuneSettings(id, flags) });
        const changed = [flags.bandwidth !== undefined ? `bandwidth ${flags.bandwidth} MiB/s` : '', flags.downtime !== undefined ? `downtime ${flags.downtime} ms` : '', flags.postcopy ? 'postcopy requested' : ''].filter(Boolean).join(', ');
        printResult(summary, { json }, () => `Tuned migration ${id} (${summary.phase.replace(/-/g, ' ')}): ${changed}`);
      } catch (error) {
        printError(error, { json });
      }
    });
}
