import type { VmDetails as VmDetailsData, VmSummary } from '../../../../src-main/core/api/types';
import { KeyValue } from '../../components/common';
import { formatMiB } from '../../util/format';

/** What the VM is: its virtual hardware and where its monitor is. */
export function OverviewTab({ details, summary }: { details: VmDetailsData | null; summary: VmSummary | undefined }) {
  const def = details?.definition;
  return (
    <div className="vm-body">
      <div className="vm-info">
        <h3 className="section-title">Overview</h3>
        <KeyValue
          rows={[
            ['vCPUs', String(details?.vcpus ?? summary?.vcpus ?? '—')],
            ['Memory', details ? formatMiB(details.memoryMiB) : summary ? formatMiB(summary.memoryMiB) : '—'],
            ['Machine', def?.machineType ?? '—'],
            ['CPU model', def?.cpuModel ?? '—'],
            ['Acceleration', def?.accel ?? '—'],
            ['Network', def?.nic ? `${def.nic.model} (${def.nic.mac})` : 'none'],
            ['Boot', def?.kernel ? `kernel ${def.kernel.path}` : 'disk'],
            ['Monitor socket', <code key="q">{details?.qmpSocket ?? '—'}</code>],
          ]}
        />
        <h3 className="section-title">Disks</h3>
        <table className="grid">
          <thead>
            <tr>
              <th>Path</th>
              <th>Format</th>
              <th>Cache</th>
            </tr>
          </thead>
          <tbody>
            {(def?.disks ?? []).length === 0 ? (
              <tr>
                <td colSpan={3} className="muted">
                  No disks
                </td>
              </tr>
            ) : null}
            {(def?.disks ?? []).map((d) => (
              <tr key={d.path}>
                <td className="mono small">{d.path}</td>
                <td>{d.format}</td>
                <td>{d.cache}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
