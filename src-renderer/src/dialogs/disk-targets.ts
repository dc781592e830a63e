import { describeDeviceUse } from '../../../src-main/core/api/block-device-use';
import type { PreflightReport, VolumeInfo } from '../../../src-main/core/api/types';

/** One destination device the user may pick for a source disk, with why not when it cannot be. */
export interface DeviceChoice {
  path: string;
  label: string;
  /** Why it cannot take this disk (in use, too small); null when it can. */
  refusal: string | null;
  /** What is on it that an overwrite would destroy (a filesystem, a PV, a partition table). */
  signature: string | null;
}

/** The devices of the destination's disk pools as choices for a source disk of `sourceBytes`. */
export function deviceChoices(devices: VolumeInfo[], sourceBytes: number | null, formatBytes: (bytes: number) => string): DeviceChoice[] {
  return devices.map((device) => {
    const use = device.device?.use ?? { kind: 'free' as const };
    const blocked = use.kind === 'mounted' || use.kind === 'vm' || use.kind === 'holds-devices';
    const tooSmall = sourceBytes !== null && device.virtualSizeBytes < sourceBytes;
    const refusal = blocked ? describeDeviceUse(use) : tooSmall ? `too small: ${formatBytes(device.virtualSizeBytes)}, the disk has ${formatBytes(sourceBytes)}` : null;
    return {
      path: device.path,
      label: `${device.path} (${formatBytes(device.virtualSizeBytes)}, ${refusal ?? describeDeviceUse(use)})`,
      refusal,
      signature: use.kind === 'signature' ? describeDeviceUse(use) : null,
    };
  });
}

// The pre-flight's words for a device with a signature: "<path> on <host>[ (<node>)] carries <what> (found by blkid -p)."
const CARRIES = /^(\S+) on \S+(?: \(\S+\))? carries (.+?)(?: \(found by blkid -p\)\.|; it will be overwritten, as allowed\.)$/;

/** Device path -> what the pre-flight found on it, for the devices it reported a signature on. */
export function signatureFindings(report: PreflightReport | null): Map<string, string> {
  const found = new Map<string, string>();
  for (const item of report?.items ?? []) {
    if (item.check !== 'device') continue;
    const match = CARRIES.exec(item.message);
    if (match?.[1] && match[2]) found.set(match[1], match[2]);
  }
  return found;
}
