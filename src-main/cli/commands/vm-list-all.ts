import type { Command } from 'commander';
import type { VmSummary } from '../../core/api/types.js';
import { toFerryError } from '../../core/errors.js';
import { printError, printResult, table } from '../output.js';
import { cliEngine, jsonFlag } from '../run.js';

/** One saved host's answer: its VMs, or why it could not be asked. */
export type HostVms = { host: string; vms: VmSummary[] } | { host: string; error: { code: string; message: string } };

/** Every saved host asked at once; a host that cannot be reached is one answer, not a failure of all. */
export async function vmsOnEveryHost(): Promise<HostVms[]> {
  const engine = cliEngine();
  const hosts = await engine.call('hosts.list', {});
  return Promise.all(
    hosts.map(async ({ name }): Promise<HostVms> => {
      try {
        return { host: name, vms: await engine.call('vms.list', { host: name }) };
      } catch (error) {
        const ferryError = toFerryError(error);
        return { host: name, error: { code: ferryError.code, message: ferryError.message } };
      }
    }),
  );
}

export function describeHostVms(answers: HostVms[]): string {
  if (answers.length === 0) return 'No hosts yet: add one with `ferry host add`.';
  const rows = answers.flatMap((answer) =>
    'error' in answer
      ? [[answer.host, '-', 'unreachable', '-', '-', answer.error.message]]
      : answer.vms.length === 0
        ? [[answer.host, '-', 'no VMs', '-', '-', '']]
        : answer.vms.map((vm) => [answer.host, vm.name, vm.state, `${vm.memoryMiB} MiB`, vm.vcpus, '']),
  );
  return table(['HOST', 'NAME', 'STATE', 'MEMORY', 'VCPUS', 'NOTE'], rows);
}

export async function listAllVms(command: Command): Promise<void> {
  const json = jsonFlag(command);
  try {
    const answers = await vmsOnEveryHost();
    printResult(answers, { json }, () => describeHostVms(answers));
  } catch (error) {
    printError(error, { json });
  }
}
