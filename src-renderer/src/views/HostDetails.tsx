import { useState } from 'react';
import type { QemuFeatures } from '../../../src-main/core/api/types';
import { useFerry } from '../store/context';
import { ErrorBox, KeyValue, StateBadge, StateDot, UsageBar, stateLabel } from '../components/common';
import { formatBytes, formatMiB } from '../util/format';
import { StorageTab } from './StorageTab';
import { HostPerformanceTab } from './HostPerformanceTab';
import { Tabs } from '../components/Tabs';
import { ConfirmDialog } from '../dialogs/ConfirmDialog';
import { rowKey } from '../components/row-keys';
import { HostCheckPanel } from '../components/HostCheckPanel';
import { LIBVIRT_INSTEAD, hypervisorMeaning } from '../util/hypervisor';

type HostTab = 'overview' | 'storage' | 'performance';
const notConnected = <div className="empty-state">Connect to see this host’s details.</div>;

export function HostDetails({ hostName }: { hostName: string }) {
  const host = useFerry((s) => s.hosts.find((h) => h.name === hostName));
  const [tab, setTab] = useState<HostTab>('overview');
  const connectHost = useFerry((s) => s.connectHost);
  const removeHost = useFerry((s) => s.removeHost);
  const openDialog = useFerry((s) => s.openDialog);
  const connectError = useFerry((s) => s.connectErrors[hostName]);
  const [confirmRemove, setConfirmRemove] = useState(false);
  if (!host) return <div className="empty-state">This connection no longer exists.</div>;
  const connected = host.state === 'connected';

  return (
    <section className="details" aria-label={`Host ${host.name}`}>
      <header className="details-header">
        <div>
          <h1>
            {host.name} <StateBadge state={host.state} />
          </h1>
          <div className="muted mono">
            {host.uri}
            {host.sudo ? <span title={`Ferry runs its commands on ${host.name} as root with sudo -n`}> · through sudo</span> : null}
          </div>
          <div className="muted host-kind-line">
            {hypervisorMeaning(host.hypervisor)}
          </div>
        </div>
        <div className="header-actions">
          {!connected ? (
            <button type="button" className="primary" disabled={host.state === 'connecting'} onClick={() => void connectHost(host.name)}>
              Connect
            </button>
          ) : null}
          {connected ? (
            <button type="button" onClick={() => openDialog({ kind: 'evacuate', host: host.name })}>
              Evacuate host…
            </button>
          ) : null}
          <button type="button" onClick={() => setConfirmRemove(true)}>
            Remove Connection
          </button>
        </div>
      </header>
      <ErrorBox error={connectError} title="Could not connect" />
      {confirmRemove ? (
        <ConfirmDialog title={`Remove ${host.name}?`} confirmLabel="Remove connection" action={() => removeHost(host.name)} onDone={() => setConfirmRemove(false)} onCancel={() => setConfirmRemove(false)}>
          <p>
            Ferry forgets the connection <strong>{host.name}</strong> ({host.uri}). Nothing on the host changes: its VMs and storage stay as they are, and you can add it again later.
          </p>
        </ConfirmDialog>
      ) : null}
      {host.stateReason && !connectError ? <div className="warning-box">{host.stateReason}</div> : null}
      <Tabs
        label={`${host.name} views`}
        selected={tab}
        onSelect={setTab}
        tabs={[
          { id: 'overview', label: 'Overview', render: () => (connected ? <HostOverview hostName={host.name} libvirt={host.hypervisor === 'libvirt'} /> : notConnected) },
          { id: 'storage', label: 'Storage', render: () => (connected ? <StorageTab hostName={host.name} /> : notConnected) },
          { id: 'performance', label: 'Performance', render: () => (connected ? <HostPerformanceTab hostName={host.name} /> : notConnected) },
        ]}
      />
    </section>
  );
}

function HostOverview({ hostName, libvirt }: { hostName: string; libvirt: boolean }) {
  const info = useFerry((s) => s.info[hostName]);
  const infoError = useFerry((s) => s.infoErrors[hostName]);
  const vms = useFerry((s) => s.vms[hostName]);
  const vmError = useFerry((s) => s.vmErrors[hostName]);
  const select = useFerry((s) => s.select);
  const running = (vms ?? []).filter((v) => v.state === 'running');
  const usedMem = info ? info.memoryTotalBytes - info.memoryAvailableBytes : 0;
  return (
    <div className="overview">
      <ErrorBox error={infoError} title="Host information" />
      <HostCheckPanel hostName={hostName} />
      {info ? (
        <div className="cards">
          <div className="card">
            <div className="card-title">CPU</div>
            <div className="big">{info.cpuCount} CPUs</div>
            <div className="muted">{info.cpuModel}</div>
          </div>
          <div className="card">
            <div className="card-title">Memory</div>
            <div className="big">{formatBytes(info.memoryTotalBytes)}</div>
            <UsageBar used={usedMem} total={info.memoryTotalBytes} label="Memory in use" />
            <div className="muted">
              {formatBytes(info.memoryAvailableBytes)} available · {running.reduce((a, v) => a + v.memoryMiB, 0)} MiB to running VMs
            </div>
          </div>
          <div className="card">
            <div className="card-title">Hypervisor</div>
            <div className="big">QEMU {info.qemuVersion}</div>
            {libvirt ? <div>Domains run by libvirtd</div> : null}
            <div className="muted mono">{info.qemuBinary}</div>
            <QemuFeatureList features={info.qemuFeatures} />
          </div>
          <div className="card">
            <div className="card-title">KVM</div>
            <div className="big">{info.kvmUsable ? 'Available' : 'Not available'}</div>
            <div className="muted">{info.kvmUsable ? 'Hardware acceleration' : 'VMs run with TCG emulation (slower)'}</div>
          </div>
        </div>
      ) : !infoError ? (
        <div className="muted">Reading host information…</div>
      ) : null}
      {info ? (
        <KeyValue
          rows={[
            ['Hostname', info.hostname],
            ['Default machine type', info.defaultMachineType],
            ['Machine types', `${info.machineTypes.length} available`],
            ['Ferry state directory', <code key="s">{info.stateDir}</code>],
          ]}
        />
      ) : null}
      <h3 className="section-title">Virtual machines</h3>
      <ErrorBox error={vmError} />
      <table className="grid">
        <thead>
          <tr>
            <th>Name</th>
            <th>State</th>
            <th>vCPUs</th>
            <th>Memory</th>
            <th>PID</th>
          </tr>
        </thead>
        <tbody>
          {!vms ? (
            <tr>
              <td colSpan={5} className="muted" aria-busy="true">
                Loading VMs…
              </td>
            </tr>
          ) : vms.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted">
                {libvirt ? `No domains on this host yet. ${LIBVIRT_INSTEAD.newVm}` : 'No VMs on this host yet. Use “New VM”.'}
              </td>
            </tr>
          ) : null}
          {(vms ?? []).map((vm) => (
            <tr
              key={vm.name}
              className="clickable"
              tabIndex={0}
              onClick={() => select({ kind: 'vm', host: hostName, vm: vm.name })}
              onKeyDown={(event) => rowKey(event, () => select({ kind: 'vm', host: hostName, vm: vm.name }))}
            >
              <td>
                <StateDot state={vm.state} /> {vm.name}
              </td>
              <td>{stateLabel(vm.state)}</td>
              <td>{vm.vcpus}</td>
              <td>{formatMiB(vm.memoryMiB)}</td>
              <td className="mono">{vm.pid ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const FEATURE_LABELS: ReadonlyArray<[keyof QemuFeatures, string, string]> = [
  ['postcopy', 'Postcopy', 'the guest runs on the destination while the rest of its memory follows'],
  ['multifd', 'Multifd', 'memory over several connections at once'],
  ['tls', 'TLS', 'memory and disks encrypted in transit'],
  ['blockExport', 'Block export', 'disks copied live over NBD (block migration)'],
];

/** What the host's QEMU allows for migrations, as its QMP schema says. */
function QemuFeatureList({ features }: { features: QemuFeatures | null }) {
  if (features === null) return <div className="muted">Migration features unknown (QEMU could not be asked)</div>;
  return (
    <ul className="qemu-features" aria-label="Migration features of this QEMU">
      {FEATURE_LABELS.map(([key, label, what]) => (
        <li key={key} title={what}>
          <span aria-hidden="true">{features[key] ? '✓' : '✗'}</span> {label}
          <span className="sr-only">{features[key] ? ': available' : ': not available'}</span>
        </li>
      ))}
    </ul>
  );
}
