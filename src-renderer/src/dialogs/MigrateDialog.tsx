import { useEffect, useMemo, useState } from 'react';
import { DEFAULT_DOWNTIME_LIMIT_MS } from '../../../src-main/core/api/defaults';
import { hostAddressProblem } from '../../../src-main/core/api/host-address';
import type { HostSummary, MigrationMode, MigrationSummary, ModeAvailability, PoolSummary, PreflightReport } from '../../../src-main/core/api/types';
import { errorInfo, type ChannelInput, type ErrorInfo, type FerryApi } from '../api/types';
import { guardUnloadDuring } from '../api/unload-guard';
import { Dialog } from '../components/Dialog';
import { ErrorBox, Field, useAction } from '../components/common';
import { DiskTargetsField } from './DiskTargetsField';
import { libvirtInChargeText, destinationRefusal } from './migrate-host-kinds';
import '../components/libvirt.css';

export interface MigrateDialogProps {
  api: FerryApi;
  vm: string;
  from: string;
  hosts: HostSummary[];
  /** Pools on each host, for the destination pool choice (block/offline). */
  poolsByHost: Record<string, PoolSummary[]>;
  onStarted(summary: MigrationSummary): void;
  onClose(): void;
}

const MODE_LABEL: Record<MigrationMode, string> = {
  live: 'Live (shared storage)',
  block: 'Live with block copy (no shared storage)',
  offline: 'Offline (copy disks and definition)',
};

export function MigrateDialog({ api, vm, from, hosts, poolsByHost, onStarted, onClose }: MigrateDialogProps) {
  const destinations = hosts.filter((h) => h.name !== from);
  const sourceKind = hosts.find((h) => h.name === from)?.hypervisor ?? 'ferry';
  const libvirt = sourceKind === 'libvirt';
  const choosable = destinations.filter((h) => destinationRefusal(sourceKind, h) === null);
  const refused = destinations.filter((h) => destinationRefusal(sourceKind, h) !== null);
  const [to, setTo] = useState(choosable.find((h) => h.state === 'connected')?.name ?? choosable[0]?.name ?? '');
  const [modes, setModes] = useState<ModeAvailability[] | null>(null);
  const [modesError, setModesError] = useState<ErrorInfo | null>(null);
  const [mode, setMode] = useState<MigrationMode | null>(null);
  const [address, setAddress] = useState('');
  const [port, setPort] = useState('');
  const [bandwidth, setBandwidth] = useState('');
  const [downtime, setDowntime] = useState('');
  const [transport, setTransport] = useState<'tcp' | 'tls'>('tls');
  const [autoConverge, setAutoConverge] = useState(false);
  const [postcopy, setPostcopy] = useState(false);
  const [multifd, setMultifd] = useState('');
  const [incremental, setIncremental] = useState(false);
  const [destPool, setDestPool] = useState('');
  const [keepState, setKeepState] = useState(false);
  const [noStart, setNoStart] = useState(false);
  const [reuseImages, setReuseImages] = useState(false);
  const [diskTargets, setDiskTargets] = useState<Record<string, string>>({});
  const [overwriteDevices, setOverwriteDevices] = useState<string[]>([]);
  const [report, setReport] = useState<PreflightReport | null>(null);
  const [touched, setTouched] = useState(false);
  const check = useAction();
  const start = useAction();
  const busy = check.busy || start.busy;

  useEffect(() => {
    if (!to) return;
    let alive = true;
    api.call('migrations.modes', { vm, from, to }).then(
      (list) => {
        if (!alive) return;
        setModes(list);
        setMode((current) => {
          if (current && list.some((m) => m.mode === current && m.possible)) return current;
          return (list.find((m) => m.possible && m.recommended) ?? list.find((m) => m.possible))?.mode ?? null;
        });
      },
      (error: unknown) => {
        if (!alive) return;
        setModes([]);
        setModesError(errorInfo(error));
      },
    );
    return () => {
      alive = false;
    };
  }, [api, vm, from, to]);

  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    if (!to) p['to'] = libvirt ? 'Add a second libvirt host to migrate to' : 'Add a second connection to migrate to';
    if (!mode) p['mode'] = 'No migration mode is possible to this destination';
    if (address.trim() && hostAddressProblem(address.trim())) p['address'] = 'Must be a host name or an IP address';
    if (port.trim() && !(/^\d+$/.test(port.trim()) && Number(port) >= 1024 && Number(port) <= 65535)) p['port'] = 'Port must be from 1024 to 65535';
    if (bandwidth.trim() && !(Number(bandwidth) > 0 && Number(bandwidth) <= 1_000_000)) p['bandwidth'] = 'Bandwidth must be a positive number of MiB/s';
    if (downtime.trim() && !(/^\d+$/.test(downtime.trim()) && Number(downtime) >= 1 && Number(downtime) <= 2_000_000)) p['downtime'] = 'Downtime must be a whole number of milliseconds (1 or more)';
    if (multifd.trim() && !(/^\d+$/.test(multifd.trim()) && Number(multifd) >= 1 && Number(multifd) <= 64)) p['multifd'] = 'Channels must be from 1 to 64';
    return p;
  }, [to, libvirt, mode, address, port, bandwidth, downtime, multifd]);
  const show = (key: string) => (touched ? problems[key] ?? null : null);

  const input = (): ChannelInput<'migrations.start'> => {
    // libvirt's own migration stream is not Ferry's to encrypt; the dialog says so instead of offering TLS.
    const value: ChannelInput<'migrations.start'> = { vm, from, to, mode: mode ?? 'live', transport: libvirt ? 'tcp' : transport, autoConverge, postcopy };
    if (address.trim()) value.address = address.trim();
    if (port.trim() && !libvirt) value.port = Number(port);
    if (bandwidth.trim()) value.bandwidthMiBps = Number(bandwidth);
    if (downtime.trim()) value.downtimeMs = Number(downtime);
    if (multifd.trim()) value.multifd = Number(multifd);
    if (mode === 'block') value.incremental = incremental;
    if ((mode === 'block' || mode === 'offline') && destPool && !libvirt) value.destPool = destPool;
    if (mode === 'block' || mode === 'offline') value.reuseImages = reuseImages;
    if ((mode === 'block' || mode === 'offline') && Object.keys(diskTargets).length > 0 && !libvirt) {
      value.diskTargets = diskTargets;
      value.overwriteDevices = overwriteDevices;
    }
    if (mode === 'offline') {
      if (!libvirt) value.keepState = keepState;
      value.noStart = noStart;
    }
    return value;
  };

  const runCheck = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return;
    void check.run(async () => setReport(await api.call('migrations.check', input())));
  };
  const submit = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return;
    void start.run(async () => {
      const summary = await api.call('migrations.start', input());
      guardUnloadDuring(api, summary);
      onStarted(summary);
    });
  };

  const destHost = destinations.find((h) => h.name === to);
  const destPools = poolsByHost[to] ?? [];
  return (
    <Dialog
      title={`Migrate ${vm}`}
      onClose={onClose}
      onSubmit={submit}
      submitLabel="Start migration"
      submitDisabled={!mode || !to}
      busy={busy}
      error={start.error}
      width={680}
      extraButtons={
        <button type="button" onClick={runCheck} disabled={busy || !mode}>
          {check.busy ? <span className="spinner" aria-hidden="true" /> : null}
          Check
        </button>
      }
    >
      <div className="migrate-route">
        <div>
          <div className="muted small">Source</div>
          <strong>{from}</strong>
        </div>
        <div className="route-arrow" aria-hidden="true">
          →
        </div>
        <Field label="Destination" error={show('to')}>
          {(id) => (
            <select id={id} value={to} disabled={busy || choosable.length === 0} onChange={(e) => {
                // A change event for the same host must not clear the modes: nothing would ask for them again.
                if (e.target.value === to) return;
                setTo(e.target.value);
                // Devices belong to one destination.
                setDiskTargets({});
                setOverwriteDevices([]);
                setModes(null);
                setModesError(null);
                setReport(null);
              }}>
              {choosable.length === 0 ? <option value="">{libvirt ? 'No other libvirt host' : 'No other connection'}</option> : null}
              {destinations.map((h) => {
                const why = destinationRefusal(sourceKind, h);
                return (
                  <option key={h.name} value={h.name} disabled={why !== null}>
                    {h.name} ({h.uri}){h.state !== 'connected' ? ` – ${h.state}` : ''}
                    {why ? ` – not possible: ${why}` : ''}
                  </option>
                );
              })}
            </select>
          )}
        </Field>
      </div>
      {refused.length > 0 ? (
        <p className="muted small" aria-label="Hosts not offered">
          Not offered: {refused.map((h) => `${h.name} (${destinationRefusal(sourceKind, h) ?? ''})`).join('; ')}.
        </p>
      ) : null}
      {libvirt ? (
        <p className="info-box libvirt-in-charge" aria-label="Migrated by libvirt">
          {libvirtInChargeText(from)}
        </p>
      ) : null}
      {destHost && destHost.state !== 'connected' ? <p className="warning-box">{destHost.name} is not connected; Ferry will connect when checking or starting.</p> : null}

      <fieldset className="modes" disabled={busy}>
        <legend>Mode</legend>
        {modes === null && to ? <div className="muted">Asking both hosts which modes are possible…</div> : null}
        <ErrorBox error={modesError} title="Could not list migration modes" />
        {(modes ?? []).map((m) => (
          <label key={m.mode} className={`mode-option${m.possible ? '' : ' impossible'}${mode === m.mode ? ' chosen' : ''}`}>
            <input type="radio" name="mode" value={m.mode} checked={mode === m.mode} disabled={!m.possible} onChange={() => setMode(m.mode)} />
            <span className="mode-text">
              <span className="mode-name">
                {MODE_LABEL[m.mode]}
                {m.recommended ? <span className="badge tone-ok">recommended</span> : null}
                {!m.possible ? <span className="badge tone-off">not possible</span> : null}
              </span>
              <span className="mode-reason">{m.reason}</span>
            </span>
          </label>
        ))}
        {show('mode') && modes !== null && !modesError ? (
          <div className="field-error" role="alert">
            {show('mode')}
          </div>
        ) : null}
      </fieldset>

      <div className="form-grid three">
        <Field label="Address" error={show('address')} hint="Destination as the source reaches it">
          {(id) => <input id={id} value={address} disabled={busy} placeholder={destHost?.address ?? 'automatic'} onChange={(e) => setAddress(e.target.value)} />}
        </Field>
        <Field label="Port" error={show('port')} hint={libvirt ? 'libvirt picks it from its migration ports' : 'First port to try'}>
          {(id) => <input id={id} value={libvirt ? '' : port} inputMode="numeric" disabled={busy || libvirt} placeholder={libvirt ? 'libvirt' : '49152'} onChange={(e) => setPort(e.target.value)} />}
        </Field>
        <Field
          label="Transport"
          hint={
            libvirt
              ? 'libvirt sends memory and disks in the clear (Ferry does not set up libvirt’s TLS): use a trusted network'
              : transport === 'tls'
                ? 'Encrypted with a key made for this migration; TCP would send it in the clear'
                : 'In the clear — only on a trusted migration network'
          }
        >
          {(id) => (
            <select id={id} value={libvirt ? 'tcp' : transport} disabled={busy || libvirt} onChange={(e) => setTransport(e.target.value as 'tcp' | 'tls')}>
              <option value="tls">TLS (encrypted)</option>
              <option value="tcp">TCP (in the clear)</option>
            </select>
          )}
        </Field>
        <Field label="Bandwidth (MiB/s)" error={show('bandwidth')} hint="Empty: unlimited">
          {(id) => <input id={id} value={bandwidth} inputMode="decimal" disabled={busy} onChange={(e) => setBandwidth(e.target.value)} />}
        </Field>
        <Field label="Max downtime (ms)" error={show('downtime')} hint={`Empty: ${DEFAULT_DOWNTIME_LIMIT_MS} ms`}>
          {(id) => <input id={id} value={downtime} inputMode="numeric" disabled={busy} onChange={(e) => setDowntime(e.target.value)} />}
        </Field>
      </div>

      {mode === 'block' || mode === 'offline' ? (
        <div className="reuse-images">
          <label className="check">
            <input type="checkbox" checked={reuseImages} disabled={busy} onChange={(e) => setReuseImages(e.target.checked)} />
            Overwrite existing disk images at the destination
          </label>
          {reuseImages ? (
            <p className="warning-box">
              Images already at the destination paths are written over and their contents lost. Use this only for leftovers of an earlier attempt to move this VM, never for another VM&apos;s disks.
            </p>
          ) : (
            <div className="field-hint">Off: the check refuses to start if an image already exists there.</div>
          )}
        </div>
      ) : null}

      {(mode === 'block' || mode === 'offline') && !libvirt ? (
        <DiskTargetsField
          api={api}
          vm={vm}
          from={from}
          to={to}
          destPools={destPools}
          report={report}
          targets={diskTargets}
          onTargets={setDiskTargets}
          overwrite={overwriteDevices}
          onOverwrite={setOverwriteDevices}
          disabled={busy}
        />
      ) : null}

      <details className="advanced">
        <summary>Advanced options</summary>
        <div className="form-grid">
          <label className="check">
            <input type="checkbox" checked={autoConverge} disabled={busy} onChange={(e) => setAutoConverge(e.target.checked)} />
            Auto-converge (throttle the guest&apos;s CPUs when memory does not converge)
          </label>
          <label className="check">
            <input type="checkbox" checked={postcopy} disabled={busy || mode === 'offline'} onChange={(e) => setPostcopy(e.target.checked)} />
            Allow postcopy (switch while running; the guest then depends on both hosts)
          </label>
          <Field label="Multifd channels" error={show('multifd')} hint="Empty: one stream">
            {(id) => <input id={id} value={multifd} inputMode="numeric" disabled={busy || mode === 'offline'} onChange={(e) => setMultifd(e.target.value)} />}
          </Field>
          {(mode === 'block' || mode === 'offline') && !libvirt ? (
            <Field label="Destination pool" hint="Empty: same paths as on the source">
              {(id) => (
                <select id={id} value={destPool} disabled={busy} onChange={(e) => setDestPool(e.target.value)}>
                  <option value="">Same paths as on {from}</option>
                  {destPools.filter((p) => p.type !== 'disk').map((p) => (
                    <option key={p.name} value={p.name}>
                      {p.name} ({p.path})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {mode === 'block' ? (
            <label className="check">
              <input type="checkbox" checked={incremental} disabled={busy} onChange={(e) => setIncremental(e.target.checked)} />
              Incremental: copy only the top qcow2 layer (the base image is already on the destination)
            </label>
          ) : null}
          {mode === 'offline' ? (
            <>
              {libvirt ? null : (
                <label className="check">
                  <input type="checkbox" checked={keepState} disabled={busy} onChange={(e) => setKeepState(e.target.checked)} />
                  Keep the running state (save on the source, resume on the destination)
                </label>
              )}
              <label className="check">
                <input type="checkbox" checked={noStart} disabled={busy} onChange={(e) => setNoStart(e.target.checked)} />
                Leave the VM stopped on the destination
              </label>
            </>
          ) : null}
        </div>
      </details>

      <ErrorBox error={check.error} title="Check failed" />
      <div className="sr-only" role="status" aria-live="polite" aria-label="Check status">
        {check.busy ? 'Checking…' : report ? checkAnnouncement(report) : ''}
      </div>
      {report ? (
        <section className={`preflight ${report.ok ? 'ok' : 'bad'}`} aria-label="Check results">
          <div className="preflight-head">{report.ok ? 'Ready to migrate' : 'Not ready: fix the errors below'}</div>
          <ul>
            {report.items.map((item, i) => (
              <li key={`${item.check}-${i}`} className={`level-${item.level}`}>
                <span className={`badge tone-${item.level === 'ok' ? 'ok' : item.level === 'warning' ? 'warn' : 'bad'}`}>{item.level}</span>
                <span>
                  {item.message}
                  {item.hint ? <span className="error-hint"> {item.hint}</span> : null}
                </span>
              </li>
            ))}
          </ul>
          {report.prediction ? (
            <div className={`prediction ${report.prediction.converges === false ? 'bad' : ''}`} aria-label="Prediction">
              <strong>Prediction:</strong> {report.prediction.summary}
              {report.prediction.recommendation ? (
                <div className="prediction-advice">
                  Recommended before you start: {report.prediction.recommendation === 'auto-converge' ? 'turn on Auto-converge' : 'turn on Postcopy'} (Advanced).
                </div>
              ) : null}
              <div className="field-hint">From {report.prediction.basis}.</div>
            </div>
          ) : null}
        </section>
      ) : null}
    </Dialog>
  );
}

/** The check's outcome in one sentence for screen readers; the list itself follows in the dialog. */
function checkAnnouncement(report: PreflightReport): string {
  const errors = report.items.filter((item) => item.level === 'error').length;
  const warnings = report.items.filter((item) => item.level === 'warning').length;
  const counts = [errors ? `${errors} error${errors > 1 ? 's' : ''}` : '', warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ');
  return `${report.ok ? 'Ready to migrate' : 'Not ready to migrate'}${counts ? `: ${counts}` : ''}.`;
}
