import { run, type ExecOptions, type ExecResult } from './exec.js';
import type { LabHost, LabStatus } from './types.js';

/** Options that make the system ssh client trust exactly the lab's host keys and never prompt. */
export function sshArgs(lab: LabStatus, host: LabHost): string[] {
  return [
    '-i', host.identityFile,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10',
    '-p', String(host.port),
    `${host.user}@${host.address}`,
  ];
}

/** Runs a shell command on a lab host; rejects on non-zero exit unless allowFail is set. */
export function sshRun(lab: LabStatus, host: LabHost, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  return run('ssh', [...sshArgs(lab, host), command], { timeoutMs: 60_000, ...opts });
}
