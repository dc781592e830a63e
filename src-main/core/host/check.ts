import type { HostCheckReport } from '../api/types.js';
import { toFerryError } from '../errors.js';
import { LocalTransport } from '../ssh/local.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { hostCheckItems, type ConnectionFacts } from './check-items.js';
import { hostCheckScript, parseSections } from './check-script.js';

/** Only what the check's own script prints: a socket in the run directory and a pid. */
const SOCKET_PROBE = /^(\/[A-Za-z0-9._/-]+\.qmp) (\d+)$/;

/** Transports that may run commands in a host session say why they cannot (see SshConnection). */
function hostSessionUnavailable(transport: HostTransport): string | undefined {
  if (!('hostSessionUnavailable' in transport)) return undefined;
  const reason: unknown = transport.hostSessionUnavailable;
  return typeof reason === 'string' ? reason : undefined;
}

async function openTestSocket(transport: HostTransport, path: string): Promise<ConnectionFacts['streamLocal']> {
  try {
    const stream = await transport.openUnixSocket(path);
    stream.destroy();
    return { opened: true };
  } catch (error) {
    return { opened: false, reason: toFerryError(error).message };
  }
}

/**
 * Checks a host against what Ferry needs, item by item, each failure with what to install or
 * change. One script gathers the shell facts; a forward to a throwaway QMP socket shows whether
 * sshd allows stream-local forwarding.
 */
export async function checkHost(name: string, transport: HostTransport): Promise<HostCheckReport> {
  const overSsh = !(transport instanceof LocalTransport);
  const sections = parseSections(await transport.run(hostCheckScript({ socketProbe: overSsh }), { timeoutMs: 60_000 }));
  const probe = SOCKET_PROBE.exec(sections.get('socketprobe')?.[0] ?? '');
  let streamLocal: ConnectionFacts['streamLocal'];
  if (probe?.[1] !== undefined && probe[2] !== undefined) {
    try {
      streamLocal = await openTestSocket(transport, probe[1]);
    } finally {
      await transport.exec(`${shellCommand(['kill', probe[2]])} 2>/dev/null; ${shellCommand(['rm', '-f', '--', probe[1]])}`).catch(() => undefined);
    }
  }
  const items = hostCheckItems(sections, { overSsh, streamLocal, hostSessionUnavailable: hostSessionUnavailable(transport) });
  return { host: name, ok: items.every((entry) => entry.level !== 'error'), items };
}
