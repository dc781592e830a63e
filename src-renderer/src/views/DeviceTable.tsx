import type { VolumeInfo } from '../../../src-main/core/api/types';
import { describeDeviceUse } from '../../../src-main/core/api/block-device-use';
import { formatBytes } from '../util/format';
import './device-table.css';

/** The host's root disk can be mounted at dozens of places; three say enough, the rest is in the tooltip. */
const SHOWN_MOUNTS = 3;

function shortUse(volume: VolumeInfo): string {
  const use = volume.device?.use;
  if (!use) return 'unknown';
  if (use.kind === 'mounted' && use.mountpoints.length > SHOWN_MOUNTS) {
    return `${describeDeviceUse({ kind: 'mounted', mountpoints: use.mountpoints.slice(0, SHOWN_MOUNTS) })} and ${use.mountpoints.length - SHOWN_MOUNTS} more`;
  }
  return describeDeviceUse(use);
}

/**
 * The devices of a disk pool with their size and use. No delete button: Ferry never removes or
 * partitions a device, that is done on the host.
 */
export function DeviceTable({ devices }: { devices: VolumeInfo[] | undefined }) {
  return (
    <table className="grid device-table" aria-label="Block devices">
      <thead>
        <tr>
          <th>Device</th>
          <th>Path</th>
          <th>Size</th>
          <th>Type</th>
          <th>Use</th>
        </tr>
      </thead>
      <tbody>
        {devices && devices.length === 0 ? (
          <tr>
            <td colSpan={5} className="muted">
              No block devices here.
            </td>
          </tr>
        ) : null}
        {(devices ?? []).map((device) => {
          const use = shortUse(device);
          const fullUse = device.device ? describeDeviceUse(device.device.use) : 'unknown';
          const inUse = device.device?.use.kind !== 'free';
          return (
            <tr key={device.name} data-device={device.path}>
              <td>{device.name}</td>
              <td className="mono small" title={device.device && device.device.devicePath !== device.path ? `links to ${device.device.devicePath}` : undefined}>
                {device.path}
              </td>
              <td>{formatBytes(device.virtualSizeBytes)}</td>
              <td>
                {device.device?.type ?? '—'}
                {device.device?.readOnly ? ' (read-only)' : ''}
              </td>
              <td data-use={device.device?.use.kind} title={fullUse === use ? undefined : fullUse}>{inUse ? <strong>{use}</strong> : use}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
