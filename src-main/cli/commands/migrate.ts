import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { DEFAULT_DOWNTIME_LIMIT_MS, type ChannelInput } from '../../core/api/contract.js';
import type { MigrationReport, PreflightReport } from '../../core/api/types.js';
import { FerryError } from '../../core/errors.js';
import { formatBytes, printError, printResult, table } from '../output.js';
import { chooseMode } from '../mode-choice.js';
import { addMigrationControlCommands } from './migration-control.js';
import { ProgressView } from '../progress.js';
import { cliEngine, jsonFlag, runChannel } from '../run.js';

interface MigrateFlags {
  from: string;
  to: string;
  mode?: string;
  incremental?: boolean;
  destPool?: string;
  keepState?: boolean;
  start: boolean;
  transport: string;
  address?: string;
  port?: number;
  bandwidth?: number;
  downtime?: number;
  autoConverge?: boolean;
  postcopy?: boolean;
  multifd?: number;
  probe?: string;
  shutdownTimeout: number;
  check?: boolean;
  reuseImages?: boolean;
  diskTarget?: string[];
  overwriteDevice?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** "--disk-target SRC=DEST" pairs; both are absolute paths, so the split is at the first "=/". */
export function parseDiskTargets(pairs: readonly string[]): Record<string, string> {
  const targets: Record<string, string> = {};
  for (const pair of pairs) {
    const split = pair.indexOf('=/');
    if (!pair.startsWith('/') || split < 0) {
      throw new FerryError('invalid-input', `--disk-target ${pair} is not SOURCE=DESTINATION`, { hint: 'Give the source disk path and where it goes on the destination, e.g. --disk-target /dev/vg0/web=/dev/vg1/web (a device) or =/srv/images/web.raw (a file).' });
    }
    const source = pair.slice(0, split);
    if (targets[source] !== undefined) throw new FerryError('invalid-input', `--disk-target names ${source} twice`, { hint: 'Give one destination per source disk.' });
    targets[source] = pair.slice(split + 1);
  }
  return targets;
}

function describePreflight(report: PreflightReport): string {
  const mark = { error: '✗', warning: '!', ok: '✓' } as const;
  return [
    ...report.items.map((item) => `${mark[item.level]} ${item.message}${item.hint ? `\n    ${item.hint}` : ''}`),
    ...(report.prediction ? [`Prediction: ${report.prediction.summary}`, `  (from ${report.prediction.basis})`] : []),
    report.ok ? 'Pre-flight passed.' : 'Pre-flight found errors: the migration would not start.',
  ].join('\n');
}

export function describeReport(report: MigrationReport): string {
  const ms = (value: number | null) => (value === null ? '-' : `${value} ms`);
  return [
    `Migration ${report.id}: ${report.vm} ${report.from} → ${report.to} (${report.mode}) ${report.outcome.toUpperCase()}`,
    `  total time      ${(report.totalTimeMs / 1000).toFixed(1)} s (setup ${ms(report.setupTimeMs)})`,
    `  downtime        ${ms(report.downtimeMs)}${report.maxHeartbeatGapMs !== null ? `, longest heartbeat gap ${report.maxHeartbeatGapMs} ms` : ''}`,
    `  RAM moved       ${formatBytes(report.ramBytes)}`,
    ...report.disks.map((disk) => `  disk ${disk.device}  ${formatBytes(disk.bytes)} (${disk.path})`),
    `  throughput      ${formatBytes(report.averageThroughputBps)}/s average`,
    ...(report.error ? [`  error           ${report.error.message}`, ...(report.error.hint ? [`                  ${report.error.hint}`] : [])] : []),
    `  VM found on     ${describeLocations(report)}`,
  ].join('\n');
}

/** Where the VM is, as the hosts answered at the end — never what Ferry hoped. */
function describeLocations(report: MigrationReport): string {
  const found = report.foundOn ?? [];
  if (found.length === 0) return 'not checked';
  return found.map((location) => `${location.host}: ${location.state === 'absent' ? 'not there' : location.state}`).join(', ');
}

function migrationInput(vm: string, flags: MigrateFlags & { mode: string }): ChannelInput<'migrations.start'> {
  return {
    vm,
    from: flags.from,
    to: flags.to,
    mode: flags.mode as 'live',
    incremental: flags.incremental === true,
    keepState: flags.keepState === true,
    noStart: !flags.start,
    transport: flags.transport as 'tcp',
    autoConverge: flags.autoConverge === true,
    postcopy: flags.postcopy === true,
    reuseImages: flags.reuseImages === true,
    shutdownTimeoutMs: Math.round(flags.shutdownTimeout * 1000),
    ...(flags.destPool ? { destPool: flags.destPool } : {}),
    ...(flags.address ? { address: flags.address } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    ...(flags.bandwidth !== undefined ? { bandwidthMiBps: flags.bandwidth } : {}),
    ...(flags.downtime !== undefined ? { downtimeMs: flags.downtime } : {}),
    ...(flags.multifd !== undefined ? { multifd: flags.multifd } : {}),
    ...(flags.probe ? { probe: flags.probe } : {}),
    ...(flags.diskTarget?.length ? { diskTargets: parseDiskTargets(flags.diskTarget) } : {}),
    overwriteDevices: flags.overwriteDevice ?? [],
  };
}

/**
 * The terminal closed (SIGHUP): the migration goes on to its end in this process, which stops
 * drawing progress; writes to the dead terminal fail (EIO, EPIPE) and are dropped instead of
 * killing the process. The report is in the history, `ferry migration watch` shows it.
 */
function keepRunningWithoutTerminal(terminal: { gone: boolean }): void {
  if (terminal.gone) return;
  terminal.gone = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}

/** Asks which modes fit this VM and move, takes the recommended one, and says which and why. */
async function recommendedMode(vm: string, flags: MigrateFlags): Promise<string> {
  const choice = chooseMode(vm, await cliEngine().call('migrations.modes', { vm, from: flags.from, to: flags.to }));
  process.stderr.write(`${choice.message}\n`);
  return choice.mode;
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('move a VM to another host (offline, live over shared storage, or live with a block copy)')
    .argument('<vm>', 'the VM to move')
    .requiredOption('--from <host>', 'the host it runs on')
    .requiredOption('--to <host>', 'the host to move it to')
    .option('--mode <mode>', 'offline | live | block (default: the one Ferry recommends for this VM, named when it starts)')
    .option('--incremental', 'block: copy only the top qcow2 layer (the backing chain must be on the destination)')
    .option('--dest-pool <pool>', 'create the destination disks in this pool instead of at the same paths')
    .option('--keep-state', 'offline: save the running state and resume it on the destination')
    .option('--no-start', 'offline: leave the VM stopped on the destination')
    .option('--transport <transport>', 'tls (default: random pre-shared key per migration) | tcp (in the clear, for a trusted migration network)', 'tls')
    .option('--reuse-images', 'write over destination images that already exist at the target paths (same size and format, not in use)')
    .option('--disk-target <src=dest>', 'block/offline: put source disk SRC at DEST on the destination, a block device or an image file path (repeatable)', collect)
    .option('--overwrite-device <device>', 'allow writing over this destination device although it carries a filesystem, LVM or partition-table signature (repeatable)', collect)
    .option('--address <address>', 'destination address as the source reaches it (a migration network)')
    .option('--port <n>', 'first port to try on the destination', Number)
    .option('--bandwidth <MiB/s>', 'bandwidth limit (default: none)', Number)
    .option('--downtime <ms>', `downtime limit (default ${DEFAULT_DOWNTIME_LIMIT_MS})`, Number)
    .option('--auto-converge', 'slow the guest down if memory does not converge')
    .option('--postcopy', 'allow switching to postcopy')
    .option('--multifd <n>', 'parallel streams for memory', Number)
    .option('--probe <probe>', 'watch the guest during the move: serial, or tcp:HOST:PORT')
    .option('--shutdown-timeout <seconds>', 'offline: seconds for the guest to power off before it is forced off', Number, 60)
    .option('--check', 'only run the pre-flight checks')
    .action(async (vm: string, flags: MigrateFlags, command: Command) => {
      const json = jsonFlag(command);
      const engine = cliEngine();
      try {
        const input = migrationInput(vm, { ...flags, mode: flags.mode ?? (await recommendedMode(vm, flags)) });
        if (flags.check) {
          const report = await engine.call('migrations.check', input);
          printResult(report, { json }, () => describePreflight(report));
          if (!report.ok) process.exitCode = 1;
          return;
        }
        const view = new ProgressView(process.stderr);
        const terminal = { gone: false };
        const unsubscribe = engine.onEvent((event) => {
          if (json || terminal.gone) return;
          if (event.name === 'migration-sample') view.sample(event.payload.sample);
          if (event.name === 'migration-update') view.phase(event.payload.phase);
        });
        // From before the start: a terminal closed during pre-flight must not leave a half-made start.
        const onHangup = () => keepRunningWithoutTerminal(terminal);
        process.on('SIGHUP', onHangup);
        const started = await engine.call('migrations.start', input);
        if (!json) process.stderr.write(`Migration ${started.id} started. Closing this terminal does not stop the migration; \`ferry migration watch ${started.id}\` follows it, \`ferry migration cancel ${started.id}\` cancels it.\n`);
        let interrupted = false;
        const onInterrupt = () => {
          if (interrupted) return;
          interrupted = true;
          process.stderr.write('\nCancelling…\n');
          engine.call('migrations.cancel', { id: started.id }).then(
            () => process.stderr.write('Cancelled: undoing what was made on the destination.\n'),
            (error: unknown) => process.stderr.write(`${error instanceof FerryError ? `${error.message}\n${error.hint ?? ''}` : String(error)}\n`),
          );
        };
        process.on('SIGINT', onInterrupt);
        process.on('SIGTERM', onInterrupt);
        const record = await engine.migrations.settled(started.id);
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
        process.off('SIGHUP', onHangup);
        unsubscribe();
        view.clear();
        const report = record.report;
        if (!report) throw new FerryError('internal', 'The migration ended without a report');
        printResult(report, { json }, () => describeReport(report));
        if (report.outcome !== 'completed') process.exitCode = 1;
      } catch (error) {
        if (!json && error instanceof FerryError && error.code === 'preflight-failed') {
          const items = error.details?.['items'];
          if (Array.isArray(items)) process.stderr.write(`${describePreflight({ ok: false, items, modes: [] })}\n`);
        }
        printError(error, { json });
      }
    });
}

export function migrationCommand(): Command {
  const migration = new Command('migration').description('running and past migrations: follow, steer, settle, export');
  addMigrationControlCommands(migration);
  migration
    .command('list')
    .description('running and past migrations')
    .action(async (_options: object, command: Command) => {
      await runChannel(command, 'migrations.list', {}, (list) =>
        list.length === 0
          ? 'No migrations yet.'
          : table(
              ['ID', 'VM', 'FROM', 'TO', 'MODE', 'STARTED', 'OUTCOME', 'TIME', 'DOWNTIME'],
              list.map((entry) => [entry.id, entry.vm, entry.from, entry.to, entry.mode, entry.startedAt, entry.report?.outcome ?? (entry.elsewhere ? `${entry.phase} (in another Ferry process)` : entry.phase), entry.report ? `${(entry.report.totalTimeMs / 1000).toFixed(1)} s` : '-', entry.report?.downtimeMs != null ? `${entry.report.downtimeMs} ms` : '-']),
            ),
      );
    });
  migration
    .command('recover')
    .description('settle migrations a stopped Ferry left unfinished, and retry those that ended in doubt')
    .action(async (_options: object, command: Command) => {
      const json = jsonFlag(command);
      try {
        const settled = await cliEngine().call('migrations.recover', {});
        printResult(settled, { json }, () =>
          settled.length === 0
            ? 'Nothing to recover: no migration is left unfinished.'
            : settled.map((summary) => (summary.report ? describeReport(summary.report) : `${summary.vm}: ${summary.phase}`)).join('\n\n'),
        );
        // Still in doubt: a script must not take this for done.
        if (settled.some((summary) => summary.report?.outcome === 'in-doubt')) process.exitCode = 1;
      } catch (error) {
        printError(error, { json });
      }
    });
  migration
    .command('show <id>')
    .description('the report of one migration')
    .action(async (id: string, _options: object, command: Command) => {
      await runChannel(command, 'migrations.get', { id }, (record) => (record.report ? describeReport(record.report) : `${record.vm}: ${record.phase} (running)`));
    });
  migration
    .command('export <id>')
    .description('export one migration (report and samples)')
    .requiredOption('--format <format>', 'json | csv')
    .option('--output <file>', 'write to this file instead of standard output')
    .action(async (id: string, options: { format: string; output?: string }, command: Command) => {
      try {
        const exported = await cliEngine().call('migrations.export', { id, format: options.format as 'json' });
        if (options.output) {
          await writeFile(options.output, exported.content);
          process.stderr.write(`Wrote ${options.output}\n`);
        } else {
          process.stdout.write(exported.content);
        }
      } catch (error) {
        printError(error, { json: jsonFlag(command) });
      }
    });
  return migration;
}
