import type { LabEngine } from '../../support/lab-engine.js';
import { benchName, createImage, diskPath, handGuestPaths, removeHandGuest, startHandGuest, waitBooted } from '../guest-setup.js';
import { measure, type ProcedureOutcome } from '../measure.js';
import { HandQmp, type MigrateStatus } from '../qmp.js';
import type { BenchContext, RunResult } from '../types.js';
import type { HandRunOptions } from './article.js';
import { handPort } from './ports.js';

/**
 * "tuned": the best hand-written QMP sequence for the same job, i.e. the practical limit of QEMU
 * here. Block: NBD export + blockdev-mirror, return-path, pause-before-switchover, no bandwidth
 * cap, event-driven (no polling delay), destination resuming by itself. Live: the same minus the
 * disk. Dirty: auto-converge with a steeper throttle. Offline: quit, then qemu-nbd on the
 * destination and a sparse, out-of-order qemu-img convert from the source.
 */
export async function tunedRun(ctx: BenchContext, run: HandRunOptions): Promise<RunResult> {
  const { le } = ctx;
  const name = benchName(`tun-${run.kind}`);
  const disk = diskPath(run.spec, name);
  const paths = handGuestPaths(name);
  try {
    await createImage(le, 'a', disk, run.spec);
    await startHandGuest(le, 'a', { name, spec: run.spec, disk, diskStyle: 'blockdev' });
    await waitBooted(le, 'a', paths.serialLog, 1500);
    return await measure(le, 'tuned', { source: paths.serialLog, destination: paths.serialLog }, () =>
      run.mode === 'offline' ? tunedOffline(le, name, disk, run) : tunedLive(le, name, disk, run),
    );
  } finally {
    await removeHandGuest(le, 'a', name, [disk]);
    await removeHandGuest(le, 'b', name, [disk, `/run/ferry-bench/${name}-nbd.pid`]);
  }
}

async function tunedLive(le: LabEngine, name: string, disk: string, run: HandRunOptions): Promise<ProcedureOutcome> {
  const paths = handGuestPaths(name);
  const block = run.mode === 'block';
  const bAddress = le.labHost('b').address;
  const [a, b] = [await le.engine.transport('a'), await le.engine.transport('b')];
  const createTarget = block
    ? le.sh('b', `mkdir -p $(dirname ${disk}) && qemu-img create -q -f qcow2 -o compat=1.1 ${disk} ${run.spec.diskMiB}M`)
    : Promise.resolve('');
  // Source-side settings do not depend on the destination: issue them while it starts.
  const sourceReady = (async () => {
    const source = await HandQmp.open(a, paths.qmpSocket);
    const capabilities = ['events', 'return-path', ...(block ? ['pause-before-switchover'] : []), ...(run.bandwidthMiBps !== undefined ? ['auto-converge'] : [])];
    await source.cmd('migrate-set-capabilities', { capabilities: capabilities.map((capability) => ({ capability, state: true })) });
    await source.cmd('migrate-set-parameters', {
      'max-bandwidth': run.bandwidthMiBps === undefined ? 0 : Math.round(run.bandwidthMiBps * 1024 * 1024),
      ...(run.bandwidthMiBps !== undefined ? { 'cpu-throttle-initial': 40, 'cpu-throttle-increment': 20 } : {}),
    });
    return source;
  })();
  await createTarget;
  await startHandGuest(le, 'b', { name, spec: run.spec, disk, diskStyle: 'blockdev', incoming: 'defer' });
  const destination = await HandQmp.open(b, paths.qmpSocket);
  const source = await sourceReady;
  try {
    await destination.cmd('migrate-set-capabilities', { capabilities: ['events', 'return-path', 'late-block-activate'].map((capability) => ({ capability, state: true })) });
    let nbdPort = 0;
    if (block) {
      for (let attempt = 0; attempt < 5 && nbdPort === 0; attempt++) {
        const candidate = handPort();
        try {
          await destination.cmd('nbd-server-start', { addr: { type: 'inet', data: { host: '0.0.0.0', port: String(candidate) } } });
          nbdPort = candidate;
        } catch (error) {
          if (!/in use|bind/i.test((error as Error).message)) throw error;
        }
      }
      await destination.cmd('block-export-add', { type: 'nbd', id: 'export0', 'node-name': 'disk0', name: 'disk0', writable: true });
    }
    await destination.cmd('migrate-incoming', { uri: 'tcp:0.0.0.0:0' });
    const incoming = await destination.cmd<MigrateStatus>('query-migrate');
    const port = incoming['socket-address']?.[0]?.port;
    if (!port) throw new Error('destination did not say which port it listens on');

    let mirrorBytes = 0;
    if (block) {
      await source.cmd('blockdev-add', { driver: 'nbd', 'node-name': 'target0', server: { type: 'inet', host: bAddress, port: String(nbdPort) }, export: 'disk0' });
      await source.cmd('blockdev-mirror', { 'job-id': 'mirror0', device: 'disk0', target: 'target0', sync: 'full', 'auto-finalize': true, 'auto-dismiss': false });
      await source.event('BLOCK_JOB_READY', (data) => data['device'] === 'mirror0');
    }
    await source.cmd('migrate', { uri: `tcp:${bAddress}:${port}` });
    if (block) {
      await source.event('MIGRATION', (data) => data['status'] === 'pre-switchover' || data['status'] === 'failed');
      await source.cmd('block-job-cancel', { device: 'mirror0' });
      const completed = await source.event('BLOCK_JOB_COMPLETED', (data) => data['device'] === 'mirror0');
      mirrorBytes = Number(completed.data['offset'] ?? 0);
      await source.cmd('migrate-continue', { state: 'pre-switchover' });
    }
    const end = await Promise.race([
      source.event('MIGRATION', (data) => data['status'] === 'completed' || data['status'] === 'failed', run.budgetMs ?? 900_000).then((event) => String(event.data['status'])),
      new Promise<string>((resolve) => setTimeout(() => resolve('budget'), run.budgetMs ?? 900_000)),
    ]);
    if (end !== 'completed') {
      const info = await source.cmd<MigrateStatus>('query-migrate');
      await source.cmd('migrate_cancel').catch(() => undefined);
      return { ok: end === 'budget', converged: false, error: end === 'budget' ? `not finished within ${run.budgetMs} ms; cancelled` : `migration ${end}: ${info['error-desc'] ?? ''}`, totalMs: null, setupMs: info['setup-time'] ?? null, downtimeMs: null, ramBytes: info.ram?.transferred ?? 0, diskBytes: [], extra: { maxThrottlePercent: info['cpu-throttle-percentage'] ?? 0 } };
    }
    await destination.waitRunning();
    const doneAt = Date.now();
    const info = await source.cmd<MigrateStatus>('query-migrate');
    if (block) {
      await source.cmd('job-dismiss', { id: 'mirror0' });
      await source.cmd('blockdev-del', { 'node-name': 'target0' });
      await destination.cmd('nbd-server-stop');
    }
    await source.quit();
    return {
      ok: true, converged: true, doneAt,
      totalMs: info['total-time'] ?? null, setupMs: info['setup-time'] ?? null, downtimeMs: info.downtime ?? null,
      ramBytes: info.ram?.transferred ?? 0, diskBytes: block ? [mirrorBytes] : [],
      extra: { passes: info.ram?.['dirty-sync-count'] ?? null, maxThrottlePercent: info['cpu-throttle-percentage'] ?? 0 },
    };
  } finally {
    await source.close();
    await destination.close();
  }
}

async function tunedOffline(le: LabEngine, name: string, disk: string, run: HandRunOptions): Promise<ProcedureOutcome> {
  const paths = handGuestPaths(name);
  const source = await HandQmp.open(await le.engine.transport('a'), paths.qmpSocket);
  await source.quit();
  const port = handPort();
  const nbdPid = `/run/ferry-bench/${name}-nbd.pid`;
  await Promise.all([
    le.sh('a', `while kill -0 $(cat ${paths.pidFile} 2>/dev/null) 2>/dev/null; do sleep 0.02; done; true`),
    le.sh('b', `qemu-img create -q -f qcow2 -o compat=1.1 ${disk} ${run.spec.diskMiB}M && qemu-nbd --fork --pid-file=${nbdPid} -f qcow2 -x disk0 -b 0.0.0.0 -p ${port} --cache=none ${disk}`),
  ]);
  const allocated = (JSON.parse(await le.sh('a', `qemu-img info -U --output=json ${disk}`)) as { 'actual-size'?: number })['actual-size'] ?? 0;
  await le.sh('a', `qemu-img convert -n --target-is-zero -W -m 8 -f qcow2 --target-image-opts ${disk} driver=nbd,server.type=inet,server.host=${le.labHost('b').address},server.port=${port},export=disk0`);
  await le.sh('b', `kill $(cat ${nbdPid}); while kill -0 $(cat ${nbdPid}) 2>/dev/null; do sleep 0.02; done; rm -f ${nbdPid}`);
  await startHandGuest(le, 'b', { name, spec: run.spec, disk, diskStyle: 'blockdev' });
  return { ok: true, converged: true, totalMs: null, setupMs: null, downtimeMs: null, ramBytes: 0, diskBytes: [allocated] };
}
