import type { MigrationReport, VmDefinition } from '../api/types.js';
import { FerryError } from '../errors.js';
import { writeJsonFile } from '../remote/json-files.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import type { JournalEntry } from './journal.js';
import { MonitorHandle } from './monitor-handle.js';
import { describeUndoStep, runUndoStep, type UndoContext } from './undo.js';

/*
 * How a migration is settled once it has stopped running: the hand-over of the definition, undo
 * of what a failed one made, and — after Ferry itself died — finishing forwards or rolling back
 * from the journal.
 */

const UNDO_STEP_TIMEOUT_MS = 60_000;

export type TransportFor = (host: string) => Promise<HostTransport>;

/**
 * The destination owns the VM now: its definition is written there, then the source's files go.
 * The source QEMU was told to quit; a stale copy of the guest must not linger behind the moved
 * VM, so it is given a few seconds and then killed before its files are removed.
 */
export async function handOverDefinition(source: HostTransport, destination: HostTransport, definition: VmDefinition): Promise<void> {
  const layout = vmLayout(definition.name);
  const pidFile = shellQuote(layout.pidFile);
  const reap = `p=; { read -r p < ${pidFile}; } 2>/dev/null; if [ -n "$p" ]; then i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; kill -9 "$p" 2>/dev/null; fi`;
  // Written there before it is removed here: a failure in between leaves two copies, never none.
  await writeJsonFile(destination, layout.definition, definition);
  await source.run(`${reap}; ${shellCommand(['rm', '-f', '--', layout.definition, layout.pidFile, layout.qmpSocket, layout.vncSocket])}`);
}

/** Keys and helper processes go in every outcome; on success nothing else is undone. */
export async function removeHelpers(entry: JournalEntry, context: UndoContext): Promise<void> {
  for (const step of entry.undo.filter((candidate) => candidate.kind === 'remove-key-dir' || candidate.kind === 'kill-process')) {
    await withTimeout(runUndoStep(step, context), UNDO_STEP_TIMEOUT_MS, describeUndoStep(step)).catch(() => undefined);
  }
}

/** Runs every recorded undo step, newest first; a failing step does not stop the others. */
export async function unwind(entry: JournalEntry, context: UndoContext): Promise<string[]> {
  const problems: string[] = [];
  for (const step of [...entry.undo].reverse()) {
    try {
      await withTimeout(runUndoStep(step, context), UNDO_STEP_TIMEOUT_MS, describeUndoStep(step));
    } catch (caught) {
      problems.push(`could not ${describeUndoStep(step)}: ${(caught as Error).message}`);
    }
  }
  return problems;
}

/** After a crash at or past the switch-over: make the destination's copy the one that runs. */
export async function finishForward(entry: JournalEntry, transport: TransportFor): Promise<void> {
  const destination = await transport(entry.to);
  const source = await transport(entry.from);
  if (entry.destinationQmpSocket && entry.mode !== 'offline') {
    const monitor = new MonitorHandle(destination, entry.destinationQmpSocket);
    try {
      const status = await monitor.query<{ status: string }>('query-status');
      // A destination still receiving has an incomplete copy; running it would lose data.
      if (status.status === 'inmigrate') throw new FerryError('migration-failed', `The VM on ${entry.to} never received the whole state`, { hint: 'It was rolled back instead.' });
      if (status.status !== 'running') {
        await monitor.command('nbd-server-stop').catch(() => undefined);
        await monitor.command('cont');
      }
    } finally {
      await monitor.close();
    }
  }
  if (entry.sourceQmpSocket) {
    const monitor = new MonitorHandle(source, entry.sourceQmpSocket);
    await monitor.quit().catch(() => undefined);
  }
  const layout = vmLayout(entry.vm);
  if ((await destination.exec(shellCommand(['test', '-e', layout.definition]))).code !== 0) await writeJsonFile(destination, layout.definition, entry.destinationDefinition);
  await source.run(shellCommand(['rm', '-f', '--', layout.definition, layout.pidFile, layout.qmpSocket, layout.vncSocket]));
}

/**
 * Whether the source QEMU finished sending the VM on its own after Ferry died. query-migrate
 * alone is not enough: a VM that once arrived by migration reports that incoming one as
 * completed, so the source must also be in "postmigrate" (it sent itself away).
 */
export async function completedWithoutUs(entry: JournalEntry, transport: TransportFor): Promise<boolean> {
  if (!entry.sourceQmpSocket || entry.mode === 'offline') return false;
  const monitor = new MonitorHandle(await transport(entry.from), entry.sourceQmpSocket);
  try {
    const status = await monitor.command<{ status: string }>('query-status');
    const info = await monitor.command<{ status?: string }>('query-migrate');
    return status.status === 'postmigrate' && info.status === 'completed';
  } catch {
    return false;
  } finally {
    await monitor.close();
  }
}

/** Settles one journal entry a dead Ferry left behind; returns the report for the history. */
export async function recoverEntry(entry: JournalEntry, transport: TransportFor, undoContext: UndoContext): Promise<MigrationReport> {
  let outcome: MigrationReport['outcome'] = 'failed';
  let message = 'Ferry stopped during this migration; it was rolled back when Ferry started again.';
  try {
    if (entry.state === 'committing' || (await completedWithoutUs(entry, transport))) {
      await finishForward(entry, transport);
      outcome = 'completed';
      message = 'Ferry stopped during this migration; QEMU finished it and Ferry completed the hand-over when it started again.';
    } else {
      await unwind(entry, undoContext);
    }
  } catch (caught) {
    outcome = 'failed';
    message = `Ferry stopped during this migration. Recovery hit a problem: ${(caught as Error).message}`;
    if (entry.state !== 'committing') await unwind(entry, undoContext);
  }
  return {
    id: entry.id, vm: entry.vm, from: entry.from, to: entry.to, mode: entry.mode, outcome, startedAt: entry.startedAt, finishedAt: new Date().toISOString(),
    totalTimeMs: Date.now() - Date.parse(entry.startedAt), setupTimeMs: null, downtimeMs: null, maxHeartbeatGapMs: null, ramBytes: 0, disks: [],
    averageThroughputBps: 0, options: entry.options, error: outcome === 'completed' ? null : { code: 'migration-failed', message },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FerryError('timeout', `${what} took longer than ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
