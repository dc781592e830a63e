import { FerryError, isFerryError } from '../errors.js';
import { QmpClient } from '../qmp/index.js';
import type { HostTransport } from '../ssh/transport.js';

const GREETING_TIMEOUT_MS = 5_000;

/**
 * Opens QMP on a VM's monitor socket through the host transport (SSH streamlocal forwarding or a
 * local connect). QEMU serves one client per socket; a second one gets no greeting, which is
 * reported as "busy" rather than as a hang.
 */
export async function openMonitor(transport: HostTransport, socket: string): Promise<QmpClient> {
  const stream = await transport.openUnixSocket(socket);
  try {
    return await QmpClient.connect(stream, { timeoutMs: GREETING_TIMEOUT_MS });
  } catch (error) {
    stream.destroy();
    if (isFerryError(error, 'qmp-timeout')) {
      throw new FerryError('busy', `The QEMU monitor at ${socket} on ${transport.label} did not greet`, {
        hint: 'Another program (or another Ferry) holds its QMP connection; close it and retry.',
        cause: error,
      });
    }
    throw error;
  }
}

export async function withMonitor<T>(transport: HostTransport, socket: string, action: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = await openMonitor(transport, socket);
  try {
    return await action(qmp);
  } finally {
    await qmp.close();
  }
}
