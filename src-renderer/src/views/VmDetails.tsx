import { useEffect, useState } from 'react';
import type { VmDetails as VmDetailsData } from '../../../src-main/core/api/types';
import { errorInfo, type ErrorInfo } from '../api/types';
import { useFerry } from '../store/context';
import { ErrorBox, StateBadge, useAction } from '../components/common';
import { Tabs } from '../components/Tabs';
import { ConsoleTab } from './vm/ConsoleTab';
import { OverviewTab } from './vm/OverviewTab';
import { PerformanceTab } from './vm/PerformanceTab';
import { LibvirtOverview } from './vm/LibvirtOverview';
import { LIBVIRT_INSTEAD } from '../util/hypervisor';
import { Icon } from '../components/icons';
import { ConfirmDialog } from '../dialogs/ConfirmDialog';

type Action = 'start' | 'pause' | 'resume' | 'shutdown';
type VmTab = 'overview' | 'console' | 'performance';

export function VmDetails({ hostName, vmName }: { hostName: string; vmName: string }) {
  const api = useFerry((s) => s.api);
  const summary = useFerry((s) => s.vms[hostName]?.find((v) => v.name === vmName));
  const vmChanged = useFerry((s) => s.vmChanged);
  const openDialog = useFerry((s) => s.openDialog);
  const [details, setDetails] = useState<VmDetailsData | null>(null);
  const [loadError, setLoadError] = useState<ErrorInfo | null>(null);
  const action = useAction();
  const [tab, setTab] = useState<VmTab>('overview');
  const [confirmForceOff, setConfirmForceOff] = useState(false);
  const state = summary?.state ?? details?.state ?? 'unknown';
  // Known from the list before the details arrive, so nothing libvirt refuses is offered meanwhile.
  const libvirt = summary?.managedBy === 'libvirt' || details?.managedBy === 'libvirt';

  useEffect(() => {
    let alive = true;
    api.call('vms.info', { host: hostName, name: vmName }).then(
      (d) => {
        if (!alive) return;
        setDetails(d);
        setLoadError(null);
      },
      (e: unknown) => alive && setLoadError(errorInfo(e)),
    );
    return () => {
      alive = false;
    };
  }, [api, hostName, vmName, summary?.state]);

  const act = (kind: Action) =>
    void action.run(async () => {
      const input = { host: hostName, name: vmName };
      const result =
        kind === 'start'
          ? await api.call('vms.start', input)
          : kind === 'pause'
            ? await api.call('vms.pause', input)
            : kind === 'resume'
              ? await api.call('vms.resume', input)
              : await api.call('vms.shutdown', input);
      setDetails(result);
      vmChanged(result);
    });

  // Runs inside the confirmation, which shows its error.
  const forceOff = async () => {
    const result = await api.call('vms.destroy', { host: hostName, name: vmName });
    setDetails(result);
    vmChanged(result);
  };

  const running = state === 'running';
  const paused = state === 'paused' || state === 'suspended';
  const off = state === 'shutoff' || state === 'crashed';
  return (
    <section className="details" aria-label={`VM ${vmName}`}>
      <header className="details-header">
        <div>
          <h1>
            {vmName} <StateBadge state={state} />
          </h1>
          <div className="muted">
            on <strong>{hostName}</strong>
            {libvirt ? ' · libvirt domain' : ''}
            {details?.pid ? ` · PID ${details.pid}` : ''}
            {details?.qemuStatus && !libvirt ? ` · QEMU status ${details.qemuStatus}` : ''}
            {details?.libvirt ? ` · ${details.libvirt.stateText}` : ''}
          </div>
        </div>
        <div className="header-actions vm-actions" role="group" aria-label="VM actions">
          <button type="button" className="primary" disabled={action.busy || !off} onClick={() => act('start')}>
            <span className="glyph" aria-hidden="true">▶</span>
            Run
          </button>
          <button type="button" disabled={action.busy || !running} onClick={() => act('pause')}>
            <span className="glyph" aria-hidden="true">❚❚</span>
            Pause
          </button>
          <button type="button" disabled={action.busy || !paused} onClick={() => act('resume')}>
            <span className="glyph" aria-hidden="true">▶</span>
            Resume
          </button>
          <button type="button" disabled={action.busy || !(running || paused)} onClick={() => act('shutdown')}>
            <Icon name="power" size={13} />
            Shut Down
          </button>
          <button type="button" disabled={action.busy || off} onClick={() => setConfirmForceOff(true)}>
            <span className="glyph" aria-hidden="true">■</span>
            Force Off
          </button>
          <button type="button" disabled={action.busy || !running} onClick={() => openDialog({ kind: 'migrate', host: hostName, vm: vmName })}>
            <span className="glyph" aria-hidden="true">⇄</span>
            Migrate
          </button>
          <button type="button" className="danger-text" disabled={action.busy} onClick={() => openDialog({ kind: 'delete-vm', host: hostName, vm: vmName })}>
            Delete
          </button>
        </div>
      </header>
      {confirmForceOff ? (
        <ConfirmDialog title={`Force off ${vmName}?`} confirmLabel="Force Off" action={forceOff} onDone={() => setConfirmForceOff(false)} onCancel={() => setConfirmForceOff(false)}>
          <p>
            This stops <strong>{vmName}</strong> on {hostName} at once, like pulling the power cord. Anything the guest has not written to disk is lost; use Shut Down to let it stop cleanly.
          </p>
        </ConfirmDialog>
      ) : null}
      <ErrorBox error={action.error} />
      <ErrorBox error={loadError} />
      <Tabs
        label={`${vmName} views`}
        selected={tab}
        onSelect={setTab}
        tabs={[
          {
            id: 'overview',
            label: 'Overview',
            render: () =>
              details?.libvirt ? (
                <LibvirtOverview
                  details={details}
                  onChanged={(vm) => {
                    setDetails(vm);
                    vmChanged(vm);
                  }}
                />
              ) : details ? (
                <OverviewTab details={details} summary={summary} />
              ) : loadError ? null : (
                <div className="muted pad" aria-busy="true">
                  Reading the VM’s details…
                </div>
              ),
          },
          {
            id: 'console',
            label: 'Console',
            render: () => (libvirt ? <div className="muted pad">{LIBVIRT_INSTEAD.console}</div> : <ConsoleTab hostName={hostName} vmName={vmName} active={!off} />),
          },
          {
            id: 'performance',
            label: 'Performance',
            render: () => (libvirt ? <div className="muted pad">{LIBVIRT_INSTEAD.performance}</div> : <PerformanceTab hostName={hostName} vmName={vmName} running={!off} />),
          },
        ]}
      />
    </section>
  );
}
