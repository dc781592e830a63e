import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './exec.js';
import { versionedQ35 } from './guest.js';
import { labPaths } from './layout.js';
import type { Accel } from './types.js';

interface AccelCache {
  kernel: string;
  accel: Accel;
}

/**
 * KVM only counts if a guest actually boots and prints its heartbeat under it: on some machines
 * /dev/kvm exists but Linux guests hang. The answer is cached per kernel because a probe costs ~15 s.
 */
export async function ensureAccel(dir: string, kernelId: string, log: (l: string) => void): Promise<Accel> {
  const p = labPaths(dir);
  if (existsSync(p.accelFile)) {
    const cached = JSON.parse(readFileSync(p.accelFile, 'utf8')) as AccelCache;
    if (cached.kernel === kernelId && (cached.accel === 'kvm' || cached.accel === 'tcg')) return cached.accel;
  }
  const accel: Accel = (await probeKvm(dir)) ? 'kvm' : 'tcg';
  log(`accel: KVM probe ${accel === 'kvm' ? 'booted' : 'failed'}, using ${accel}`);
  const record: AccelCache = { kernel: kernelId, accel };
  writeFileSync(p.accelFile, JSON.stringify(record) + '\n');
  return accel;
}

async function probeKvm(dir: string): Promise<boolean> {
  const p = labPaths(dir);
  const serial = join(dir, 'kvm-probe.log');
  rmSync(serial, { force: true });
  const child = spawn(
    'qemu-system-x86_64',
    ['-machine', versionedQ35(), '-accel', 'kvm', '-cpu', 'host', '-m', '128', '-nodefaults', '-display', 'none',
      '-serial', `file:${serial}`, '-kernel', p.kernel, '-initrd', p.initrd, '-append', 'console=ttyS0 quiet'],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  const deadline = Date.now() + 15_000;
  let ok = false;
  while (!exited && Date.now() < deadline) {
    await sleep(250);
    if (existsSync(serial) && /ferry-heartbeat \d+/.test(readFileSync(serial, 'utf8'))) {
      ok = true;
      break;
    }
  }
  if (!exited) child.kill('SIGKILL');
  rmSync(serial, { force: true });
  return ok;
}
