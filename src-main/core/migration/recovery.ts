import type { VmDefinition } from '../api/types.js';
import { FerryError, isFerryError } from '../errors.js';
import { writeJsonFile } from '../remote/json-files.js';
import { shellCommand } from '../ssh/shell.js';
import { expectVm, stopProcessScript, stopVmQemu } from '../vm/qemu-process.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from '../vm/layout.js';
import type { JournalEntry } from './journal.js';
import { MonitorHandle } from './monitor-handle.js';
import { within } from './within.js';
import { finishLiveForward } from './forward-live.js';
import { describeUndoStep, runUndoStep, type UndoContext, type UndoStep } from './undo.js';

/*
 * How a migration is settled once it has stopped running. The rules live here and nowhere else:
 * - before the commit point a failure is undone, but the source is resumed or restarted only
 *   when no destination QEMU can be running (it was confirmed gone, or never started);
 * - past the commit point it is only ever finished forwards;
 * - whatever cannot be settled now (a host out of reach) stays in the journal, in doubt, with
 *   the steps still to do, and is retried later.
 */

const UNDO_STEP_TIMEOUT_MS = 60_000;
/** How long forwards-recovery waits for QEMU to finish a migration that is still moving. */
const FORWARD_WAIT_MS = 10 * 60_000;

export type TransportFor = (host: string) => Promise<HostTransport>;

export interface Settlement {
  outcome: 'completed' | 'rolled-back' | 'in-doubt';
  /** What happened, or why it could not be settled, in words for the user. */
  message: string;
  /** Undo steps not done yet (kept in the journal while in doubt). */
  remaining: UndoStep[];
}

/** Steps that give the guest back to the source; they wait until no destination copy can run. */
const restoresSource = (step: UndoStep) => step.kind === 'resume-source' || step.kind === 'restart-source';

/**
 * The destination owns the VM now: its definition is written there, then the source's files go.
 * The source QEMU was told to quit; a stale copy of the guest must not linger behind the moved
 * VM, so it is given a few seconds and then killed before its files are removed.
 */
export async function handOverDefinition(source: HostTransport, destination: HostTransport, definition: VmDefinition): Promise<void> {
  const layout = vmLayout(definition.name);
  const reap = stopProcessScript({ pidFile: layout.pidFile, expect: expectVm(definition.name), waitSeconds: 5, graceSeconds: 0 });
  // Written there before it is removed here: a failure in between leaves two copies, never none.
  await writeJsonFile(destination, layout.definition, definition);
  // A subshell: the stop script ends with `exit`, which must not end the removal that follows.
  await source.run(`( ${reap}
) >/dev/null; ${shellCommand(['rm', '-f', '--', layout.definition, layout.pidFile, layout.qmpSocket, layout.vncSocket])}`, { timeoutMs: 60_000 });
}

/** Keys and helper processes go in every outcome; returns the ones that could not be removed. */
export async function removeHelpers(steps: UndoStep[], context: UndoContext): Promise<UndoStep[]> {
  const left: UndoStep[] = [];
  // Independent of each other, and on two hosts: side by side.
  const helpers = steps.filter((candidate) => candidate.kind === 'remove-key-dir' || candidate.kind === 'kill-process');
  await Promise.all(helpers.map((step) => within(UNDO_STEP_TIMEOUT_MS, runUndoStep(step, context), describeUndoStep(step)).catch(() => left.push(step))));
  return left;
}

/**
 * Undoes what a migration made, newest first. Everything on the destination goes first; the
 * source gets the guest back only if every destination QEMU step succeeded (it is gone).
 */
export async function rollBack(steps: UndoStep[], context: UndoContext): Promise<{ remaining: UndoStep[]; problems: string[] }> {
  const remaining: UndoStep[] = [];
  const problems: string[] = [];
  // A host that did not answer once is not asked again in this pass: each try can take a minute.
  const unreachable = new Set<string>();
  const attempt = async (step: UndoStep) => {
    if (unreachable.has(step.host)) {
      remaining.push(step);
      return;
    }
    try {
      await within(UNDO_STEP_TIMEOUT_MS, runUndoStep(step, context), describeUndoStep(step));
    } catch (caught) {
      remaining.push(step);
      if (isFerryError(caught) && ['connection-lost', 'connection-failed', 'timeout'].includes(caught.code)) {
        unreachable.add(step.host);
        problems.push(`${step.host} cannot be reached (${caught.message})`);
      } else {
        problems.push(`could not ${describeUndoStep(step)}: ${(caught as Error).message}`);
      }
    }
  };
  const newestFirst = [...steps].reverse();
  for (const step of newestFirst.filter((candidate) => !restoresSource(candidate))) await attempt(step);
  const destinationMayRun = remaining.some((step) => step.kind === 'kill-qemu');
  for (const step of newestFirst.filter(restoresSource)) {
    if (destinationMayRun) remaining.push(step);
    else await attempt(step);
  }
  // Kept in the order they were recorded, as the journal holds them.
  remaining.sort((a, b) => steps.indexOf(a) - steps.indexOf(b));
  return { remaining, problems };
}

/** Settles an entry before its commit point: roll back, or say why it stays in doubt. */
export async function settleBeforeCommit(entry: JournalEntry, context: UndoContext): Promise<Settlement> {
  const { remaining, problems } = await rollBack(entry.undo, context);
  if (remaining.length === 0) return { outcome: 'rolled-back', message: `It was rolled back: ${entry.vm} is on ${entry.from} as before.`, remaining };
  const sourceHeld = remaining.some(restoresSource);
  const message = sourceHeld
    ? `It could not be rolled back: Ferry cannot confirm that the copy on ${entry.to} is gone (${problems.join('; ')}), so ${entry.vm} stays ${entry.mode === 'offline' ? 'stopped' : 'paused'} on ${entry.from} rather than risk two running copies.`
    : `It was rolled back, but some of what it made on ${entry.to} could not be removed yet (${problems.join('; ')}).`;
  return { outcome: 'in-doubt', message, remaining };
}

/**
 * After the commit point: make the destination's copy the one that runs. QEMU may still be
 * moving the guest (postcopy, or a source waiting at pre-switchover): it is helped along and
 * waited for, never turned back.
 */
export async function finishForward(entry: JournalEntry, transport: TransportFor, context: UndoContext, waitMs = FORWARD_WAIT_MS): Promise<Settlement> {
  try {
    const destination = await transport(entry.to);
    const source = await transport(entry.from);
    if (entry.mode === 'offline') {
      await finishOfflineForward(entry, destination, context);
      // A keep-state source stays paused after saving its state: the copy that runs is on the
      // destination now, so that QEMU goes before its files do.
      const stopped = await stopVmQemu(source, entry.vm, { quitFirst: true, waitMs: 5_000, graceMs: 2_000 });
      if (stopped.result === 'survived') throw new FerryError('migration-failed', `the source QEMU on ${entry.from} would not exit`);
    } else {
      await finishLiveForward(entry, source, destination, waitMs);
    }
    const layout = vmLayout(entry.vm);
    if ((await destination.exec(shellCommand(['test', '-e', layout.definition]))).code !== 0) await writeJsonFile(destination, layout.definition, entry.destinationDefinition);
    await source.run(`${shellCommand(['rm', '-f', '--', layout.definition, layout.pidFile, layout.qmpSocket, layout.vncSocket])}`);
    const left = await removeHelpers(entry.undo, context);
    return {
      outcome: 'completed',
      message: left.length === 0 ? `${entry.vm} runs on ${entry.to}.` : `${entry.vm} runs on ${entry.to}; ${left.map(describeUndoStep).join(', ')} is still to do.`,
      remaining: left,
    };
  } catch (caught) {
    return {
      outcome: 'in-doubt',
      message: `It is past the point of no return (the guest's state is on ${entry.to}), but Ferry could not finish it: ${(caught as Error).message}. Nothing was undone; it will be retried.`,
      remaining: entry.undo,
    };
  }
}

async function finishOfflineForward(entry: JournalEntry, destination: HostTransport, context: UndoContext): Promise<void> {
  if (entry.options['noStart'] === true) return;
  if (await context.isVmRunning(entry.to, entry.vm)) {
    // Started paused before the commit point; Ferry may have stopped before it let it run.
    await continueStartedDestination(entry, destination);
    return;
  }
  if (entry.options['keepState'] === true) {
    throw new FerryError('migration-failed', `the VM is not running on ${entry.to} and its saved state cannot be resumed by recovery`, {
      hint: `Start it on ${entry.to} by hand (\`ferry vm start ${entry.to} ${entry.vm}\`); the state saved at the move is lost, its disks are complete.`,
    });
  }
  // The disks were complete before the commit point; the definition goes first so start finds it.
  const layout = vmLayout(entry.vm);
  if ((await destination.exec(shellCommand(['test', '-e', layout.definition]))).code !== 0) await writeJsonFile(destination, layout.definition, entry.destinationDefinition);
  await context.startVm(entry.to, entry.vm);
}

/** Lets a paused offline destination run, once it holds the whole saved state (keep-state). */
async function continueStartedDestination(entry: JournalEntry, destination: HostTransport): Promise<void> {
  const monitor = new MonitorHandle(destination, vmLayout(entry.vm).qmpSocket);
  try {
    const status = await monitor.query<{ status: string }>('query-status');
    if (status.status === 'running') return;
    if (status.status === 'inmigrate') throw new FerryError('migration-failed', `the VM on ${entry.to} is still reading its saved state`);
    if (entry.options['keepState'] === true) {
      const incoming = await monitor.query<{ status?: string }>('query-migrate');
      if (incoming.status !== 'completed') throw new FerryError('migration-failed', `the VM on ${entry.to} did not read its whole saved state (${incoming.status ?? 'unknown'})`);
    }
    await monitor.command('cont');
  } finally {
    await monitor.close();
  }
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

/** Settles one journal entry whose process has stopped running it. */
export async function settleEntry(entry: JournalEntry, transport: TransportFor, context: UndoContext): Promise<Settlement> {
  if (entry.state === 'committed' || (await completedWithoutUs(entry, transport))) return finishForward(entry, transport, context);
  return settleBeforeCommit(entry, context);
}
