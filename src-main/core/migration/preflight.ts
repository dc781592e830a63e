import { posix } from 'node:path';
import type { HostInfo, ModeAvailability, PreflightItem, PreflightReport, VmDefinition, VmRunState } from '../api/types.js';
import { isFerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { livePids } from '../vm/state.js';
import { definitionBridges } from '../vm/definition.js';
import { bridgeMissingError, missingBridges } from '../vm/launch.js';
import { requireFirmware } from '../vm/firmware.js';
import { vmLayout } from '../vm/layout.js';
import { cpuModelCheck } from './cpu-check.js';
import { existingImage } from './destination.js';
import { deviceItems, readDeviceReports } from './device-checks.js';
import type { SourceDisk } from './disks.js';
import { MonitorHandle } from './monitor-handle.js';
import { testReachability } from './reachability.js';
import type { MigrationOptions, PlannedDisk } from './run-context.js';
import { tcgLostWritesRisk, TCG_LOST_WRITES_FIXED_IN } from './known-qemu-bugs.js';

export interface PreflightFacts {
  options: MigrationOptions;
  definition: VmDefinition;
  sourceState: VmRunState;
  sourceSocket: string;
  source: HostTransport;
  destination: HostTransport;
  sourceInfo: HostInfo;
  destinationInfo: HostInfo;
  disks: PlannedDisk[];
  destinationAddress: string;
  destPoolPath: string | undefined;
  destPoolProblem: string | undefined;
  /** Set when another migration of this VM is in flight. */
  busyWith: string | undefined;
}

const running = (state: VmRunState) => state === 'running' || state === 'paused';
const MIB = 1024 * 1024;
/** QEMU's own overhead on top of guest RAM, roughly, for the free-memory check. */
const QEMU_OVERHEAD_BYTES = 64 * MIB;

/** Which modes fit this VM, and why: the Migrate dialog and `ferry migrate` both offer from this. */
export function availableModes(state: VmRunState, disks: PlannedDisk[]): ModeAvailability[] {
  const local = disks.filter((disk) => !disk.shared);
  const isRunning = running(state);
  const localNames = local.map((disk) => posix.basename(disk.source.disk.path)).join(', ');
  return [
    {
      mode: 'live',
      possible: isRunning && local.length === 0,
      recommended: isRunning && local.length === 0,
      reason: !isRunning ? 'The VM is not running.' : local.length > 0 ? `Not on shared storage: ${localNames}. Use block migration.` : disks.length === 0 ? 'No disks: only memory moves.' : 'Every disk is on storage both hosts share: only memory moves.',
    },
    {
      mode: 'block',
      possible: isRunning,
      recommended: isRunning && local.length > 0,
      reason: !isRunning ? 'The VM is not running.' : local.length > 0 ? `Copies ${localNames} while the VM runs, then moves memory.` : 'Nothing to copy: every disk is shared, so this is a live migration.',
    },
    {
      mode: 'offline',
      possible: true,
      recommended: !isRunning,
      reason: isRunning ? 'Shuts the VM down (or saves its state with keep-state), copies its disks, starts it on the destination.' : 'The VM is off: its disks and definition move.',
    },
  ];
}

export interface Collector {
  items: PreflightItem[];
  error: Report;
  warning: Report;
  ok: (check: string, message: string) => void;
}

function collector(): Collector {
  const items: PreflightItem[] = [];
  return {
    items,
    error: (check, message, hint) => items.push({ level: 'error', check, message, ...(hint ? { hint } : {}) }),
    warning: (check, message, hint) => items.push({ level: 'warning', check, message, ...(hint ? { hint } : {}) }),
    ok: (check, message) => items.push({ level: 'ok', check, message }),
  };
}

/** Checks that need nothing from the plan, started while the plan is read (see startEarlyChecks). */
export interface EarlyChecks {
  name: Promise<Collector>;
  /** Only when the stream is sure to cross (live and block); offline needs the disks to know. */
  network: Promise<Collector> | undefined;
}

export interface EarlyFacts {
  options: MigrationOptions;
  source: HostTransport;
  destination: HostTransport;
  destinationAddress: string;
}

/**
 * The name check and the network test ask the hosts things the plan does not decide: they run
 * while the plan is read instead of after it (the network test is the slowest pre-flight step).
 */
export function startEarlyChecks(facts: EarlyFacts): EarlyChecks {
  const name = checkName({ vmName: facts.options.vm, destination: facts.destination, options: facts.options });
  const network = facts.options.mode === 'offline' ? undefined : checkNetwork({ ...facts, streamCrosses: true });
  // Awaited later; a rejection meanwhile is not unhandled.
  name.catch(() => undefined);
  network?.catch(() => undefined);
  return { name, network };
}

export async function runPreflight(facts: PreflightFacts, early?: EarlyChecks): Promise<PreflightReport> {
  const { definition } = facts;
  const modes = availableModes(facts.sourceState, facts.disks);
  const streamCrosses = facts.options.mode !== 'offline' || facts.disks.some((disk) => !disk.shared);
  // The checks that ask a host run side by side; their items keep a fixed order in the report.
  const [local, name, disks, blockers, network, bridges] = await Promise.all([
    localChecks(facts, modes),
    early?.name ?? checkName({ vmName: definition.name, destination: facts.destination, options: facts.options }),
    checkDisks(facts),
    checkBlockers(facts),
    early?.network ?? checkNetwork({ ...facts, streamCrosses }),
    checkBridges(facts),
  ]);
  const items = [...local.items.slice(0, local.splitAt), ...name.items, ...local.items.slice(local.splitAt), ...disks.items, ...blockers.items, ...network.items, ...bridges.items];
  if (facts.disks.length === 0) items.push({ level: 'warning', check: 'disks', message: `${definition.name} has no disks.` });
  return { ok: items.every((item) => item.level !== 'error'), items, modes };
}

/** Checks on what is already known; `splitAt` is where the name check's items go. */
function localChecks(facts: PreflightFacts, modes: ModeAvailability[]): Collector & { splitAt: number } {
  const { options, definition } = facts;
  const { items, error, warning, ok } = collector();
  const mode = modes.find((candidate) => candidate.mode === options.mode);
  if (options.from === options.to) error('hosts', 'Source and destination are the same host.', 'Pick another destination.');
  if (facts.busyWith) error('busy', `${definition.name} is already being migrated (${facts.busyWith}).`, 'Wait for it to finish or cancel it.');
  if (mode && !mode.possible) error('mode', `${options.mode} migration is not possible: ${mode.reason}`);
  else ok('mode', `${options.mode}: ${mode?.reason ?? ''}`);
  if (definition.adopted) error('definition', `${definition.name} was adopted from a hand-started QEMU.`, 'Ferry can only migrate VMs whose configuration it builds.');
  if (options.keepState && options.mode !== 'offline') error('options', '--keep-state belongs to offline migration.');
  if (options.keepState && !running(facts.sourceState)) error('options', '--keep-state needs a running VM to save.');
  if (options.incremental && options.mode !== 'block') error('options', '--incremental belongs to block migration.');
  if (options.postcopy && options.mode === 'offline') error('options', 'Postcopy belongs to live and block migration.');
  const splitAt = items.length;

  // QEMU and machine type.
  const olderDestination = compareVersions(facts.destinationInfo.qemuVersion, facts.sourceInfo.qemuVersion) < 0;
  if (!facts.destinationInfo.machineTypes.includes(definition.machineType)) {
    // The usual case in a rolling upgrade: a VM created on an upgraded host got that QEMU's newest type.
    const hint = olderDestination
      ? `A QEMU has only the machine types of its own release and older: ${definition.name} can move to ${options.to} only if it is created (or redefined while stopped) with a type ${options.to} has too, e.g. ${facts.destinationInfo.defaultMachineType} — during a rolling upgrade, create VMs with the oldest host's type. Or upgrade QEMU on ${options.to}.`
      : 'Install a QEMU on the destination that offers it (a newer QEMU keeps the old versioned types).';
    error('machine', `QEMU ${facts.destinationInfo.qemuVersion} on ${options.to} has no machine type ${definition.machineType}.`, hint);
  } else {
    ok('machine', `${options.to} offers machine type ${definition.machineType}.`);
  }
  if (olderDestination && options.mode !== 'offline') {
    warning(
      'qemu',
      `The destination runs an older QEMU (${facts.destinationInfo.qemuVersion}) than the source (${facts.sourceInfo.qemuVersion}).`,
      'QEMU supports moving a running VM to an older release only with a machine type both have, which this VM has; Ferry tests 10.0 → 7.2 this way in live and block mode (see the README\'s compatibility table). Other pairs are not tested.',
    );
  }
  if (options.mode !== 'offline' && tcgLostWritesRisk(facts.sourceInfo.qemuVersion, definition.accel, facts.sourceInfo.kvmUsable)) {
    warning(
      'qemu-tcg',
      `QEMU ${facts.sourceInfo.qemuVersion} on ${options.from} runs ${definition.name} without KVM (TCG), and QEMU before ${TCG_LOST_WRITES_FIXED_IN.major}.${TCG_LOST_WRITES_FIXED_IN.minor} can then lose a few of the guest's memory writes during a live move: the guest may crash right after it.`,
      `A QEMU bug (fixed in ${TCG_LOST_WRITES_FIXED_IN.major}.${TCG_LOST_WRITES_FIXED_IN.minor}), not Ferry's. Safe: offline mode, KVM on ${options.from}, or QEMU ${TCG_LOST_WRITES_FIXED_IN.major}.${TCG_LOST_WRITES_FIXED_IN.minor} or newer there.`,
    );
  }
  if (definition.accel === 'kvm' && !facts.destinationInfo.kvmUsable) error('accel', `${definition.name} needs KVM, which ${options.to} cannot use.`, 'Enable KVM there or define the VM with accel tcg or auto.');
  items.push(...cpuModelCheck(definition, facts.sourceInfo, facts.destinationInfo, options));

  // Memory.
  const neededMemory = definition.memoryMiB * MIB + QEMU_OVERHEAD_BYTES;
  if (facts.destinationInfo.memoryAvailableBytes < neededMemory) {
    error('memory', `${options.to} has ${Math.floor(facts.destinationInfo.memoryAvailableBytes / MIB)} MiB free; ${definition.name} needs about ${Math.ceil(neededMemory / MIB)} MiB.`, 'Free memory on the destination or pick another one.');
  } else {
    ok('memory', `${options.to} has enough free memory.`);
  }
  if (facts.destPoolProblem) error('pool', facts.destPoolProblem);
  return { items, error, warning, ok, splitAt };
}

/** The path the stream will take, tried for real from the source host. */
async function checkNetwork(facts: EarlyFacts & { streamCrosses: boolean }): Promise<Collector> {
  const result = collector();
  const { options } = facts;
  if (!facts.streamCrosses || options.from === options.to) return result;
  // The listener looks for a free port from here itself: no separate round trip for one.
  const port = options.port ?? 49152;
  const reached = await testReachability(facts.source, facts.destination, facts.destinationAddress, port);
  if (reached.reachable === true) result.ok('network', `${options.from} reaches ${facts.destinationAddress} on the migration ports (from ${port}).`);
  else if (reached.reachable === 'untested') result.warning('network', reached.reason);
  else result.error('network', reached.reason, 'Check the address (--address), the firewall on the destination, and the route between the hosts.');
  return result;
}

/** Every bridge the VM's NICs are on, and its install ISO, must be on the destination, or its QEMU cannot start there. */
async function checkBridges(facts: PreflightFacts): Promise<Collector> {
  const result = collector();
  const bridges = definitionBridges(facts.definition);
  const iso = facts.definition.cdrom;
  // The ISO is not copied with the disks: it is read-only and usually already on every host.
  if (iso !== undefined && (await facts.destination.exec(shellCommand(['test', '-r', iso]))).code !== 0) {
    result.error('cdrom', `The ISO ${iso} in ${facts.definition.name}'s CD-ROM drive is not on ${facts.options.to}.`, 'Copy it to the same path there, or eject it (Edit, or vms.update with cdrom null) while the VM is off.');
  }
  if (facts.definition.firmware === 'uefi') {
    const firmware = await requireFirmware(facts.destination, 'uefi').then(() => null, (error: unknown) => (isFerryError(error) ? error : null));
    if (firmware) result.error('firmware', firmware.message, firmware.hint);
    if (facts.options.mode === 'offline') {
      result.warning('firmware', `An offline migration does not move ${facts.definition.name}'s UEFI variables: it starts on ${facts.options.to} with fresh ones.`, 'Boot entries the guest added are lost; most installed systems still boot through the disk\'s fallback loader. Live and block migration keep them.');
    }
  }
  if (bridges.length === 0) return result;
  const missing = await missingBridges(facts.destination, bridges);
  const problem = missing.length > 0 ? bridgeMissingError(facts.options.to, missing) : null;
  if (problem) result.error('bridge', problem.message, problem.hint);
  else result.ok('bridge', `${facts.options.to} has bridge ${bridges.join(', ')}.`);
  return result;
}

/** The name must be free on the destination: no definition and no QEMU of that name. */
async function checkName(facts: { vmName: string; destination: HostTransport; options: MigrationOptions }): Promise<Collector> {
  const result = collector();
  const { vmName, destination, options } = facts;
  const [definitionThere, pids] = await Promise.all([destination.exec(shellCommand(['test', '-e', vmLayout(vmName).definition])), livePids(destination, [vmName])]);
  if (definitionThere.code === 0 || pids.has(vmName)) result.error('name', `A VM named ${vmName} already exists on ${options.to}.`, 'Rename or remove it there first.');
  else result.ok('name', `The name ${vmName} is free on ${options.to}.`);
  return result;
}

/** Blocked reasons, from the source QEMU itself. */
async function checkBlockers(facts: PreflightFacts): Promise<Collector> {
  const result = collector();
  const { options } = facts;
  if (!running(facts.sourceState) || options.mode === 'offline') return result;
  try {
    const monitor = new MonitorHandle(facts.source, facts.sourceSocket);
    try {
      const info = await monitor.command<{ 'blocked-reasons'?: string[]; status?: string }>('query-migrate');
      if (info['blocked-reasons'] && info['blocked-reasons'].length > 0) result.error('blockers', `QEMU refuses to migrate: ${info['blocked-reasons'].join('; ')}`);
      if (info.status && ['active', 'setup', 'pre-switchover', 'postcopy-active', 'device'].includes(info.status)) result.error('busy', `QEMU on ${options.from} is already migrating (${info.status}).`);
    } finally {
      await monitor.close();
    }
  } catch (caught) {
    result.warning('blockers', `Could not ask QEMU on ${options.from}: ${(caught as Error).message}`);
  }
  return result;
}

type Report = (check: string, message: string, hint?: string) => void;

async function checkDisks(facts: PreflightFacts): Promise<Collector> {
  const result = collector();
  const { error, ok } = result;
  const { options, destination } = facts;
  const neededPerDirectory = new Map<string, number>();
  const targets = new Map<string, string>();
  // Every target device is examined by one script, started before the per-disk checks below.
  const deviceDisks = options.mode === 'live' ? [] : facts.disks.filter((disk) => !disk.shared && disk.destinationDevice);
  const deviceReports = readDeviceReports(destination, deviceDisks.map((disk) => disk.destinationPath));
  deviceReports.catch(() => undefined);
  for (const disk of facts.disks.filter((candidate) => !candidate.shared)) {
    const other = targets.get(disk.destinationPath);
    if (other !== undefined) {
      error('disks', `${other} and ${disk.source.disk.path} would both be copied to ${disk.destinationPath} on ${options.to}.`, 'Give the disks different file names, or keep them in different pools.');
    }
    targets.set(disk.destinationPath, disk.source.disk.path);
  }
  for (const disk of facts.disks) {
    const name = disk.source.disk.path;
    if (disk.shared) {
      ok('disks', `${name} is the same file on both hosts (shared storage).`);
      if (options.mode !== 'offline' && disk.source.disk.cache !== 'none' && disk.source.disk.cache !== 'directsync') {
        error('cache', `${name} uses cache=${disk.source.disk.cache}, which can lose writes when shared storage changes hands.`, 'Use cache=none (the default) for disks on shared storage.');
      }
      continue;
    }
    if (options.mode === 'live') continue; // reported by the mode check
    if (disk.destinationDevice) {
      const report = (await deviceReports)[deviceDisks.indexOf(disk)];
      if (report) {
        const overwriteAllowed = options.overwriteDevices.includes(report.path) || options.overwriteDevices.includes(report.realPath);
        result.items.push(...deviceItems({ report, host: options.to, sourceBytes: disk.source.virtualSizeBytes, sourcePath: name, exactSize: options.mode === 'block', overwriteAllowed }));
      }
      if (options.incremental) error('device', `${disk.destinationPath} on ${options.to} is a block device; --incremental copies only a qcow2 top layer, which a raw device cannot hold.`, 'Migrate without --incremental, or give an image file as the target.');
      continue;
    }
    const existing = await existingImage(destination, disk);
    if (existing.state !== 'absent') {
      if (!options.reuseImages) {
        error(
          'disks',
          `${disk.destinationPath} already exists on ${options.to}. Ferry does not write over an image it did not create: it may be another VM's disk.`,
          'Remove or rename it there, or choose another destination pool. If it is an old copy of this very disk that may be overwritten, allow overwriting it (--reuse-images, or "Overwrite existing disk images" in the Migrate dialog).',
        );
      } else if (existing.state === 'unusable') {
        error('disks', existing.reason, 'Remove or rename that file on the destination, or choose another --dest-pool.');
      } else if (await imageInUse(destination, disk.destinationPath)) {
        error('disks', `${disk.destinationPath} on ${options.to} is open in a running QEMU or qemu-nbd.`, 'Stop whatever uses it there, or choose another --dest-pool.');
      } else {
        ok('disks', `${disk.destinationPath} exists on ${options.to} and will be overwritten (--reuse-images).`);
      }
    }
    if (existing.state === 'absent') {
      const directory = posix.dirname(disk.destinationPath);
      const bytes = options.incremental ? disk.source.allocatedBytes : disk.source.chainAllocatedBytes;
      neededPerDirectory.set(directory, (neededPerDirectory.get(directory) ?? 0) + bytes);
    }
    if (options.incremental) await checkBackingChain(destination, options.to, disk.source, error, ok);
  }
  for (const [directory, needed] of neededPerDirectory) {
    const df = await destination.exec(`df -P -B1 -- ${shellCommand([directory])} 2>/dev/null | tail -n1`);
    const available = Number(df.stdout.trim().split(/\s+/)[3] ?? NaN);
    if (df.code !== 0 || Number.isNaN(available)) {
      error('space', `${directory} does not exist on ${options.to}.`, 'Create it (or a pool there), or choose another --dest-pool.');
    } else if (available < needed) {
      error('space', `${directory} on ${options.to} has ${Math.floor(available / MIB)} MiB free; the disks need ${Math.ceil(needed / MIB)} MiB (allocated data).`, 'Free space there or choose another --dest-pool.');
    } else {
      ok('space', `${directory} on ${options.to} has room for ${Math.ceil(needed / MIB)} MiB.`);
    }
  }
  return result;
}

/** An image some QEMU or qemu-nbd has open for writing: qemu-img cannot take its shared lock then. */
async function imageInUse(destination: HostTransport, path: string): Promise<boolean> {
  const info = await destination.exec(shellCommand(['qemu-img', 'info', '--output=json', '--', path]));
  return info.code !== 0 && /lock/i.test(info.stderr);
}

async function checkBackingChain(destination: HostTransport, host: string, disk: SourceDisk, error: Report, ok: Report): Promise<void> {
  if (disk.backing.length === 0) {
    error('backing', `${disk.disk.path} has no backing file, so there is no "top layer" to copy alone.`, 'Use block migration without --incremental.');
    return;
  }
  for (const image of disk.backing) {
    const present = await destination.exec(shellCommand(['test', '-r', image.path]));
    if (present.code !== 0) error('backing', `Backing file ${image.path} is missing on ${host}.`, 'Copy the base image there first (same path), or migrate without --incremental.');
    else ok('backing', `Backing file ${image.path} is present on ${host}.`);
  }
}

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < 3; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
