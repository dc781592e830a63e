import { sshRun } from './ssh.js';
import type { LabHost, LabStatus } from './types.js';

/**
 * Real hosts often have a login shell that takes a second to start (pyenv, nvm or conda set up
 * in ~/.bashrc), and sshd starts one for every SSH command: bash run by sshd reads ~/.bashrc even
 * when not interactive. A lab host's root home is its own tmpfs, so this touches only that host.
 */
const BASHRC = '/root/.bashrc';
const STARTS = '/root/.ferry-lab-login-shells';

/** Makes every login shell on the host take `seconds` longer and count itself; 0 restores a quick one. */
export async function setLoginShellDelay(lab: LabStatus, host: LabHost, seconds: number): Promise<void> {
  if (!(seconds >= 0 && seconds <= 10)) throw new Error(`a login shell delay is 0–10 s, not ${seconds}`);
  const script =
    seconds === 0
      ? `rm -f ${BASHRC} ${STARTS}`
      : `printf '%s\\n' '# Ferry lab: a slow login shell, as on hosts with pyenv/nvm/conda in ~/.bashrc' 'echo "$$" >> ${STARTS}' 'sleep ${seconds}' > ${BASHRC} && : > ${STARTS}`;
  await sshRun(lab, host, script);
}

/** How many login shells the host has started since its delay was set (this query's own not counted). */
export async function loginShellStarts(lab: LabStatus, host: LabHost): Promise<number> {
  const result = await sshRun(lab, host, `cat ${STARTS} 2>/dev/null | wc -l`);
  // The shell that runs this query counted itself before running it.
  return Math.max(0, Number(result.stdout.trim()) - 1);
}
