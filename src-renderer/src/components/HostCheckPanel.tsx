import { useState } from 'react';
import type { HostCheckItem, HostCheckReport } from '../../../src-main/core/api/types';
import { useFerry } from '../store/context';
import { ErrorBox, useAction } from './common';

const TONE: Record<HostCheckItem['level'], string> = { ok: 'ok', warning: 'warn', error: 'bad' };
const MARK: Record<HostCheckItem['level'], string> = { ok: '✓', warning: '!', error: '✗' };
const LEVEL_LABEL: Record<HostCheckItem['level'], string> = { ok: 'OK', warning: 'Warning', error: 'Missing' };

function summary(report: HostCheckReport): string {
  const errors = report.items.filter((item) => item.level === 'error').length;
  const warnings = report.items.filter((item) => item.level === 'warning').length;
  if (!report.ok) return `${report.host} is missing what Ferry needs: ${errors} ${errors === 1 ? 'problem' : 'problems'} to fix`;
  return `${report.host} has what Ferry needs${warnings > 0 ? ` (${warnings} ${warnings === 1 ? 'warning' : 'warnings'})` : ''}`;
}

/** The "Check host" button and, once run, each requirement of the host with how to fix what is missing. */
export function HostCheckPanel({ hostName }: { hostName: string }) {
  const api = useFerry((s) => s.api);
  const { busy, error, run } = useAction();
  const [report, setReport] = useState<HostCheckReport | null>(null);
  const check = async () => {
    const result = await run(() => api.call('hosts.check', { host: hostName }));
    if (result) setReport(result);
  };
  const shown = report?.host === hostName ? report : null;
  return (
    <div className="host-check">
      <button type="button" disabled={busy} aria-busy={busy} onClick={() => void check()}>
        {busy ? 'Checking host…' : 'Check host'}
      </button>
      <ErrorBox error={error} title="Host check" />
      {shown ? (
        <div role="region" aria-label={`Host check of ${shown.host}`}>
          <p className={shown.ok ? 'muted' : 'error-message'}>{summary(shown)}</p>
          <ul className="host-check-items">
            {shown.items.map((item) => (
              <li key={item.check} aria-label={`${item.check}: ${LEVEL_LABEL[item.level]}`}>
                <span className={`dot tone-${TONE[item.level]}`} aria-hidden="true" /> <span aria-hidden="true">{MARK[item.level]}</span> <strong>{item.check}</strong>: {item.message}
                {item.hint && item.level !== 'ok' ? <div className="error-hint">{item.hint}</div> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
