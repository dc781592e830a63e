import { useEffect, useRef, useState } from 'react';
import type { VmDetails as VmDetailsData } from '../../../src-main/core/api/types';
import { errorInfo, type ErrorInfo } from '../api/types';
import { useFerry } from '../store/context';
import { ErrorBox, KeyValue, StateBadge, useAction } from '../components/common';
import { formatMiB } from '../util/format';
import { Icon } from '../components/icons';

type Action = 'start' | 'pause' | 'resume' | 'shutdown' | 'destroy';

export function VmDetails({ hostName, vmName }: { hostName: string; vmName: string }) {
  const api = useFerry((s) => s.api);
  const summary = useFerry((s) => s.vms[hostName]?.find((v) => v.name === vmName));
  const vmChanged = useFerry((s) => s.vmChanged);
  const openDialog = useFerry((s) => s.openDialog);
  const [details, setDetails] = useState<VmDetailsData | null>(null);
  const [loadError, setLoadError] = useState<ErrorInfo | null>(null);
  const action = useAction();
  const state = summary?.state ?? details?.state ?? 'unknown';

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
              : kind === 'shutdown'
                ? await api.call('vms.shutdown', input)
                : await api.call('vms.destroy', input);
      setDetails(result);
      vmChanged(result);
    });

  const running = state === 'running';
  const paused = state === 'paused' || state === 'suspended';
  const off = state === 'shutoff' || state === 'crashed';
  const def = details?.definition;
  return (
    <section className="details" aria-label={`VM ${vmName}`}>
      <header className="details-header">
        <div>
          <h1>
            {vmName} <StateBadge state={state} />
          </h1>
          <div className="muted">
            on <strong>{hostName}</strong>
            {details?.pid ? ` · PID ${details.pid}` : ''}
            {details?.qemuStatus ? ` · QEMU status ${details.qemuStatus}` : ''}
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
          <button type="button" disabled={action.busy || off} onClick={() => act('destroy')}>
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
      <ErrorBox error={action.error} />
      <ErrorBox error={loadError} />
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
        <SerialConsole hostName={hostName} vmName={vmName} active={!off} />
      </div>
    </section>
  );
}

/** The tail of the VM's serial log, polled with vms.serial once a second while the VM runs. */
export function SerialConsole({ hostName, vmName, active }: { hostName: string; vmName: string; active: boolean }) {
  const api = useFerry((s) => s.api);
  const [text, setText] = useState('');
  const [error, setError] = useState<ErrorInfo | null>(null);
  const preRef = useRef<HTMLPreElement | null>(null);
  const stick = useRef(true);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const result = await api.call('vms.serial', { host: hostName, name: vmName, tailBytes: 32_768 });
        if (!alive) return;
        setText(result.text);
        setError(null);
      } catch (e) {
        if (alive) setError(errorInfo(e));
      }
      if (alive && active) timer = setTimeout(() => void poll(), 1000);
    };
    void poll();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, hostName, vmName, active]);

  useEffect(() => {
    const pre = preRef.current;
    if (pre && stick.current) pre.scrollTop = pre.scrollHeight;
  }, [text]);

  return (
    <div className="serial">
      <div className="pane-header">
        <h3>Serial console</h3>
        <span className="muted small">{active ? 'live' : 'VM is off: last output'}</span>
      </div>
      {error && error.code !== 'not-found' ? <ErrorBox error={error} /> : null}
      <pre
        ref={preRef}
        className="console"
        aria-label="Serial console"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {text || (active ? 'Waiting for output…' : '')}
      </pre>
    </div>
  );
}
