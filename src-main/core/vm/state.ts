import type { VmRunState } from '../api/types.js';
import { isFerryError } from '../errors.js';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { vmLayout } from './layout.js';
import { withMonitor } from './monitor.js';

/** Which of the named VMs have a live QEMU, by pid file; one round trip for any number of VMs. */
export async function livePids(transport: HostTransport, names: string[]): Promise<Map<string, number>> {
  const pids = new Map<string, number>();
  if (names.length === 0) return pids;
  const script = names
    .map((name) => {
      const pidFile = shellQuote(vmLayout(name).pidFile);
      // `read` and `kill` are shell builtins: no fork per VM, which matters with hundreds of VMs.
      return `p=; { read -r p < ${pidFile}; } 2>/dev/null; if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then printf '%s %s\\n' ${shellQuote(name)} "$p"; fi`;
    })
    .join('; ');
  for (const line of (await transport.run(`${script}; true`)).split('\n')) {
    const [name, pid] = line.trim().split(' ');
    if (name && pid && /^\d+$/.test(pid)) pids.set(name, Number(pid));
  }
  return pids;
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
    throw error;
  }
}

/** Waits for a process to exit, polling on the host itself: one round trip, 50 ms resolution. */
export async function waitForExit(transport: HostTransport, pid: number, timeoutMs: number): Promise<boolean> {
  // `timeout` bounds the wait by the clock; counting polls would drift by the cost of each one.
  const seconds = (Math.max(50, timeoutMs) / 1000).toFixed(2);
  const script = `timeout ${seconds} sh -c 'while kill -0 ${pid} 2>/dev/null; do sleep 0.05; done'`;
  const waited = await transport.exec(script, { timeoutMs: timeoutMs + 30_000 });
  if (waited.code === 0) return true;
  return (await transport.exec(`kill -0 ${pid} 2>/dev/null`)).code !== 0;
}
