import { shellCommand } from '../../../src-main/core/ssh/shell.js';
import { ensureLibvirtd, labDomainXml, libvirtUri, virsh, virshWithXml } from '../../lab/libvirt.js';
import type { LabEngine } from '../../support/lab-engine.js';
import { HAND_LOG_DIR, IMAGE_DIR, appendLine, benchName, createImage, diskPath, handGuestPaths, waitBooted } from '../guest-setup.js';
import { measure, type ProcedureOutcome } from '../measure.js';
import { sleep } from '../stats.js';
import type { BenchContext, RunResult } from '../types.js';
import type { HandRunOptions } from './article.js';

/**
 * "libvirt": what most operators would run, libvirt 9.0's own live block migration
 * (`virsh migrate --live --copy-storage-all`, i.e. NBD + drive-mirror driven by libvirtd) between
 * the lab's per-host libvirtds, with libvirt's defaults. The destination image is made first, as
 * libvirt requires. Times, downtime and bytes come from `domjobinfo --completed` on the source,
 * where the persistent domain stays defined (shut off) after the move.
 */
export async function libvirtRun(ctx: BenchContext, run: HandRunOptions): Promise<RunResult> {
  if (run.mode !== 'block') throw new Error(`the libvirt baseline runs block migrations only, not ${run.mode}`);
  const { le } = ctx;
  await ensureLibvirtd(le.lab, le.labHost('a'));
  await ensureLibvirtd(le.lab, le.labHost('b'));
  const name = `lv-${benchName(run.kind)}`;
  const disk = diskPath(run.spec, name);
  const serialLog = handGuestPaths(name).serialLog;
  try {
    await le.sh('b', shellCommand(['mkdir', '-p', HAND_LOG_DIR, IMAGE_DIR]));
    await le.sh('a', shellCommand(['mkdir', '-p', HAND_LOG_DIR]));
    await createImage(le, 'a', disk, run.spec);
    const xml = labDomainXml({
      name, memoryMiB: run.spec.memoryMiB, accel: le.lab.guest.accel, kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd,
      append: appendLine(run.spec), serialLog, disk,
    });
    await virshWithXml(le.labHost('a'), 'define', xml);
    await virsh(le.labHost('a'), ['start', name]);
    await waitBooted(le, 'a', serialLog, 1500);
    return await measure(le, 'libvirt', { source: serialLog, destination: serialLog }, () => libvirtBlock(le, name, disk, run));
  } finally {
    await removeLibvirtGuest(le, name, [disk, serialLog]);
  }
}

async function libvirtBlock(le: LabEngine, name: string, disk: string, run: HandRunOptions): Promise<ProcedureOutcome> {
  const [a, b] = [le.labHost('a'), le.labHost('b')];
  await le.sh('b', shellCommand(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, `${run.spec.diskMiB}M`]));
  const budgetMs = run.budgetMs ?? 900_000;
  const migrated = await virsh(a, ['migrate', '--live', '--copy-storage-all', '--verbose', name, libvirtUri(b)], true, budgetMs).catch((error: unknown) => ({
    code: -1, stdout: '', stderr: (error as Error).message,
  }));
  if (migrated.code !== 0) {
    await virsh(a, ['domjobabort', name], true);
    return { ok: false, converged: false, error: `virsh migrate: ${migrated.stderr.trim()}`, totalMs: null, setupMs: null, downtimeMs: null, ramBytes: 0, diskBytes: [] };
  }
  // virsh returns once libvirt has resumed the guest on b; ask b, as the other baselines ask QEMU.
  const deadline = Date.now() + 30_000;
  while ((await virsh(b, ['domstate', name], true)).stdout.trim() !== 'running') {
    if (Date.now() > deadline) throw new Error(`${name} is not running on b after virsh migrate returned`);
    await sleep(50);
  }
  const doneAt = Date.now();
  const job = parseJobInfo((await virsh(a, ['domjobinfo', '--completed', name])).stdout);
  return {
    ok: true, converged: true, doneAt,
    totalMs: job.number('Time elapsed'), setupMs: job.number('Setup time'), downtimeMs: job.number('Total downtime'),
    ramBytes: job.bytes('Memory processed') ?? 0, diskBytes: [job.bytes('File processed') ?? 0],
    extra: { passes: job.number('Iteration') },
  };
}

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** `virsh domjobinfo` prints "Key:  value [unit]" lines; sizes in binary units with 3 decimals. */
export function parseJobInfo(text: string): { number(key: string): number | null; bytes(key: string): number | null } {
  const fields = new Map<string, { value: number; unit: string }>();
  for (const line of text.split('\n')) {
    const match = /^([^:]+):\s+(-?[\d.]+)\s*(\S*)\s*$/.exec(line);
    if (match?.[1] && match[2]) fields.set(match[1].trim(), { value: Number(match[2]), unit: match[3] ?? '' });
  }
  return {
    number: (key) => fields.get(key)?.value ?? null,
    bytes: (key) => {
      const field = fields.get(key);
      const scale = field ? UNIT_BYTES[field.unit] : undefined;
      return field && scale !== undefined ? Math.round(field.value * scale) : null;
    },
  };
}

/** Forgets the domain on both hosts, whatever state a failed run left, and removes its files there. */
async function removeLibvirtGuest(le: LabEngine, name: string, files: string[]): Promise<void> {
  for (const host of ['a', 'b']) {
    const labHost = le.labHost(host);
    await virsh(labHost, ['destroy', name], true).catch(() => undefined);
    await virsh(labHost, ['undefine', name], true).catch(() => undefined);
    await le.sh(host, shellCommand(['rm', '-f', ...files, `/var/log/libvirt/qemu/${name}.log`])).catch(() => undefined);
  }
}
