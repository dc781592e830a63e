import { posix } from 'node:path';
import { FerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import { expectVm, stopProcess, type ExpectedProcess } from '../vm/qemu-process.js';
import { vmRunFiles } from '../vm/layout.js';
import type { HostTransport } from '../ssh/transport.js';
import { withMonitor } from '../vm/monitor.js';
import type { QmpClient } from '../qmp/index.js';

/**
 * What a migration has made or changed that must be put back if it does not complete. Steps are
 * plain data so the journal can hold them and a later Ferry process can still undo them.
 */
export type UndoStep =
  | { kind: 'kill-qemu'; host: string; pidFile: string; qmpSocket: string }
  /** A helper (qemu-nbd, the disk copy) known by its program and one of its arguments. */
  | { kind: 'kill-process'; host: string; pidFile: string; program?: string; argument?: string }
  | { kind: 'remove-file'; host: string; path: string }
  | { kind: 'remove-key-dir'; host: string; path: string }
  | { kind: 'cancel-source-migration'; host: string; qmpSocket: string; nbdNodes: string[] }
  | { kind: 'resume-source'; host: string; qmpSocket: string }
  | { kind: 'restart-source'; host: string; vm: string };

export interface UndoContext {
  transport(host: string): Promise<HostTransport>;
  /** Starts a defined VM again on its host (offline migration stopped it). */
  startVm(host: string, vm: string): Promise<void>;
  /** Whether the VM's own QEMU runs on the host (its pid checked, not just its pid file). */
  isVmRunning(host: string, vm: string): Promise<boolean>;
}

/** The VM a QEMU undo step is about: its pid file is /run/ferry/NAME.pid. */
const vmOfPidFile = (pidFile: string) => posix.basename(pidFile, '.pid');

/** Journals written before steps named their helper's program still say it in the pid file's name. */
function helperIdentity(step: Extract<UndoStep, { kind: 'kill-process' }>): ExpectedProcess {
  if (step.program && step.argument) return { kind: 'helper', program: step.program, argument: step.argument };
  return posix.basename(step.pidFile).startsWith('nbd-')
    ? { kind: 'helper', program: 'qemu-nbd', argument: `--pid-file=${step.pidFile}` }
    : { kind: 'helper', program: 'qemu-img', argument: 'convert' };
}

/** Only this process is ever signalled; one still there after SIGKILL is an error, not a success. */
async function stopExpected(transport: HostTransport, pidFile: string, expect: ExpectedProcess): Promise<void> {
  const outcome = await stopProcess(transport, { pidFile, expect, graceSeconds: 3 });
  if (outcome.result === 'survived') {
    throw new FerryError('remote-command-failed', `Process ${outcome.pid} on ${transport.label} did not end even after SIGKILL`, { hint: 'It is stuck in the kernel (often on storage); look at the host.' });
  }
}

async function waitForJobsGone(qmp: QmpClient): Promise<void> {
  // A mirror stuck on a dead link ends only when its TCP connection does; give it time.
  for (let attempt = 0; attempt < 450; attempt += 1) {
    const jobs = await qmp.execute<Array<{ id: string; status: string }>>('query-jobs');
    for (const job of jobs.filter((candidate) => candidate.status === 'concluded')) await qmp.execute('job-dismiss', { id: job.id }).catch(() => undefined);
    if (jobs.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function runUndoStep(step: UndoStep, context: UndoContext): Promise<void> {
  const transport = await context.transport(step.host);
  switch (step.kind) {
    case 'kill-qemu':
      await stopExpected(transport, step.pidFile, expectVm(vmOfPidFile(step.pidFile)));
      await transport.run(shellCommand(['rm', '-f', '--', step.qmpSocket, ...vmRunFiles(vmOfPidFile(step.pidFile)).filter((file) => file !== step.pidFile)]));
      return;
    case 'kill-process':
      await stopExpected(transport, step.pidFile, helperIdentity(step));
      return;
    case 'remove-file':
      await transport.run(shellCommand(['rm', '-f', '--', step.path]));
      return;
    case 'remove-key-dir':
      // Only ever a directory Ferry made for one migration's keys.
      if (/^\/run\/ferry\/tls-[A-Za-z0-9-]+$/.test(step.path)) await transport.run(shellCommand(['rm', '-rf', '--', step.path]));
      return;
    case 'cancel-source-migration':
      await withMonitor(transport, step.qmpSocket, async (qmp) => {
        await qmp.execute('migrate_cancel');
        const jobs = await qmp.execute<Array<{ device: string }>>('query-block-jobs');
        for (const job of jobs) await qmp.execute('block-job-cancel', { device: job.device, force: true }).catch(() => undefined);
        if (jobs.length > 0) await waitForJobsGone(qmp);
        // A cancelled mirror leaves its NBD client node behind; it would keep the connection open.
        for (const node of step.nbdNodes) await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
      });
      return;
    case 'resume-source':
      await withMonitor(transport, step.qmpSocket, async (qmp) => {
        const status = await qmp.execute<{ status: string }>('query-status');
        if (status.status !== 'running') await qmp.execute('cont');
      });
      return;
    case 'restart-source': {
      if (!(await context.isVmRunning(step.host, step.vm))) await context.startVm(step.host, step.vm);
      return;
    }
  }
}

export function describeUndoStep(step: UndoStep): string {
  switch (step.kind) {
    case 'kill-qemu':
      return `stop the QEMU it started on ${step.host}`;
    case 'kill-process':
      return `stop a helper process on ${step.host}`;
    case 'remove-file':
      return `remove ${step.path} on ${step.host}`;
    case 'remove-key-dir':
      return `remove the migration keys on ${step.host}`;
    case 'cancel-source-migration':
      return `cancel the migration on ${step.host}`;
    case 'resume-source':
      return `resume the VM on ${step.host}`;
    case 'restart-source':
      return `start ${step.vm} again on ${step.host}`;
  }
}
