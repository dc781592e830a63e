import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { errorInfo, type ErrorInfo } from '../api/types';
import { percent } from '../util/format';

/** Runs one async action at a time, with busy and error state for the form that started it. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (caught) {
      if (mounted.current) setError(errorInfo(caught));
      return undefined;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

export function ErrorBox({ error, title }: { error: ErrorInfo | null | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert">
      <div className="error-message">
        {title ? <strong>{title}: </strong> : null}
        {error.message}
      </div>
      {error.hint ? <div className="error-hint">{error.hint}</div> : null}
    </div>
  );
}

const STATE_TONE: Record<string, string> = {
  connected: 'ok',
  running: 'ok',
  completed: 'ok',
  active: 'ok',
  connecting: 'busy',
  paused: 'warn',
  suspended: 'warn',
  inmigrate: 'busy',
  postmigrate: 'warn',
  'shutting-down': 'busy',
  lost: 'bad',
  failed: 'bad',
  crashed: 'bad',
  cancelled: 'warn',
  'in-doubt': 'doubt',
  disconnected: 'off',
  shutoff: 'off',
  inactive: 'off',
  unknown: 'off',
};

const STATE_LABEL: Record<string, string> = {
  shutoff: 'Shut off',
  running: 'Running',
  paused: 'Paused',
  inmigrate: 'Incoming migration',
  postmigrate: 'Migrated away',
  suspended: 'Suspended',
  'shutting-down': 'Shutting down',
  crashed: 'Crashed',
  unknown: 'Unknown',
  connected: 'Connected',
  connecting: 'Connecting…',
  disconnected: 'Not connected',
  lost: 'Connection lost',
  failed: 'Failed',
  completed: 'Completed',
  cancelled: 'Cancelled',
  'in-doubt': 'In doubt',
  active: 'Active',
  inactive: 'Inactive',
};

export function stateLabel(state: string): string {
  return STATE_LABEL[state] ?? state.replace(/-/g, ' ');
}

export function StateBadge({ state, label }: { state: string; label?: string }) {
  return <span className={`badge tone-${STATE_TONE[state] ?? 'busy'}`}>{label ?? stateLabel(state)}</span>;
}

export function StateDot({ state }: { state: string }) {
  return <span className={`dot tone-${STATE_TONE[state] ?? 'busy'}`} aria-hidden="true" />;
}

export function UsageBar({ used, total, label }: { used: number; total: number; label: string }) {
  const value = percent(used, total);
  const tone = value > 90 ? 'bad' : value > 75 ? 'warn' : 'ok';
  return (
    <div className="usage" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(value)}>
      <div className={`usage-fill tone-${tone}`} style={{ width: `${value}%` }} />
    </div>
  );
}

export function Field({ label, children, error, hint, wide }: { label: string; children: (id: string) => ReactNode; error?: string | null; hint?: ReactNode; wide?: boolean }) {
  const id = useId();
  return (
    <div className={`field${wide ? ' wide' : ''}${error ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <div className="field-control">
        {children(id)}
        {error ? (
          <div className="field-error" role="alert">
            {error}
          </div>
        ) : hint ? (
          <div className="field-hint">{hint}</div>
        ) : null}
      </div>
    </div>
  );
}

export function KeyValue({ rows }: { rows: Array<[string, ReactNode]> }) {
  return (
    <dl className="kv">
      {rows.map(([key, value]) => (
        <div className="kv-row" key={key}>
          <dt>{key}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Width of an element, for charts (no ResizeObserver in old test DOMs: falls back to a fixed width). */
export function useElementWidth<T extends HTMLElement>(fallback = 600) {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      const next = Math.floor(entries[0]?.contentRect.width ?? fallback);
      if (next > 0) setWidth((old) => (Math.abs(old - next) > 1 ? next : old));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [fallback]);
  return { ref, width };
}
