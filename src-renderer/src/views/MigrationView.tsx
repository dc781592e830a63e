import { useEffect, useId, useMemo, useState } from 'react';
import type { MigrationPhase, MigrationSample, MigrationSummary } from '../../../src-main/core/api/types';
import { useFerry } from '../store/context';
import { isFinalPhase } from '../store/store';
import { ErrorBox, StateBadge, useAction } from '../components/common';
import { MigrationCharts } from '../components/MigrationCharts';
import { MigrationReportView, Stat } from '../components/MigrationReportView';
import { formatBytes, formatDuration, formatRate, percent } from '../util/format';
import { migrationAnnouncement } from './migration-announcement';

const TIMELINE: Array<{ phase: MigrationPhase; label: string }> = [
  { phase: 'preflight', label: 'Checks' },
  { phase: 'preparing-destination', label: 'Prepare destination' },
  { phase: 'copying-disks', label: 'Copy disks' },
  { phase: 'memory', label: 'Memory' },
  { phase: 'switchover', label: 'Switchover' },
  { phase: 'finishing', label: 'Finish' },
  { phase: 'cleaning-up', label: 'Clean up' },
];

export function PhaseTimeline({ phase, seen, copiesDisks }: { phase: MigrationPhase; seen: Set<MigrationPhase>; copiesDisks: boolean }) {
  const index = TIMELINE.findIndex((t) => t.phase === phase);
  const final = isFinalPhase(phase);
  return (
    <ol className="timeline" aria-label="Phases">
      {TIMELINE.map((t, i) => {
        const skipped = t.phase === 'copying-disks' && !copiesDisks;
        const state = skipped ? 'skipped' : final ? (seen.has(t.phase) || phase === 'completed' ? 'done' : 'todo') : i < index ? 'done' : i === index ? 'current' : 'todo';
        return (
          <li key={t.phase} className={`step ${state}`} aria-current={state === 'current' ? 'step' : undefined}>
            <span className="step-dot" />
            {t.label}
          </li>
        );
      })}
      <li className={`step end ${final ? `done ${phase}` : 'todo'}`}>
        <span className="step-dot" />
        {final ? (phase === 'completed' ? 'Done' : phase === 'failed' ? 'Failed' : phase === 'in-doubt' ? 'In doubt' : 'Cancelled') : 'Done'}
      </li>
    </ol>
  );
}

export function useSamples(id: string): MigrationSample[] {
  const version = useFerry((s) => s.sampleVersion[id] ?? 0);
  const ring = useFerry((s) => s.samples[id]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => ring?.toArray() ?? [], [ring, version]);
}

/**
 * Once a migration has ended, its stored record is drawn: the same samples History draws, down to
 * the last one (events can arrive after the final update, or be missed while a window reloads).
 */
function useFinalSamples(id: string, final: boolean, live: MigrationSample[]): MigrationSample[] {
  const record = useFerry((s) => s.records[id]);
  const loadRecord = useFerry((s) => s.loadRecord);
  useEffect(() => {
    if (final) void loadRecord(id).catch(() => undefined);
  }, [final, id, loadRecord]);
  return final && record && record.samples.length >= live.length ? record.samples : live;
}

/** Why Cancel is off once the engine has passed the commit point; an offline move has no memory in flight. */
function pastCommitText(summary: MigrationSummary): string {
  const why = summary.mode === 'offline' ? 'the VM is being started there' : "the guest's memory is already there";
  return `Past the point of no return: finishing on ${summary.to} — ${why}`;
}

/** Settles in-doubt migrations now; the store refreshes this view and the history with the result. */
function RecoverNow() {
  const recoverMigrations = useFerry((s) => s.recoverMigrations);
  const recover = useAction();
  const [result, setResult] = useState<string | null>(null);
  const run = () =>
    void recover.run(async () => {
      setResult(null);
      const settled = await recoverMigrations();
      setResult(settled.length === 0 ? 'Nothing was settled: no migration was waiting for recovery.' : `Settled ${settled.length}: ${settled.map((m) => `${m.vm} ${m.phase.replace(/-/g, ' ')}`).join(', ')}.`);
    });
  return (
    <>
      <button type="button" className="primary" disabled={recover.busy} onClick={run}>
        {recover.busy ? <span className="spinner" aria-hidden="true" /> : null}
        {recover.busy ? 'Recovering…' : 'Recover now'}
      </button>
      <span className="muted" role="status">
        {result}
      </span>
      <ErrorBox error={recover.error} title="Recovery failed" />
    </>
  );
}

export function MigrationView({ id }: { id: string }) {
  const summary = useFerry((s) => s.migrations[id]);
  const api = useFerry((s) => s.api);
  const trackMigration = useFerry((s) => s.trackMigration);
  const live = useSamples(id);
  const samples = useFinalSamples(id, summary ? isFinalPhase(summary.phase) : false, live);
  const last = samples.at(-1);
  const [bandwidth, setBandwidth] = useState('');
  const [downtime, setDowntime] = useState('');
  const tune = useAction();
  const cancel = useAction();
  const seen = useMemo(() => new Set(samples.map((s) => s.phase)), [samples]);
  const pastCommitId = useId();

  if (!summary) return <div className="empty-state">Unknown migration.</div>;
  const final = isFinalPhase(summary.phase);
  // Transferred counts re-sent pages too, so progress is measured by what is left.
  const ramPct = last ? percent(last.ram.totalBytes - last.ram.remainingBytes, last.ram.totalBytes) : 0;
  const diskTotal = last ? last.disks.reduce((a, d) => a + d.totalBytes, 0) : 0;
  const diskDone = last ? last.disks.reduce((a, d) => a + d.transferredBytes, 0) : 0;

  const applyTune = (input: { bandwidthMiBps?: number; downtimeMs?: number; startPostcopy?: boolean }) =>
    void tune.run(async () => trackMigration(await api.call('migrations.tune', { id, ...input })));
  const bandwidthValid = Number(bandwidth) > 0 && Number(bandwidth) <= 1_000_000;
  const downtimeValid = /^\d+$/.test(downtime) && Number(downtime) >= 1;

  return (
    <section className="details migration" aria-label={`Migration of ${summary.vm}`}>
      <header className="details-header">
        <div>
          <h1>
            {summary.vm}: {summary.from} → {summary.to} <StateBadge state={final ? summary.phase : 'connecting'} label={final ? undefined : summary.phase.replace(/-/g, ' ')} />
          </h1>
          <div className="muted">
            {summary.mode === 'block' ? 'Live migration with block copy' : summary.mode === 'live' ? 'Live migration (shared storage)' : 'Offline migration'} · started {new Date(summary.startedAt).toLocaleTimeString()} · id <code>{summary.id}</code>
          </div>
        </div>
      </header>
      <div className="sr-only" role="status" aria-live="polite" aria-atomic="true" aria-label="Migration progress">
        {migrationAnnouncement(summary)}
      </div>
      <PhaseTimeline phase={summary.phase} seen={seen} copiesDisks={summary.mode !== 'live'} />
      {last?.notConverging && !final ? (
        <div className="warning-box converge" role="alert" aria-label="Not converging">
          <strong>Memory is not converging.</strong> {last.notConverging}
          <div className="converge-actions">
            Try: raise the bandwidth, allow a longer downtime, or switch to postcopy.
          </div>
        </div>
      ) : null}
      {!final ? (
        <div className="live-stats">
          <Stat label={`Memory (${formatBytes(last?.ram.totalBytes)})`} value={last ? `${ramPct.toFixed(0)} % · ${formatBytes(last.ram.transferredBytes)} sent` : '—'} />
          <Stat label="Remaining" value={last ? formatBytes(last.ram.remainingBytes + last.disks.reduce((a, d) => a + d.remainingBytes, 0)) : '—'} />
          {diskTotal > 0 ? <Stat label="Disks" value={`${formatBytes(diskDone)} of ${formatBytes(diskTotal)}`} /> : null}
          <Stat label="Throughput" value={formatRate(last?.throughputBps)} />
          <Stat label="Dirty rate" value={formatRate(last?.dirtyRateBps)} tone={last && last.dirtyRateBps > last.throughputBps ? 'bad' : undefined} />
          <Stat label="Time left" value={formatDuration(last?.timeLeftMs)} />
          <Stat label="Expected downtime" value={formatDuration(last?.expectedDowntimeMs)} />
          <Stat label="Pass" value={last ? String(last.pass) : '—'} />
          {last && last.throttlePercent > 0 ? <Stat label="CPU throttle" value={`${last.throttlePercent} %`} /> : null}
        </div>
      ) : null}
      {!final ? (
        <div className="live-controls" role="group" aria-label="Live controls">
          <label>
            Bandwidth (MiB/s)
            <input value={bandwidth} inputMode="decimal" onChange={(e) => setBandwidth(e.target.value)} disabled={tune.busy} />
          </label>
          <button type="button" disabled={tune.busy || !bandwidthValid} onClick={() => applyTune({ bandwidthMiBps: Number(bandwidth) })}>
            Set bandwidth
          </button>
          <label>
            Max downtime (ms)
            <input value={downtime} inputMode="numeric" onChange={(e) => setDowntime(e.target.value)} disabled={tune.busy} />
          </label>
          <button type="button" disabled={tune.busy || !downtimeValid} onClick={() => applyTune({ downtimeMs: Number(downtime) })}>
            Set downtime
          </button>
          <div className="toolbar-spacer" />
          <button type="button" disabled={tune.busy || summary.mode === 'offline' || summary.phase !== 'memory'} onClick={() => applyTune({ startPostcopy: true })}>
            Switch to postcopy
          </button>
          <button
            type="button"
            className="danger"
            disabled={cancel.busy || summary.committed}
            aria-describedby={summary.committed ? pastCommitId : undefined}
            onClick={() => void cancel.run(async () => trackMigration(await api.call('migrations.cancel', { id })))}
          >
            Cancel migration
          </button>
          {summary.committed ? (
            <span id={pastCommitId} className="past-commit">
              {pastCommitText(summary)}
            </span>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={tune.error} />
      <ErrorBox error={cancel.error} title="Could not cancel" />
      {final && summary.report ? <MigrationReportView report={summary.report} inDoubtActions={<RecoverNow />} /> : null}
      {final && !summary.report ? <div className="muted pad">The engine sent no report for this migration.</div> : null}
      {samples.length > 0 ? <MigrationCharts samples={samples} /> : !final ? <div className="muted pad">Waiting for the first sample…</div> : null}
    </section>
  );
}
