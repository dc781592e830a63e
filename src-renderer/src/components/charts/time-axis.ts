/** One point of a time series: `t` in seconds since the start; a null value is a gap, not a zero. */
export interface ChartPoint {
  t: number;
  [series: string]: number | null;
}

const STEPS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/**
 * Ticks for a seconds axis: a round step chosen so that at most `maxTicks` fit, so no two ticks
 * ever read the same (Recharts' own ticks on a short span round to "36 s, 36 s, 37 s").
 */
export function secondsTicks(from: number, to: number, maxTicks = 6): number[] {
  if (!Number.isFinite(from) || !Number.isFinite(to)) return [];
  const span = Math.max(to - from, 0);
  const step = STEPS.find((candidate) => span / candidate <= maxTicks - 1) ?? Math.ceil(span / (maxTicks - 1) / 3600) * 3600;
  const ticks: number[] = [];
  for (let tick = Math.ceil(from / step) * step; tick <= to + 1e-9; tick += step) ticks.push(Number(tick.toFixed(3)));
  return ticks.length > 0 ? ticks : [from];
}

/** "45 s", "2 min", "1 min 30 s", "1.5 s": each distinct tick reads differently. */
export function formatSeconds(seconds: number): string {
  if (Math.abs(seconds) < 60) return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const minutes = Math.trunc(whole / 60);
  const rest = Math.abs(whole % 60);
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
