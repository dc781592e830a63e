import { useState } from 'react';
import type { VmAutostartFacts, VmConfinement, VmDefinition, VmDetails as VmDetailsData, VmNic, VmSummary } from '../../../../src-main/core/api/types';
import { definitionNics } from '../../../../src-main/core/api/vm-hardware';
import { KeyValue } from '../../components/common';
import { EditVmDialog } from '../../dialogs/EditVmDialog';
import { useFerry } from '../../store/context';
import { formatBytes, formatMiB } from '../../util/format';
import './OverviewTab.css';

function nicText(nic: VmNic): string {
  const network = nic.network.type === 'bridge' ? `bridge ${nic.network.bridge}` : 'user-mode';
  return `${nic.model} on ${network} (${nic.mac})`;
}

function bootText(def: VmDefinition): string {
  if (def.kernel) return `kernel ${def.kernel.path}`;
  const names = { cdrom: 'CD-ROM', disk: 'disk', network: 'network' } as const;
  return def.boot && def.boot.length > 0 ? def.boot.map((device) => names[device]).join(', then ') : 'firmware default (disk)';
}

function confinementText(confinement: VmConfinement | undefined, running: boolean): string {
  if (!confinement) return '—';
  if (confinement.sandbox === null) return 'Adopted QEMU: whatever its own command line set';
  const sandbox = 'seccomp sandbox (obsolete system calls and scheduler/affinity changes refused)';
  if (!running) return `Starts under a ${sandbox}, as root`;
  const filter = confinement.seccompActive ? `${sandbox}, active` : 'no seccomp filter in force';
  return `${filter}; runs as ${confinement.user ?? 'an unknown user'}`;
}

function autostartText(on: boolean, facts: VmAutostartFacts | undefined): string {
  if (!on) return 'Off';
  if (!facts?.script) return 'On, but the host has no boot script for it yet (it is written when the VM is saved or started)';
  if (facts.bootService === 'systemd-enabled') return 'On: Ferry’s systemd unit starts it when the host boots';
  if (facts.bootService === 'systemd-disabled') return 'On, but Ferry’s systemd unit is not enabled on this host: run `systemctl enable ferry-autostart.service` there';
  return 'On, but this host runs no systemd: nothing runs Ferry’s boot scripts in /var/lib/ferry/autostart at boot';
}

/** What the VM is: its virtual hardware, how it is confined, and where its monitor is. */
export function OverviewTab({ details, summary }: { details: VmDetailsData | null; summary: VmSummary | undefined }) {
  const api = useFerry((s) => s.api);
  const vmChanged = useFerry((s) => s.vmChanged);
  const [editing, setEditing] = useState(false);
  // What the last save returned, until the parent reads the VM again.
  const [saved, setSaved] = useState<{ over: VmDetailsData | null; vm: VmDetailsData } | null>(null);
  const shown = saved && saved.over === details ? saved.vm : details;
  const def = shown?.definition;
  const state = summary?.state ?? shown?.state;
  const running = shown?.pid !== undefined;
  const editable = def && !def.adopted && (state === 'shutoff' || state === 'crashed');
  const nics = def ? definitionNics(def) : [];
  return (
    <div className="vm-body">
      <div className="vm-info">
        <h3 className="section-title">Overview</h3>
        {def && !def.adopted ? (
          <p>
            <button type="button" disabled={!editable} aria-describedby={editable ? undefined : 'vm-edit-why'} onClick={() => setEditing(true)}>
              Edit hardware…
            </button>{' '}
            {editable ? null : (
              <span id="vm-edit-why" className="muted small">
                Shut the VM down to change its hardware.
              </span>
            )}
          </p>
        ) : null}
        <KeyValue
          rows={[
            ['vCPUs', String(shown?.vcpus ?? summary?.vcpus ?? '—')],
            ['Memory', shown ? formatMiB(shown.memoryMiB) : summary ? formatMiB(summary.memoryMiB) : '—'],
            ['Machine', def?.machineType ?? '—'],
            ['CPU model', def?.cpuModel ?? '—'],
            ['Acceleration', def?.accel ?? '—'],
            ['Firmware', def ? (def.firmware === 'uefi' ? 'UEFI (OVMF from the host, own variable store)' : 'BIOS (SeaBIOS)') : '—'],
            [
              'Network',
              nics.length === 0 ? (
                'none'
              ) : (
                <ul key="n" className="overview-list">
                  {nics.map((nic, index) => (
                    <li key={index}>{nicText(nic)}</li>
                  ))}
                </ul>
              ),
            ],
            ['CD-ROM', def?.cdrom ? <code key="c">{def.cdrom}</code> : 'none'],
            ['Boot', def ? bootText(def) : '—'],
            ['Confinement', confinementText(shown?.confinement, running)],
            ['Autostart', def ? autostartText(def.autostart === true, shown?.autostartFacts) : '—'],
            ['Monitor socket', <code key="q">{shown?.qmpSocket ?? '—'}</code>],
            ['Serial log', <code key="l">{shown?.serialLog ?? '—'}</code>],
          ]}
        />
        <h3 className="section-title">Disks</h3>
        <table className="grid">
          <thead>
            <tr>
              <th>Path</th>
              <th>Format</th>
              <th>Size</th>
              <th>Allocated</th>
              <th>Cache</th>
            </tr>
          </thead>
          <tbody>
            {(def?.disks ?? []).length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  No disks
                </td>
              </tr>
            ) : null}
            {(def?.disks ?? []).map((d) => {
              const usage = shown?.diskUsage?.find((u) => u.path === d.path);
              return (
                <tr key={d.path}>
                  <td className="mono small" title={usage?.backingFile ? `backing file ${usage.backingFile}` : undefined}>
                    {d.path}
                    {usage?.blockDevice ? <div className="muted small">Block device{usage.device ? `: ${usage.device}` : ''}</div> : null}
                    {usage?.problem ? <div className="warning-box danger small">{usage.problem}</div> : null}
                  </td>
                  <td>{d.format}</td>
                  <td>{usage?.virtualSizeBytes != null ? formatBytes(usage.virtualSizeBytes) : '—'}</td>
                  <td>{usage?.allocationBytes != null ? formatBytes(usage.allocationBytes) : '—'}</td>
                  <td>{d.cache}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {editing && def && shown ? (
        <EditVmDialog
          api={api}
          host={shown.host}
          definition={def}
          onClose={() => setEditing(false)}
          onSaved={(vm) => {
            setSaved({ over: details, vm });
            vmChanged(vm);
            setEditing(false);
          }}
        />
      ) : null}
    </div>
  );
}
