import { createHash } from 'node:crypto';

/**
 * The host-side tap device of a VM's NIC on a bridge. Interface names are at most 15 bytes, and a
 * VM name may be longer, so the name is a hash: the same VM and NIC index give the same device on
 * every host (so the per-VM network graph and the migration destination find it without asking).
 */
export function tapDeviceName(vmName: string, nicIndex: number): string {
  const digest = createHash('sha256').update(`${vmName}\0${nicIndex}`).digest('hex').slice(0, 10);
  return `fy${digest}${nicIndex.toString(36).slice(-1)}`;
}
