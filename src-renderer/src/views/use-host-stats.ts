import { useEffect, useState } from 'react';
import type { HostStats } from '../../../src-main/core/api/types';
import { errorInfo, type ErrorInfo } from '../api/types';
import { keepWindow } from '../components/charts/performance-series';
import { useFerry } from '../store/context';

export const STATS_INTERVAL_MS = 2000;

/**
 * Reads 'hosts.stats' every 2 s while the component using it is mounted (a Performance tab is
 * shown) and keeps the last five minutes. A new reading is asked for only once the previous one
 * has come back, so a slow host is never asked twice at once.
 */
export function useHostStats(host: string): { readings: HostStats[]; error: ErrorInfo | null } {
  const api = useFerry((s) => s.api);
  // Kept with the host they came from, so another host's readings are never drawn as this one's.
  const [kept, setKept] = useState<{ host: string; readings: HostStats[] }>({ host, readings: [] });
  const [error, setError] = useState<ErrorInfo | null>(null);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const started = Date.now();
      try {
        const next = await api.call('hosts.stats', { host });
        if (!alive) return;
        setKept((old) => ({ host, readings: keepWindow(old.host === host ? old.readings : [], next) }));
        setError(null);
      } catch (e) {
        if (alive) setError(errorInfo(e));
      }
      if (alive) timer = setTimeout(() => void poll(), Math.max(0, STATS_INTERVAL_MS - (Date.now() - started)));
    };
    void poll();
    return () => {
      alive = false;
      if (timer) clearTimeout(timer);
    };
  }, [api, host]);
  return { readings: kept.host === host ? kept.readings : [], error };
}
