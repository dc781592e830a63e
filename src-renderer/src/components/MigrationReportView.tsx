import type { ReactNode } from 'react';
import type { MigrationReport } from '../../../src-main/core/api/types';
import { formatBytes, formatDuration, formatRate, formatTime } from '../util/format';
import { ErrorBox, KeyValue, StateBadge } from './common';
import { FoundOnLine } from './FoundOnLine';
import { InDoubtNotice } from './InDoubtNotice';

/** `inDoubtActions`: what the viewer can do about an in-doubt migration (e.g. a Recover button). */
export function MigrationReportView({ report, inDoubtActions }: { report: MigrationReport; inDoubtActions?: ReactNode }) {
  const diskBytes = report.disks.reduce((a, d) => a + d.bytes, 0);
  return (
    <section className="report" aria-label="Migration report">
      <div className="report-head">
        <h3>Report</h3>
        <StateBadge state={report.outcome} />
      </div>
      <FoundOnLine foundOn={report.foundOn} />
      {report.outcome === 'in-doubt' ? <InDoubtNotice report={report} actions={inDoubtActions} /> : null}
      <div className="report-stats">
        <Stat label="Total time" value={formatDuration(report.totalTimeMs)} />
        <Stat label="Downtime" value={formatDuration(report.downtimeMs)} />
        <Stat label="Memory sent" value={formatBytes(report.ramBytes)} />
        <Stat label="Disk sent" value={formatBytes(diskBytes)} />
        <Stat label="Average speed" value={formatRate(report.averageThroughputBps)} />
        <Stat label="Longest guest gap" value={formatDuration(report.maxHeartbeatGapMs)} />
      </div>
      {report.outcome === 'in-doubt' ? null : <ErrorBox error={report.error} title={report.outcome === 'cancelled' ? 'Cancelled' : 'Failed'} />}
      <KeyValue
        rows={[
          ['Route', `${report.vm}: ${report.from} → ${report.to} (${report.mode})`],
          ['Started', formatTime(report.startedAt)],
          ['Finished', formatTime(report.finishedAt)],
          ['Setup time', formatDuration(report.setupTimeMs)],
          ...report.disks.map((d): [string, string] => [`Disk ${d.device}`, `${formatBytes(d.bytes)} · ${d.path}`]),
          ['Options', Object.entries(report.options).filter(([, v]) => !(Array.isArray(v) && v.length === 0)).map(([k, v]) => `${k}=${optionText(v)}`).join(', ') || '—'],
        ]}
      />
    </section>
  );
}

export function Stat({ label, value, tone }: { label: string; value: string; tone?: string }) {
  return (
    <div className={`stat${tone ? ` tone-${tone}` : ''}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}

/** An option as the user gave it: lists joined, maps (diskTargets) as source → destination. */
function optionText(value: unknown): string {
  if (Array.isArray(value)) return value.map(optionText).join(' ');
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([key, inner]) => `${key} → ${optionText(inner)}`).join('; ');
  return String(value);
}
