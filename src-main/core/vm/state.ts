import type { VmRunState } from '../api/types.js';
import { isFerryError } from '../errors.js';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from './layout.js';
import { withMonitor } from './monitor.js';
import { expectVm, verifiedPids } from './qemu-process.js';

/**
 * Which of the named VMs have a live QEMU, by pid file; one round trip for any number of VMs. A pid
 * file naming a process that is not that VM's QEMU (its pid reused after QEMU was killed) counts
 * as no QEMU. Adopted VMs are recognised by their monitor socket, given in `adoptedSockets`.
 */
export async function livePids(transport: HostTransport, names: string[], adoptedSockets: ReadonlyMap<string, string> = new Map()): Promise<Map<string, number>> {
  return verifiedPids(transport, names.map((name) => ({ label: name, pidFile: vmLayout(name).pidFile, expect: expectVm(name, adoptedSockets.get(name)) })));
}

/** Names of VMs whose monitor socket exists in /run/ferry, including ones with no definition. */
export async function socketNames(transport: HostTransport, runDir: string): Promise<string[]> {
  const output = await transport.run(`cd ${shellQuote(runDir)} 2>/dev/null || exit 0; for s in *.qmp; do [ -S "$s" ] && echo "\${s%.qmp}"; done; true`);
  return output.split('\n').filter((line) => line !== '');
}

export function runStateFromQemu(status: string): VmRunState {
  switch (status) {
    case 'running':
      return 'running';
    case 'paused':
    case 'prelaunch':
    case 'debug':
    case 'io-error':
    case 'restore-vm':
    case 'save-vm':
    case 'watchdog':
      return 'paused';
    case 'inmigrate':
      return 'inmigrate';
    case 'postmigrate':
    case 'finish-migrate':
      return 'postmigrate';
    case 'suspended':
      return 'suspended';
    case 'shutdown':
      return 'shutting-down';
    case 'guest-panicked':
    case 'internal-error':
      return 'crashed';
    default:
      return 'unknown';
  }
}

export interface QemuStatus {
  state: VmRunState;
  qemuStatus?: string;
}

/** Asks the running QEMU itself; a monitor held by someone else leaves the state 'unknown'. */
export async function queryStatus(transport: HostTransport, socket: string): Promise<QemuStatus> {
  try {
    return await withMonitor(transport, socket, async (qmp) => {
      const result = await qmp.execute<{ status: string; running: boolean }>('query-status');
      return { state: runStateFromQemu(result.status), qemuStatus: result.status };
    });
  } catch (error) {
    if (isFerryError(error, 'busy')) return { state: 'unknown' };
    // QEMU exited between finding its pid and asking it (a VM shut down, or moved away, just
    // then): that one VM is gone, which must not fail a whole host's listing.
    if (isFerryError(error, 'qmp-disconnected') || (isFerryError(error, 'connection-failed') && /socket/i.test(error.message))) return { state: 'shutoff' };
    throw error;
  }
}
