import { SshTransport } from '../../../src-main/core/ssh/connection.js';
import { loginShellStarts, setLoginShellDelay } from '../../lab/login-shell.js';
import { median } from '../stats.js';
import type { BenchContext } from '../types.js';

/** The login-shell start-up cost the slow case adds: a pyenv/nvm/conda ~/.bashrc on a real host. */
export const SLOW_SHELL_SECONDS = 0.5;

export interface RoundtripRow {
  shell: 'quick' | 'slow';
  path: 'host session' | 'channel per command';
  commands: number;
  medianMs: number | null;
  p90Ms: number | null;
  /** Connect + first command (which starts the session, on the session path). */
  firstMs: number;
  /** Login shells the host started for the whole row, connect included (counted with the slow shell only). */
  loginShells: number | null;
}

export interface RoundtripResult {
  scenario: 'roundtrip';
  slowShellSeconds: number;
  rows: RoundtripRow[];
  /** Session median with the slow login shell / with the quick one: 1.0 means independent of it. */
  slowOverQuick: number | null;
}

function percentile(values: number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? null;
}

/**
 * Host command round trip: `true` run one after another on host a, through the host session and
 * through a channel per command, with the lab's quick login shell and with one made slow.
 */
export async function roundtripScenario(ctx: BenchContext): Promise<RoundtripResult> {
  const { lab } = ctx.le;
  const host = ctx.le.labHost('a');
  const rows: RoundtripRow[] = [];
  const runRow = async (shell: RoundtripRow['shell'], path: RoundtripRow['path'], commands: number): Promise<void> => {
    // Setting the delay also restarts the count of login shells.
    await setLoginShellDelay(lab, host, shell === 'slow' ? SLOW_SHELL_SECONDS : 0);
    const transport = new SshTransport({
      label: 'bench-a',
      host: host.address,
      port: host.port,
      username: host.user,
      auth: { identityFile: host.identityFile },
      knownHostsFiles: [{ path: lab.knownHostsFile, writable: false }],
      hostSession: path === 'host session',
    });
    try {
      const firstStart = performance.now();
      await transport.run('true');
      const firstMs = performance.now() - firstStart;
      const times: number[] = [];
      for (let i = 0; i < commands; i++) {
        const start = performance.now();
        await transport.run('true');
        times.push(performance.now() - start);
      }
      const loginShells = shell === 'slow' ? await loginShellStarts(lab, host) : null;
      rows.push({ shell, path, commands, medianMs: median(times), p90Ms: percentile(times, 0.9), firstMs, loginShells });
      ctx.log(`roundtrip ${shell} shell, ${path}: median ${median(times)?.toFixed(2)} ms over ${commands}, first ${firstMs.toFixed(0)} ms`);
    } finally {
      await transport.close();
    }
  };
  const many = ctx.quick ? 100 : 300;
  try {
    await runRow('quick', 'host session', many);
    await runRow('quick', 'channel per command', many);
    await runRow('slow', 'host session', many);
    await runRow('slow', 'channel per command', ctx.quick ? 5 : 10);
  } finally {
    await setLoginShellDelay(lab, host, 0);
  }
  const sessionMedian = (shell: RoundtripRow['shell']) => rows.find((row) => row.shell === shell && row.path === 'host session')?.medianMs ?? null;
  const quick = sessionMedian('quick');
  const slow = sessionMedian('slow');
  return { scenario: 'roundtrip', slowShellSeconds: SLOW_SHELL_SECONDS, rows, slowOverQuick: quick === null || slow === null ? null : slow / quick };
}
