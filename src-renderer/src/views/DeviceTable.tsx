import type { VolumeInfo } from '../../../src-main/core/api/types';
import { describeDeviceUse } from '../../../src-main/core/api/block-device-use';
import { formatBytes } from '../util/format';

/**
 * The devices of a disk pool with their size and use. No delete button: Ferry never removes or
 * partitions a device, that is done on the host.
 */
export function DeviceTable({ devices }: { devices: VolumeInfo[] | undefined }) {
  return (
    <table className="grid" aria-label="Block devices">
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
          const use = device.device ? describeDeviceUse(device.device.use) : 'unknown';
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
              <td data-use={device.device?.use.kind}>{inUse ? <strong>{use}</strong> : use}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
