import { posix } from 'node:path';
import { FerryError } from '../errors.js';
import { remoteLayout } from '../paths.js';
import { parseImageChain } from '../storage/image-info.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import { vmLayout } from '../vm/layout.js';
import { launchQemu } from '../vm/launch.js';
import { destinationDefinition, destinationFormat, prepareDestinationImages } from './destination.js';
import { MonitorHandle } from './monitor-handle.js';
import { freePorts } from './ports.js';
import { sleep, throwIfCancelled, type PlannedDisk, type RunContext } from './run-context.js';
import { Sampler, sampledDisks, type TransferTotals } from './sampler.js';
import { installPsk, tlsCredsId } from './tls.js';
import { stopProcess } from '../vm/qemu-process.js';
import { copyFileBetweenHosts } from '../remote/stream-file.js';

export interface OfflineHooks {
  /** Shuts the VM down on the source (ACPI, then forced after the timeout). */
  stopSource(): Promise<void>;
  /** Ends the source QEMU (left paused after saving its state), forcing it if it will not quit. */
  stopSourceProcess(): Promise<void>;
  /** Persists the definition on the destination and removes it from the source. */
  moveDefinition(): Promise<void>;
}

const PROGRESS_INTERVAL_MS = 500;

/**
 * Offline migration: the guest is stopped (or paused with its state saved), each disk that is not
 * already shared is copied sparse-aware (qemu-nbd on the destination, qemu-img convert on the
 * source, so only allocated data crosses), then the definition moves and the VM starts there.
 */
export async function runOfflineMigration(context: RunContext, sourceSocket: string | null, hooks: OfflineHooks): Promise<void> {
  const { options } = context;
  const stateFile = posix.join(remoteLayout.stateDir, 'state', `${context.definition.name}-${context.id}.vmstate`);
  context.setPhase('preparing-destination');
  const stopping = (async () => {
    if (sourceSocket === null) return;
    if (options.keepState) {
      await saveState(context, sourceSocket, stateFile);
    } else {
      await context.pushUndo({ kind: 'restart-source', host: options.from, vm: context.definition.name });
      await hooks.stopSource();
    }
  })();
  // The destination's images and keys do not depend on the source being down: made meanwhile.
  const preparing = (async () => {
    await prepareDestinationImages(context, false);
    return options.transport === 'tls' ? installPsk(context) : null;
  })();
  const [stopped, prepared] = await Promise.allSettled([stopping, preparing]);
  if (stopped.status === 'rejected') throw stopped.reason;
  if (prepared.status === 'rejected') throw prepared.reason;
  const tlsDirectory = prepared.value;
  throwIfCancelled(context.signal);
  context.setPhase('copying-disks');
  const sampler = new Sampler(context.startedAt, sampledDisks(context.disks, options.incremental));
  const totals = new Map<string, TransferTotals>();
  for (const disk of context.disks.filter((candidate) => !candidate.shared)) {
    await copyDisk(context, disk, tlsDirectory, sampler, totals);
    context.result.diskBytes.set(disk.source.device, totals.get(disk.source.device)?.transferred ?? 0);
  }
  throwIfCancelled(context.signal);

  const definition = destinationDefinition(context.definition, context.disks);
  if (options.keepState && sourceSocket !== null) {
    await moveStateFile(context, stateFile);
  }
  if (!options.noStart) {
    context.setPhase('finishing');
    const layout = vmLayout(definition.name);
    await context.pushUndo({ kind: 'kill-qemu', host: options.to, pidFile: layout.pidFile, qmpSocket: layout.qmpSocket });
    const resume = options.keepState && sourceSocket !== null;
    // Started paused: a QEMU that has not run the guest yet can still be thrown away if Ferry
    // dies here. It runs only after the commit point is in the journal.
    const started = await launchQemu(context.destination, definition, {
      kvmUsable: context.kvmOnDestination,
      paused: true,
      extraArgv: resume ? ['-incoming', `exec:cat ${stateFile}`] : [],
      timeoutMs: 120_000,
    });
    if (started.code !== 0) {
      throw new FerryError('migration-failed', `The VM did not start on ${options.to}: ${started.stderr.trim()}`, { hint: 'Check the machine type and disks on the destination; Ferry undoes the rest, and the report says where the VM is.' });
    }
    const destination = new MonitorHandle(context.destination, layout.qmpSocket);
    try {
      if (resume) await waitForSavedState(destination);
      await context.commit();
      await destination.command('cont');
    } finally {
      await destination.close();
    }
  } else {
    await context.commit();
  }
  if (options.keepState && sourceSocket !== null) {
    // Before the definition moves: that also removes the source's monitor socket and pid file.
    await hooks.stopSourceProcess();
    await context.source.exec(shellCommand(['rm', '-f', '--', stateFile]));
    await context.destination.exec(shellCommand(['rm', '-f', '--', stateFile]));
  }
  await hooks.moveDefinition();
}

/** Pauses the guest and writes its RAM and device state to a file on the source. */
async function saveState(context: RunContext, sourceSocket: string, stateFile: string): Promise<void> {
  const source = new MonitorHandle(context.source, sourceSocket);
  try {
    await context.source.run(shellCommand(['mkdir', '-p', '-m', '0700', posix.dirname(stateFile)]));
    await context.pushUndo({ kind: 'remove-file', host: context.options.from, path: stateFile });
    if (context.sourceRunning) await context.pushUndo({ kind: 'resume-source', host: context.options.from, qmpSocket: sourceSocket });
    await source.command('stop');
    await source.command('migrate-set-parameters', { 'max-bandwidth': 0 });
    await source.command('migrate', { uri: `exec:cat > ${shellQuote(stateFile)}` });
    for (;;) {
      const info = await source.query<{ status?: string; 'error-desc'?: string; ram?: { transferred?: number } }>('query-migrate');
      if (info.status === 'completed') {
        context.result.ramBytes = info.ram?.transferred ?? 0;
        return;
      }
      if (info.status === 'failed' || info.status === 'cancelled') {
        throw new FerryError('migration-failed', `Saving the VM state failed: ${info['error-desc'] ?? info.status}`, { hint: 'Check free space under /var/lib/ferry on the source.' });
      }
      await sleep(100);
    }
  } finally {
    await source.close();
  }
}

async function moveStateFile(context: RunContext, stateFile: string): Promise<void> {
  await context.pushUndo({ kind: 'remove-file', host: context.options.to, path: stateFile });
  await context.destination.run(shellCommand(['mkdir', '-p', '-m', '0700', posix.dirname(stateFile)]));
  // Streamed host to host: a VM's RAM image can be larger than anything Ferry should hold in memory.
  await copyFileBetweenHosts(context.source, stateFile, context.destination, stateFile, { mode: 0o600, signal: context.signal });
}

/** Waits until the paused destination has read the whole saved state. */
async function waitForSavedState(destination: MonitorHandle): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const status = await destination.query<{ status: string }>('query-status');
    if (status.status !== 'inmigrate') break;
    if (Date.now() > deadline) throw new FerryError('timeout', 'Restoring the saved state took too long', { hint: 'Ferry undoes the move; the report says where the VM is.' });
    await sleep(200);
  }
  const info = await destination.query<{ status?: string }>('query-migrate');
  if (info.status !== 'completed') throw new FerryError('migration-failed', `Restoring the saved state failed (${info.status ?? 'unknown'})`, { hint: 'Ferry undoes the move; the report says where the VM is.' });
}

/** qemu-nbd serves the empty destination image; qemu-img on the source writes only allocated data into it. */
async function copyDisk(context: RunContext, disk: PlannedDisk, tlsDirectory: string | null, sampler: Sampler, totals: Map<string, TransferTotals>): Promise<void> {
  const { options } = context;
  const index = disk.source.index;
  const nbdPidFile = `${remoteLayout.runDir}/nbd-${context.id}-${index}.pid`;
  const copyPidFile = `${remoteLayout.runDir}/copy-${context.id}-${index}.pid`;
  const tlsObject = (endpoint: 'server' | 'client') => (tlsDirectory ? ['--object', `tls-creds-psk,id=${tlsCredsId(context.id)},endpoint=${endpoint},dir=${tlsDirectory}${endpoint === 'client' ? ',username=ferry' : ''}`] : []);
  await context.pushUndo({ kind: 'kill-process', host: options.to, pidFile: nbdPidFile, ...nbdHelper(nbdPidFile) });
  const port = await serveImage(context, disk, nbdPidFile, [...tlsObject('server'), ...(tlsDirectory ? ['--tls-creds', tlsCredsId(context.id)] : [])]);
  const target = `driver=nbd,server.type=inet,server.host=${context.destinationAddress},server.port=${port},export=ferry${tlsDirectory ? `,tls-creds=${tlsCredsId(context.id)}` : ''}`;
  // Skipping zero areas is only right on an image this migration created; a reused one may hold old data.
  const zeroTarget = context.createdImages.has(disk.destinationPath) ? ['--target-is-zero'] : [];
  // A device on either side says nothing about allocation (qemu-img reports 0 for it): progress
  // comes from qemu-img's own -p counter, written to a file the sampler reads.
  const deviceCopy = disk.source.isBlockDevice || disk.destinationDevice === true;
  const progressFile = `${remoteLayout.runDir}/copy-${context.id}-${index}.progress`;
  // -W -m 8: eight requests in flight, written out of order — the image is only used once whole.
  // Zeroed areas (-S, on by default) go out as NBD zero requests, so a mostly empty device does
  // not cross the link byte by byte as dd would send it.
  const convert = shellCommand(['qemu-img', 'convert', '-n', '-W', '-m', '8', ...(deviceCopy ? ['-p'] : []), ...zeroTarget, ...tlsObject('client'), '-f', disk.source.disk.format, '--target-image-opts', '--', disk.source.disk.path, target]);
  await context.pushUndo({ kind: 'kill-process', host: options.from, pidFile: copyPidFile, program: 'qemu-img', argument: disk.source.disk.path });
  const total = disk.source.allocatedBytes;
  totals.set(disk.source.device, { transferred: 0, total });
  let finished = false;
  const copy = context.source
    .exec(`echo $$ > ${shellQuote(copyPidFile)}; exec ${convert}${deviceCopy ? ` > ${shellQuote(progressFile)}` : ''}`, { timeoutMs: 24 * 3600_000 })
    .finally(() => {
      finished = true;
    });
  const abort = () => void stopProcess(context.source, { pidFile: copyPidFile, expect: { kind: 'helper', program: 'qemu-img', argument: disk.source.disk.path }, graceSeconds: 2 }).catch(() => undefined);
  context.signal.addEventListener('abort', abort, { once: true });
  try {
    while (!finished) {
      await Promise.race([copy, sleep(PROGRESS_INTERVAL_MS)]);
      const copied = deviceCopy ? await reportedProgress(context, progressFile, total) : await allocatedBytes(context, disk.destinationPath);
      totals.set(disk.source.device, { transferred: Math.min(copied, total), total });
      context.emitSample(sampler.sample(Date.now(), 'copying-disks', null, [], totals));
    }
    const result = await copy;
    throwIfCancelled(context.signal);
    if (result.code !== 0) {
      throw new FerryError('migration-failed', `Copying ${disk.source.disk.path} to ${options.to} failed: ${result.stderr.trim()}`, { hint: 'Check the link between the hosts and the free space on the destination.' });
    }
    totals.set(disk.source.device, { transferred: total, total });
    context.emitSample(sampler.sample(Date.now(), 'copying-disks', null, [], totals));
    // qemu-nbd ends once its one client is done; until then it holds the image's write lock,
    // which the VM starting there needs.
    await stopProcess(context.destination, { pidFile: nbdPidFile, expect: { kind: 'helper', ...nbdHelper(nbdPidFile) }, waitSeconds: 10, graceSeconds: 0.5 });
  } finally {
    context.signal.removeEventListener('abort', abort);
    await context.source.exec(shellCommand(['rm', '-f', '--', copyPidFile, progressFile]));
  }
}

/**
 * Starts qemu-nbd for one destination image on a free port. Other migrations to the same host
 * (an evacuation runs several) pick ports at the same moment, so a port taken in between is
 * skipped rather than failing the copy.
 */
async function serveImage(context: RunContext, disk: PlannedDisk, pidFile: string, tlsArguments: string[]): Promise<number> {
  const mkdir = shellCommand(['mkdir', '-p', '-m', '0700', remoteLayout.runDir]);
  let lastRefusal = '';
  for (const port of await freePorts(context.destination, context.options.port ?? 49152, 8)) {
    const started = await context.destination.exec(
      `${mkdir} && ${shellCommand(['qemu-nbd', '--fork', `--pid-file=${pidFile}`, '-f', destinationFormat(disk), '-x', 'ferry', '-b', context.destinationAddress, '-p', String(port), '--cache=none', ...tlsArguments, '--', disk.destinationPath])}`,
    );
    if (started.code === 0) return port;
    lastRefusal = started.stderr.trim();
    if (!/in use|available port/i.test(started.stderr)) {
      throw new FerryError('remote-command-failed', `qemu-nbd could not serve ${disk.destinationPath} on ${context.options.to}: ${started.stderr.trim()}`, { hint: 'Check the image on the destination and that qemu-nbd is installed there.' });
    }
  }
  throw new FerryError('busy', `No free port for the disk copy on ${context.options.to}${lastRefusal ? ` (qemu-nbd: ${lastRefusal})` : ''}`, { hint: 'Choose another --port.' });
}

/** qemu-nbd as the undo steps and the stop after the copy recognise it: by its own pid file. */
const nbdHelper = (pidFile: string) => ({ program: 'qemu-nbd', argument: `--pid-file=${pidFile}` });

async function allocatedBytes(context: RunContext, path: string): Promise<number> {
  const info = await context.destination.exec(shellCommand(['qemu-img', 'info', '-U', '--output=json', '--', path]));
  return info.code === 0 ? parseImageChain(info.stdout)?.[0]?.['actual-size'] ?? 0 : 0;
}

/** qemu-img -p writes "(12.34/100%)" again and again; the last one says how far the copy is. */
export function parseConvertProgress(text: string): number | null {
  const matches = [...text.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
  const last = matches[matches.length - 1]?.[1];
  return last === undefined ? null : Math.min(100, Number(last));
}

async function reportedProgress(context: RunContext, progressFile: string, total: number): Promise<number> {
  const tail = await context.source.exec(`tail -c 64 -- ${shellQuote(progressFile)} 2>/dev/null`);
  const percent = parseConvertProgress(tail.stdout);
  return percent === null ? 0 : Math.round((percent / 100) * total);
}
