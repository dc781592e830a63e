import { useEffect, useId, useRef, useState } from 'react';
import type { EvacuationSummary, EvacuationVm, HostSummary, MigrationMode, ModeAvailability, VmSummary } from '../../../src-main/core/api/types';
import { errorInfo, type ChannelInput, type ErrorInfo, type FerryApi } from '../api/types';
import { Dialog } from '../components/Dialog';
import { ErrorBox, Field, StateBadge, useAction } from '../components/common';
import { destinationRefusal } from './migrate-host-kinds';

export interface EvacuateDialogProps {
  api: FerryApi;
  host: string;
  hosts: HostSummary[];
  /** The VMs on `host`, as the store has them. */
  vms: VmSummary[];
  onClose(): void;
  /** Called once the evacuation has ended, so views can re-read both hosts. */
  onFinished?(summary: EvacuationSummary): void;
}

const MODE_LABEL: Record<MigrationMode, string> = { live: 'Live', block: 'Live + block copy', offline: 'Offline' };
const hasProcess = (vm: VmSummary) => vm.state === 'running' || vm.state === 'paused';

/** Per VM: its modes to the chosen destination, or why they could not be read. */
type ModeLookup = { modes: ModeAvailability[] } | { error: ErrorInfo };

/** How far along a summary is: updates may arrive before the start call's own answer. */
function progress(summary: EvacuationSummary): number {
  const rank = (vm: EvacuationVm) => (vm.state === 'waiting' ? 0 : vm.state === 'migrating' ? (vm.migrationId ? 2 : 1) : 3);
  return summary.vms.reduce((sum, vm) => sum + rank(vm), summary.finishedAt ? 1000 : 0);
}

/** Choose a destination, parallelism and each VM's mode; then follow the evacuation live. */
export function EvacuateDialog({ api, host, hosts, vms, onClose, onFinished }: EvacuateDialogProps) {
  const [summary, setSummary] = useState<EvacuationSummary | null>(null);
  const updates = useRef(new Map<string, EvacuationSummary>());
  const finishedReported = useRef(false);

  useEffect(
    () =>
      api.onEvent((event) => {
        if (event.name !== 'evacuation-update') return;
        const update = event.payload;
        updates.current.set(update.id, update);
        setSummary((current) => (current?.id === update.id ? update : current));
      }),
    [api],
  );

  useEffect(() => {
    if (summary?.finishedAt && !finishedReported.current) {
      finishedReported.current = true;
      onFinished?.(summary);
    }
  }, [summary, onFinished]);

  const started = (answer: EvacuationSummary) => {
    const seen = updates.current.get(answer.id);
    setSummary(seen && progress(seen) > progress(answer) ? seen : answer);
  };

  if (summary) return <EvacuationProgress api={api} summary={summary} onSummary={setSummary} onClose={onClose} />;
  return <EvacuationSetup api={api} host={host} hosts={hosts} vms={vms} onClose={onClose} onStarted={started} />;
}

function EvacuationSetup({ api, host, hosts, vms, onClose, onStarted }: Omit<EvacuateDialogProps, 'onFinished'> & { onStarted(summary: EvacuationSummary): void }) {
  const destinations = hosts.filter((h) => h.name !== host);
  // VMs move only between hosts of one kind (Ferry-managed or libvirt); the others stay listed with why.
  const sourceKind = hosts.find((h) => h.name === host)?.hypervisor ?? 'ferry';
  const choosable = destinations.filter((h) => destinationRefusal(sourceKind, h) === null);
  const [to, setTo] = useState(choosable.find((h) => h.state === 'connected')?.name ?? choosable[0]?.name ?? '');
  const [parallel, setParallel] = useState('2');
  const [lookups, setLookups] = useState<Record<string, ModeLookup>>({});
  const [chosen, setChosen] = useState<Record<string, MigrationMode>>({});
  const [touched, setTouched] = useState(false);
  const start = useAction();
  const running = vms.filter(hasProcess);
  const stopped = vms.filter((vm) => !hasProcess(vm));
  const runningKey = running.map((vm) => vm.name).join('\n');

  useEffect(() => {
    if (!to) return;
    let alive = true;
    for (const name of runningKey ? runningKey.split('\n') : []) {
      api.call('migrations.modes', { vm: name, from: host, to }).then(
        (modes) => {
          if (!alive) return;
          setLookups((current) => ({ ...current, [name]: { modes } }));
          const recommended = modes.find((m) => m.possible && m.recommended) ?? modes.find((m) => m.possible);
          if (recommended) setChosen((current) => ({ ...current, [name]: recommended.mode }));
        },
        (error: unknown) => {
          if (alive) setLookups((current) => ({ ...current, [name]: { error: errorInfo(error) } }));
        },
      );
    }
    return () => {
      alive = false;
    };
  }, [api, host, to, runningKey]);

  const parallelProblem = /^[1-8]$/.test(parallel.trim()) ? null : 'From 1 to 8 at a time';
  const loading = running.some((vm) => !(vm.name in lookups));
  const submit = () => {
    setTouched(true);
    if (parallelProblem || !to) return;
    // Only departures from the recommended mode are sent: the engine picks the recommended one itself.
    const modes: Record<string, MigrationMode> = {};
    for (const vm of running) {
      const lookup = lookups[vm.name];
      const recommended = lookup && 'modes' in lookup ? lookup.modes.find((m) => m.recommended)?.mode : undefined;
      const mode = chosen[vm.name];
      if (mode && mode !== recommended) modes[vm.name] = mode;
    }
    const input: ChannelInput<'hosts.evacuate'> = { host, to, parallel: Number(parallel), modes };
    void start.run(async () => onStarted(await api.call('hosts.evacuate', input)));
  };

  return (
    <Dialog
      title={`Evacuate ${host}`}
      onClose={onClose}
      onSubmit={submit}
      submitLabel="Start evacuation"
      submitDisabled={!to || running.length === 0 || loading}
      busy={start.busy}
      error={start.error}
      width={720}
      footerNote={running.length === 0 ? `No VM is running on ${host}.` : `${running.length} running VM${running.length === 1 ? '' : 's'} move to ${to || '…'}.`}
    >
      <div className="form-grid">
        <Field label="Destination">
          {(id) => (
            <select id={id} value={to} disabled={start.busy || choosable.length === 0} onChange={(e) => {
                if (e.target.value === to) return;
                setTo(e.target.value);
                setLookups({});
                setChosen({});
              }}>
              {choosable.length === 0 ? <option value="">{sourceKind === 'libvirt' ? 'No other libvirt host' : 'No other connection'}</option> : null}
              {destinations.map((h) => {
                const why = destinationRefusal(sourceKind, h);
                return (
                  <option key={h.name} value={h.name} disabled={why !== null}>
                    {h.name}
                    {h.state !== 'connected' ? ` – ${h.state}` : ''}
                    {why ? ` – not possible: ${why}` : ''}
                  </option>
                );
              })}
            </select>
          )}
        </Field>
        <Field label="At a time" error={touched ? parallelProblem : null} hint="Migrations running together (1–8)">
          {(id) => <input id={id} value={parallel} inputMode="numeric" disabled={start.busy} onChange={(e) => setParallel(e.target.value)} />}
        </Field>
      </div>
      <table className="grid" aria-label="VMs to move">
        <thead>
          <tr>
            <th>VM</th>
            <th>Mode</th>
          </tr>
        </thead>
        <tbody>
          {running.map((vm) => (
            <ModeRow key={vm.name} vm={vm.name} lookup={lookups[vm.name]} mode={chosen[vm.name]} disabled={start.busy} onChange={(mode) => setChosen((current) => ({ ...current, [vm.name]: mode }))} />
          ))}
          {stopped.map((vm) => (
            <tr key={vm.name}>
              <td>{vm.name}</td>
              <td className="muted">Not running: stays on {host}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}

function ModeRow({ vm, lookup, mode, disabled, onChange }: { vm: string; lookup: ModeLookup | undefined; mode: MigrationMode | undefined; disabled: boolean; onChange(mode: MigrationMode): void }) {
  const id = useId();
  if (!lookup) {
    return (
      <tr>
        <td>{vm}</td>
        <td className="muted">Asking both hosts which modes are possible…</td>
      </tr>
    );
  }
  if ('error' in lookup) {
    return (
      <tr>
        <td>{vm}</td>
        <td>
          <ErrorBox error={lookup.error} title="Cannot be moved (it will be skipped)" />
        </td>
      </tr>
    );
  }
  const current = lookup.modes.find((m) => m.mode === mode);
  return (
    <tr>
      <td>
        <label htmlFor={id}>{vm}</label>
      </td>
      <td>
        <select id={id} aria-label={`Mode for ${vm}`} value={mode ?? ''} disabled={disabled} onChange={(e) => onChange(e.target.value as MigrationMode)}>
          {lookup.modes.map((m) => (
            <option key={m.mode} value={m.mode} disabled={!m.possible} title={m.reason}>
              {MODE_LABEL[m.mode]}
              {m.recommended ? ' (recommended)' : ''}
              {!m.possible ? ` – not possible: ${m.reason}` : ''}
            </option>
          ))}
        </select>
        {current ? <div className="field-hint">{current.reason}</div> : null}
      </td>
    </tr>
  );
}

function describeFoundOn(vm: EvacuationVm): string {
  if (!vm.foundOn) return '—';
  const present = vm.foundOn.filter((location) => location.state !== 'absent');
  return present.length === 0 ? 'nowhere' : present.map((location) => `${location.host} (${location.state})`).join(', ');
}

function EvacuationProgress({ api, summary, onSummary, onClose }: { api: FerryApi; summary: EvacuationSummary; onSummary(summary: EvacuationSummary): void; onClose(): void }) {
  const cancel = useAction();
  const [cancelAsked, setCancelAsked] = useState(false);
  const titleId = useId();
  const ended = summary.finishedAt !== null;
  const cancelEvacuation = () => {
    setCancelAsked(true);
    void cancel.run(async () => onSummary(await api.call('evacuations.cancel', { id: summary.id })));
  };
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby={titleId} style={{ width: 760 }}>
        <header className="modal-header">
          <h2 id={titleId}>
            Evacuating {summary.host} → {summary.to} <StateBadge state={summary.state} />
          </h2>
        </header>
        <div className="modal-body">
          <p className="muted">
            {summary.parallel} at a time.{' '}
            {ended ? 'Every VM below is where its row says.' : cancelAsked ? 'Cancelling: no further migration starts; those past their commit point finish on the destination.' : 'Closing this window does not stop the evacuation.'}
          </p>
          <table className="grid" aria-label="Evacuation progress">
            <thead>
              <tr>
                <th>VM</th>
                <th>Mode</th>
                <th>State</th>
                <th>Time</th>
                <th>Found on</th>
              </tr>
            </thead>
            <tbody>
              {summary.vms.map((vm) => (
                <tr key={vm.vm}>
                  <td>{vm.vm}</td>
                  <td>{vm.mode ? MODE_LABEL[vm.mode] : '—'}</td>
                  <td>
                    <StateBadge state={vm.state} />
                    {vm.message ? <div className="field-hint">{vm.message}</div> : null}
                  </td>
                  <td>{vm.totalTimeMs === undefined ? '—' : `${(vm.totalTimeMs / 1000).toFixed(1)} s`}</td>
                  <td>{describeFoundOn(vm)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ErrorBox error={cancel.error} title="Could not cancel" />
        <footer className="modal-footer">
          <div className="footer-note" />
          {!ended ? (
            <button type="button" className="danger" disabled={cancelAsked || cancel.busy} onClick={cancelEvacuation}>
              Cancel evacuation
            </button>
          ) : null}
          <button type="button" className={ended ? 'primary' : undefined} onClick={onClose}>
            Close
          </button>
        </footer>
      </div>
    </div>
  );
}
