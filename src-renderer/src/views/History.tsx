import { useEffect, useState } from 'react';
import type { MigrationRecord, MigrationSummary } from '../../../src-main/core/api/types';
import { errorInfo, type ErrorInfo } from '../api/types';
import { useFerry } from '../store/context';
import { ErrorBox, StateBadge, stateLabel, useAction } from '../components/common';
import { rowKey } from '../components/row-keys';
import { MigrationCharts } from '../components/MigrationCharts';
import { MigrationReportView } from '../components/MigrationReportView';
import { downloadText, formatDuration, formatTime } from '../util/format';

export function History({ selectedId }: { selectedId?: string }) {
  const history = useFerry((s) => s.history);
  const loaded = useFerry((s) => s.historyLoaded);
  const error = useFerry((s) => s.historyError);
  const loadHistory = useFerry((s) => s.loadHistory);
  const select = useFerry((s) => s.select);
  const recoverMigrations = useFerry((s) => s.recoverMigrations);
  const recover = useAction();
  const [recovered, setRecovered] = useState('');
  const [recoveries, setRecoveries] = useState(0);
  const anyInDoubt = history.some(isInDoubt);
  const runRecover = () =>
    void recover.run(async () => {
      setRecovered('');
      setRecovered(recoveryText(await recoverMigrations()));
      setRecoveries((n) => n + 1);
    });

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  return (
    <section className="details history" aria-label="Migration history">
      <header className="details-header">
        <div>
          <h1>History</h1>
          <div className="muted">Past migrations with their reports. Select one to see its charts and export it.</div>
        </div>
        <div className="header-actions">
          <button
            type="button"
            disabled={recover.busy || !anyInDoubt}
            title={anyInDoubt ? 'Settle the migrations that are in doubt, now that the hosts may answer again' : 'No migration is in doubt'}
            onClick={runRecover}
          >
            {recover.busy ? <span className="spinner" aria-hidden="true" /> : null}
            Recover
          </button>
          <button type="button" onClick={() => void loadHistory()}>
            Refresh
          </button>
        </div>
      </header>
      <div className="recover-result" role="status" aria-live="polite">
        {recover.busy ? 'Recovering…' : recovered}
      </div>
      <ErrorBox error={recover.error} title="Recovery failed" />
      <ErrorBox error={error} title="Could not load the history" />
      <table className="grid history-table" aria-label="Past migrations">
        <thead>
          <tr>
            <th>VM</th>
            <th>Route</th>
            <th>Mode</th>
            <th>Outcome</th>
            <th>Started</th>
            <th>Total time</th>
            <th>Downtime</th>
          </tr>
        </thead>
        <tbody>
          {loaded && history.length === 0 && !error ? (
            <tr>
              <td colSpan={7} className="muted">
                No migrations yet.
              </td>
            </tr>
          ) : null}
          {history.map((m) => (
            <tr
              key={m.id}
              tabIndex={0}
              aria-selected={m.id === selectedId}
              className={`clickable${m.id === selectedId ? ' selected' : ''}`}
              onClick={() => select({ kind: 'history', id: m.id })}
              onKeyDown={(event) => rowKey(event, () => select({ kind: 'history', id: m.id }))}
            >
              <td>{m.vm}</td>
              <td>
                {m.from} → {m.to}
              </td>
              <td>{m.mode}</td>
              <td>
                <StateBadge state={m.report?.outcome ?? m.phase} label={m.report ? undefined : m.phase.replace(/-/g, ' ')} />
              </td>
              <td>{formatTime(m.startedAt)}</td>
              <td>{formatDuration(m.report?.totalTimeMs)}</td>
              <td>{formatDuration(m.report?.downtimeMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {selectedId ? <HistoryRecord key={selectedId} id={selectedId} recoveries={recoveries} /> : null}
    </section>
  );
}


const isInDoubt = (m: MigrationSummary) => (m.report?.outcome ?? m.phase) === 'in-doubt';

/** What a recovery did, in one sentence for the live region. */
function recoveryText(settled: MigrationSummary[]): string {
  if (settled.length === 0) return 'Recovery found nothing to settle.';
  const parts = settled.map((m) => `${m.vm}: ${stateLabel(m.report?.outcome ?? m.phase).toLowerCase()}`);
  const still = settled.filter(isInDoubt).length;
  return `Recovery settled ${settled.length - still} of ${settled.length} (${parts.join(', ')}).${still > 0 ? ` ${still} still in doubt: see the report for why.` : ''}`;
}

/** `recoveries` counts recoveries run from this view: each may rewrite the record, so it is read again. */
function HistoryRecord({ id, recoveries }: { id: string; recoveries: number }) {
  const api = useFerry((s) => s.api);
  const loadRecord = useFerry((s) => s.loadRecord);
  const [record, setRecord] = useState<MigrationRecord | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const exporting = useAction();

  useEffect(() => {
    let alive = true;
    loadRecord(id).then(
      (r) => alive && setRecord(r),
      (e: unknown) => alive && setError(errorInfo(e)),
    );
    return () => {
      alive = false;
    };
  }, [id, loadRecord, recoveries]);

  const exportAs = (format: 'json' | 'csv') =>
    void exporting.run(async () => {
      const file = await api.call('migrations.export', { id, format });
      downloadText(file.filename, file.mimeType, file.content);
    });

  return (
    <div className="history-record">
      <div className="pane-header">
        <h3>{record ? `${record.vm}: ${record.from} → ${record.to}` : 'Loading…'}</h3>
        <div className="header-actions">
          <button type="button" disabled={exporting.busy} onClick={() => exportAs('json')}>
            Export JSON
          </button>
          <button type="button" disabled={exporting.busy} onClick={() => exportAs('csv')}>
            Export CSV
          </button>
        </div>
      </div>
      <ErrorBox error={error} />
      <ErrorBox error={exporting.error} title="Export failed" />
      {record?.report ? <MigrationReportView report={record.report} /> : null}
      {record && record.samples.length > 0 ? <MigrationCharts samples={record.samples} /> : record ? <div className="muted">No samples were recorded.</div> : null}
    </div>
  );
}
