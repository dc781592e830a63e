import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { isSameFile } from './disks.js';

/** What a host's kernel says about the device behind a path; ids are empty when it has none. */
export interface DeviceIdentity {
  sizeBytes: number;
  /** World-wide name or SCSI/NVMe id: unique per physical or SAN disk by design. */
  wwid: string;
  /** device-mapper uuid (an LVM logical volume: LVM-<VG uuid><LV uuid>). */
  dmUuid: string;
  /** A loop device's backing file, as this host sees it. */
  loopFile: string;
}

/** Shell: the identity lines of the device behind `path`, or nothing (exit 1) when it is not one. */
export function deviceIdentityScript(path: string): string {
  return [
    `real=$(readlink -f -- ${shellCommand([path])}) && [ -b "$real" ] || exit 1`,
    's=/sys/class/block/$(basename "$real")',
    'echo "size $(( $(cat "$s/size") * 512 ))"',
    'for f in "$s/wwid" "$s/device/wwid"; do [ -r "$f" ] && echo "wwid $(cat "$f")"; done',
    '[ -r "$s/dm/uuid" ] && echo "dm $(cat "$s/dm/uuid")"',
    '[ -r "$s/loop/backing_file" ] && echo "loop $(cat "$s/loop/backing_file")"',
    'true',
  ].join('\n');
}

export function parseDeviceIdentity(output: string): DeviceIdentity | null {
  const identity: DeviceIdentity = { sizeBytes: NaN, wwid: '', dmUuid: '', loopFile: '' };
  for (const line of output.split('\n')) {
    const [key, ...rest] = line.split(' ');
    const value = rest.join(' ').trim();
    if (key === 'size') identity.sizeBytes = Number(value);
    else if (key === 'wwid' && identity.wwid === '') identity.wwid = value;
    else if (key === 'dm') identity.dmUuid = value;
    else if (key === 'loop') identity.loopFile = value;
  }
  return Number.isFinite(identity.sizeBytes) ? identity : null;
}

/**
 * How two hosts' devices are proven the same, or null when they cannot be. A path, a size or a
 * sample of the contents proves nothing (two blank devices, or a stale copy, look alike); only an
 * id that is unique by design does, or, for a loop device, its backing file proven the same file.
 */
export function sameDeviceEvidence(source: DeviceIdentity, destination: DeviceIdentity): 'wwid' | 'dm-uuid' | 'loop-file' | null {
  if (source.sizeBytes !== destination.sizeBytes) return null;
  if (source.wwid !== '' && source.wwid === destination.wwid) return 'wwid';
  if (source.dmUuid !== '' && source.dmUuid === destination.dmUuid) return 'dm-uuid';
  if (source.loopFile !== '' && source.loopFile === destination.loopFile) return 'loop-file';
  return null;
}

/** True when `path` names the very same device on both hosts (shared storage), proven, not assumed. */
export async function isSameDevice(source: HostTransport, destination: HostTransport, path: string): Promise<boolean> {
  const [here, there] = await Promise.all([source.exec(deviceIdentityScript(path)), destination.exec(deviceIdentityScript(path))]);
  const sourceIdentity = here.code === 0 ? parseDeviceIdentity(here.stdout) : null;
  const destinationIdentity = there.code === 0 ? parseDeviceIdentity(there.stdout) : null;
  if (!sourceIdentity || !destinationIdentity) return false;
  const evidence = sameDeviceEvidence(sourceIdentity, destinationIdentity);
  // The same backing path on two hosts may still be two files: proven as shared image files are.
  if (evidence === 'loop-file') return isSameFile(source, destination, sourceIdentity.loopFile);
  return evidence !== null;
}
