import type { LibvirtDisk, LibvirtNic, VmDetails as VmDetailsData } from '../../../../src-main/core/api/types';
import { KeyValue, useAction, ErrorBox } from '../../components/common';
import { useFerry } from '../../store/context';
import { formatBytes, formatMiB } from '../../util/format';
import { LIBVIRT_INSTEAD } from '../../util/hypervisor';
import './OverviewTab.css';

function cpuText(mode: string | null, model: string | null): string {
  if (mode === null && model === null) return 'libvirt default';
  if (mode === 'custom' || mode === null) return model ?? 'custom';
  return model ? `${mode} (${model})` : mode;
}

function nicText(nic: LibvirtNic): string {
  const where = nic.source ? `${nic.type} ${nic.source}` : nic.type;
  return `${nic.model ?? 'default model'} on ${where}${nic.mac ? ` (${nic.mac})` : ''}`;
}

function diskKind(disk: LibvirtDisk): string {
  return disk.device === 'disk' ? disk.type : `${disk.device}, ${disk.type}`;
}

/** A libvirt domain as its domain XML says, with the one setting Ferry changes for it: autostart. */
export function LibvirtOverview({ details, onChanged }: { details: VmDetailsData; onChanged(vm: VmDetailsData): void }) {
  const api = useFerry((s) => s.api);
  const toggle = useAction();
  const facts = details.libvirt;
  if (!facts) return null;
  const setAutostart = () =>
    void toggle.run(async () => {
      onChanged(await api.call('vms.update', { host: details.host, name: details.name, autostart: !facts.autostart }));
    });
  return (
    <div className="vm-body">
      <div className="vm-info">
        <h3 className="section-title">Overview</h3>
        <p className="muted">
          libvirtd on {details.host} runs this domain. {LIBVIRT_INSTEAD.hardware}
        </p>
        <ErrorBox error={toggle.error} />
        <KeyValue
          rows={[
            ['Managed by', 'libvirt'],
            ['State', facts.stateText],
            ['UUID', <code key="u">{facts.uuid}</code>],
            ['Domain ID', facts.id === null ? 'none (not running)' : String(facts.id)],
            ['Domain type', facts.domainType === 'kvm' ? 'kvm (hardware acceleration)' : `${facts.domainType} (TCG emulation)`],
            ['vCPUs', String(details.vcpus)],
            ['Memory', formatMiB(details.memoryMiB)],
            ['Machine', facts.machineType ?? 'libvirt default'],
            ['CPU', cpuText(facts.cpuMode, facts.cpuModel)],
            ['Firmware', facts.firmware === 'uefi' ? 'UEFI' : 'BIOS'],
            ['Persistent', facts.persistent ? 'Yes: libvirt keeps its definition' : 'No: a transient domain, gone once it stops'],
            [
              'Autostart',
              <span key="a">
                {facts.autostart ? 'On: libvirtd starts it when the host boots' : 'Off'}{' '}
                <button type="button" className="small" disabled={toggle.busy || !facts.persistent} onClick={setAutostart}>
                  {facts.autostart ? 'Turn off' : 'Turn on'}
                </button>
              </span>,
            ],
            [
              'Network',
              facts.nics.length === 0 ? (
                'none'
              ) : (
                <ul key="n" className="overview-list">
                  {facts.nics.map((nic, index) => (
                    <li key={index}>{nicText(nic)}</li>
                  ))}
                </ul>
              ),
            ],
            ['Serial file', facts.serialFile ? <code key="s">{facts.serialFile}</code> : 'none (use virsh console)'],
          ]}
        />
        <h3 className="section-title">Disks</h3>
        <table className="grid" aria-label="Disks">
          <thead>
            <tr>
              <th>Target</th>
              <th>Source</th>
              <th>Kind</th>
              <th>Format</th>
              <th>Size</th>
              <th>Cache</th>
            </tr>
          </thead>
          <tbody>
            {facts.disks.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted">
                  No disks
                </td>
              </tr>
            ) : null}
            {facts.disks.map((disk) => {
              const usage = disk.path === null ? undefined : details.diskUsage.find((u) => u.path === disk.path);
              return (
                <tr key={disk.target}>
                  <td>
                    {disk.target}
                    {disk.bus ? <span className="muted small"> ({disk.bus})</span> : null}
                    {disk.readOnly ? <span className="muted small"> read-only</span> : null}
                  </td>
                  <td className="mono small" title={disk.backingPath ? `backing file ${disk.backingPath}` : undefined}>
                    {disk.path ?? '—'}
                    {usage?.problem ? <div className="warning-box danger small">{usage.problem}</div> : null}
                  </td>
                  <td>{diskKind(disk)}</td>
                  <td>{disk.format ?? 'libvirt default'}</td>
                  <td>{usage?.virtualSizeBytes != null ? formatBytes(usage.virtualSizeBytes) : '—'}</td>
                  <td>{disk.cache ?? 'default (writeback)'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
