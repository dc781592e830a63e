import { FerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import { runVirsh } from './virsh.js';

/** Asks the guest to power off (ACPI) and forces it off after `timeoutMs`; resolves once libvirt says it is shut off. */
export async function stopDomain(host: HostTransport, vm: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  await runVirsh(host, ['shutdown', vm]).catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal.aborted) throw new FerryError('cancelled', `Cancelled while ${vm} was shutting down`);
    if ((await runVirsh(host, ['domstate', vm])).trim() === 'shut off') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await runVirsh(host, ['destroy', vm]);
}
