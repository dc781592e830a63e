import type { ChannelArgs } from '../api/contract.js';
import type { VmDefinition, VmDetails, VmDiskUsage, VmSummary } from '../api/types.js';
import { FerryError } from '../errors.js';
import { readHostInfo } from '../host/info.js';
import { remoteLayout } from '../paths.js';
import { damagedProblem, readJsonDirectory, readJsonFile, writeJsonFile } from '../remote/json-files.js';
import { parseImageChain } from '../storage/image-info.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { definitionFromArgs, vmDefinitionSchema } from './definition.js';
import { vmLayout, vmRunFiles } from './layout.js';
import { withMonitor } from './monitor.js';
import { autostartScriptPath, syncAutostart } from './autostart.js';
import { requireCpuModelRuns } from './cpu-model.js';
import { requireFirmware } from './firmware.js';
import { readHostFacts } from './host-facts.js';
import { launchQemu } from './launch.js';
import { hostBlockDevices, requireRawOnDevice } from './block-devices.js';
import { stopVmQemu, type StopOutcome } from './qemu-process.js';
import { livePids, queryStatus, socketNames } from './state.js';

export interface VmHost {
  name: string;
  transport: HostTransport;
}

export function monitorSocket(definition: VmDefinition | null, name: string): string {
  return definition?.adopted?.qmpSocket ?? vmLayout(name).qmpSocket;
}

/** Adopted VMs are recognised by the monitor socket on their command line, not by a -name Ferry gave them. */
function adoptedSockets(definitions: Iterable<VmDefinition | null>): Map<string, string> {
  const sockets = new Map<string, string>();
  for (const definition of definitions) if (definition?.adopted) sockets.set(definition.name, definition.adopted.qmpSocket);
  return sockets;
}

async function livePid(host: VmHost, name: string, definition: VmDefinition | null): Promise<number | undefined> {
  return (await livePids(host.transport, [name], adoptedSockets([definition]))).get(name);
}

export async function loadDefinition(host: VmHost, name: string): Promise<VmDefinition | null> {
  return readJsonFile(host.transport, vmLayout(name).definition, vmDefinitionSchema);
}

async function requireDefinition(host: VmHost, name: string): Promise<VmDefinition> {
  const definition = await loadDefinition(host, name);
  if (!definition) {
    throw new FerryError('not-found', `There is no VM "${name}" on ${host.name}`, { hint: `\`ferry vm list ${host.name}\` shows the VMs there.` });
  }
  return definition;
}

export async function vmDetails(host: VmHost, name: string): Promise<VmDetails> {
  const definition = await loadDefinition(host, name);
  const layout = vmLayout(name);
  const pid = await livePid(host, name, definition);
  if (!definition && pid === undefined) {
    throw new FerryError('not-found', `There is no VM "${name}" on ${host.name}`, { hint: `\`ferry vm list ${host.name}\` shows the VMs there.` });
  }
  const socket = monitorSocket(definition, name);
  const status = pid === undefined ? { state: 'shutoff' as const } : await queryStatus(host.transport, socket);
  const details: VmDetails = {
    name,
    host: host.name,
    state: status.state,
    memoryMiB: definition?.memoryMiB ?? 0,
    vcpus: definition?.vcpus ?? 0,
    defined: definition !== null,
    definition,
    qmpSocket: socket,
    serialLog: layout.serialLog,
    vncSocket: layout.vncSocket,
    diskUsage: await diskUsage(host, definition?.disks.map((disk) => disk.path) ?? []),
  };
  if (status.qemuStatus !== undefined) details.qemuStatus = status.qemuStatus;
  if (pid !== undefined) details.pid = pid;
  const facts = await readHostFacts(host.transport, name, definition, pid);
  details.confinement = facts.confinement;
  details.autostartFacts = facts.autostart;
  return details;
}

const DISK_MARK = 'ferry-disk-usage:';
const BLOCK_DEVICE_MARK = 'ferry-block-device';
const LSBLK_MARK = 'ferry-lsblk';

/** Every disk's image read in one command; -U reads images a running QEMU holds locked. */
async function diskUsage(host: VmHost, paths: string[]): Promise<VmDiskUsage[]> {
  if (paths.length === 0) return [];
  const script = paths
    .map((path) => `printf '\\n${DISK_MARK}\\n'; ${shellCommand(['test', '-b', path])} && { echo ${BLOCK_DEVICE_MARK}; echo "${LSBLK_MARK} $(${shellCommand(['lsblk', '-ndo', 'KNAME,TYPE,PKNAME', '--', path])} 2>/dev/null | head -n 1)"; }; ${shellCommand(['qemu-img', 'info', '-U', '--output=json', '--', path])} 2>&1`)
    .join('; ');
  const output = await host.transport.run(`${script}; true`, { timeoutMs: 60_000 });
  const chunks = output.split(`\n${DISK_MARK}\n`).slice(1);
  return paths.map((path, index): VmDiskUsage => {
    const chunk = chunks[index] ?? '';
    const blockDevice = chunk.startsWith(`${BLOCK_DEVICE_MARK}\n`);
    let text = blockDevice ? chunk.slice(BLOCK_DEVICE_MARK.length + 1) : chunk;
    let device: string | undefined;
    if (blockDevice && text.startsWith(`${LSBLK_MARK} `)) {
      const end = text.indexOf('\n');
      device = describeBlockDevice(text.slice(LSBLK_MARK.length + 1, end < 0 ? undefined : end));
      text = end < 0 ? '' : text.slice(end + 1);
    }
    const deviceFields = device === undefined ? {} : { device };
    const image = parseImageChain(text)?.[0];
    if (!image) {
      const problem = text.trim().split('\n').pop()?.replace(/^qemu-img: /, '') || 'could not be read';
      return { path, virtualSizeBytes: null, allocationBytes: null, backingFile: null, problem, ...(blockDevice ? { blockDevice } : {}), ...deviceFields };
    }
    return {
      path,
      virtualSizeBytes: image['virtual-size'],
      // A device's "actual size" is 0 (it is not a sparse file): the whole device is the disk's.
      allocationBytes: blockDevice ? image['virtual-size'] : image['actual-size'] ?? null,
      backingFile: image['full-backing-filename'] ?? image['backing-filename'] ?? null,
      ...(blockDevice ? { blockDevice } : {}),
      ...deviceFields,
    };
  });
}

/** lsblk's "KNAME TYPE PKNAME" of a disk's device in words: what it is and what holds it. */
export function describeBlockDevice(line: string): string | undefined {
  const [kname, type, parent] = line.trim().split(/\s+/);
  if (!kname || !type) return undefined;
  const what: Record<string, string> = { part: 'partition', lvm: 'LVM logical volume', loop: 'loop device', disk: 'whole disk', crypt: 'encrypted volume', raid1: 'RAID 1 array' };
  const kind = what[type] ?? type;
  return parent ? `/dev/${kname}, ${kind} on /dev/${parent}` : `/dev/${kname}, ${kind}`;
}

/** A run state read a moment ago that a listing may reuse instead of asking the monitor again. */
export interface KnownStatus {
  state: VmSummary['state'];
  qemuStatus?: string;
}

export interface ListVmsOptions {
  /** Given each running VM's name and pid; a status returned here is used without a monitor round trip. */
  knownStatus?: (vm: { name: string; pid: number }) => KnownStatus | undefined;
}

export async function listVms(host: VmHost, options: ListVmsOptions = {}): Promise<VmSummary[]> {
  const directory = await readJsonDirectory(host.transport, remoteLayout.vms, vmDefinitionSchema);
  const definitions = new Map(directory.entries.map((entry) => [entry.name, entry.value]));
  const problems = new Map(directory.damaged.map((file) => [file.name, damagedProblem(file)]));
  const names = [...new Set([...definitions.keys(), ...problems.keys(), ...(await socketNames(host.transport, remoteLayout.runDir))])].sort();
  const sockets = adoptedSockets(definitions.values());
  const pids = await livePids(host.transport, names, sockets);
  const summaries = await Promise.all(
    names.map(async (name): Promise<VmSummary> => {
      const definition = definitions.get(name) ?? null;
      const pid = pids.get(name);
      const status: KnownStatus =
        pid === undefined ? { state: 'shutoff' } : (options.knownStatus?.({ name, pid }) ?? (await queryStatus(host.transport, monitorSocket(definition, name))));
      const summary: VmSummary = { name, host: host.name, state: status.state, memoryMiB: definition?.memoryMiB ?? 0, vcpus: definition?.vcpus ?? 0, defined: definition !== null };
      if (status.qemuStatus !== undefined) summary.qemuStatus = status.qemuStatus;
      if (pid !== undefined) summary.pid = pid;
      const problem = problems.get(name);
      if (problem !== undefined) summary.problem = problem;
      return summary;
    }),
  );
  // A monitor that could not be reached reads as "shut off" (QEMU exited just then). Whether it
  // really did is asked once more: a QEMU still alive behind an unreachable monitor (stopped,
  // hung, its connection queue full) is 'unknown', never shut off.
  const unreachable = summaries.filter((vm) => vm.state === 'shutoff' && vm.pid !== undefined);
  if (unreachable.length > 0) {
    const still = await livePids(host.transport, unreachable.map((vm) => vm.name), sockets);
    for (const vm of unreachable) {
      if (still.get(vm.name) === vm.pid) vm.state = 'unknown';
      else delete vm.pid;
    }
  }
  return summaries;
}

export async function diskFormat(host: VmHost, path: string, given: 'qcow2' | 'raw' | undefined): Promise<'qcow2' | 'raw'> {
  const result = await host.transport.exec(shellCommand(['qemu-img', 'info', '-U', '--output=json', '--', path]));
  const chain = result.code === 0 ? parseImageChain(result.stdout) : null;
  if (!chain?.[0]) {
    throw new FerryError('not-found', `Disk ${path} is not a readable image on ${host.name}`, { hint: 'Create the volume first (`ferry vol create`), or give the full path of an existing image.' });
  }
  const found = chain[0].format;
  if (given && given !== found) {
    throw new FerryError('invalid-input', `Disk ${path} is ${found}, not ${given}`, { hint: `Use format=${found}, or leave the format out so Ferry reads it from the image.` });
  }
  if (found !== 'qcow2' && found !== 'raw') {
    throw new FerryError('unsupported', `Disk ${path} is in ${found} format`, { hint: 'Convert it to qcow2 or raw with qemu-img convert.' });
  }
  return found;
}

/** The install ISO must already be on the host: Ferry attaches it, it does not upload it. */
export async function requireIso(host: VmHost, path: string): Promise<void> {
  if ((await host.transport.exec(shellCommand(['test', '-f', path, '-a', '-r', path]))).code !== 0) {
    throw new FerryError('not-found', `${path} is not a readable file on ${host.name}`, { hint: 'Copy the ISO to the host first (for example into a pool directory), then give its full path.' });
  }
}

export async function defineVm(host: VmHost, args: ChannelArgs<'vms.define'>): Promise<VmDetails> {
  const layout = vmLayout(args.name);
  if ((await host.transport.exec(shellCommand(['test', '-e', layout.definition]))).code === 0 || (await livePids(host.transport, [args.name])).has(args.name)) {
    throw new FerryError('already-exists', `A VM named "${args.name}" already exists on ${host.name}`, { hint: 'Pick another name, or undefine the old VM first.' });
  }
  const formats: Array<'qcow2' | 'raw'> = [];
  const devices = await hostBlockDevices(host.transport, args.disks.map((disk) => disk.path));
  for (const [index, disk] of args.disks.entries()) {
    // A device is not probed: whatever its first sectors look like, it is the guest's raw disk.
    if (devices[index]) requireRawOnDevice(disk.path, disk.format ?? 'raw', host.name);
    formats.push(devices[index] ? 'raw' : await diskFormat(host, disk.path, disk.format));
  }
  for (const file of [args.kernel, args.initrd].filter((path): path is string => path !== undefined)) {
    if ((await host.transport.exec(shellCommand(['test', '-r', file]))).code !== 0) {
      throw new FerryError('not-found', `${file} is not readable on ${host.name}`, { hint: 'Kernel and initrd must already be on the host.' });
    }
  }
  if (args.cdrom) await requireIso(host, args.cdrom);
  if (args.initrd && !args.kernel) throw new FerryError('invalid-input', '--initrd needs --kernel', { hint: 'Direct kernel boot takes a kernel, and optionally an initrd and arguments.' });
  const info = await readHostInfo(host.name, host.transport);
  const machineType = args.machineType ?? info.defaultMachineType;
  if (!info.machineTypes.includes(machineType)) {
    throw new FerryError('unsupported', `QEMU ${info.qemuVersion} on ${host.name} has no machine type ${machineType}`, { hint: `Pick one of: ${info.machineTypes.filter((type) => type.includes('q35')).slice(0, 6).join(', ')}` });
  }
  requireCpuModelRuns(args.cpuModel, args.accel, info.kvmUsable, host.name);
  await requireFirmware(host.transport, args.firmware);
  const definition = definitionFromArgs(args, machineType, formats, devices);
  await writeJsonFile(host.transport, layout.definition, definition);
  await syncAutostart(host.transport, definition, info.kvmUsable);
  return vmDetails(host, args.name);
}

async function requireRunning(host: VmHost, name: string): Promise<{ definition: VmDefinition | null; pid: number }> {
  const definition = await loadDefinition(host, name);
  const pid = await livePid(host, name, definition);
  if (pid === undefined) {
    if (!definition) await requireDefinition(host, name);
    throw notRunning(host, name);
  }
  return { definition, pid };
}

async function removeRunFiles(host: VmHost, name: string): Promise<void> {
  await host.transport.run(shellCommand(['rm', '-f', '--', ...vmRunFiles(name)]));
}

export async function kvmUsable(transport: HostTransport): Promise<boolean> {
  return (await transport.exec('test -r /dev/kvm && test -w /dev/kvm')).code === 0;
}

export async function startVm(host: VmHost, name: string): Promise<VmDetails> {
  const definition = await requireDefinition(host, name);
  // A pid file left by a QEMU that was killed may name another process by now; that one is not
  // this VM and is left alone, and the stale file is replaced below.
  if ((await livePid(host, name, definition)) !== undefined) {
    throw new FerryError('busy', `VM "${name}" is already running on ${host.name}`, { hint: 'Pause, shut down or force it off instead.' });
  }
  if (definition.adopted) {
    throw new FerryError('unsupported', `VM "${name}" was adopted from a QEMU started by hand`, { hint: 'Start it the way it was started before; Ferry finds it again by its monitor socket.' });
  }
  await removeRunFiles(host, name);
  const result = await launchQemu(host.transport, definition, { kvmUsable: await kvmUsable(host.transport) });
  const argv = result.argv;
  if (result.code !== 0) throw startFailure(name, host.name, result.stderr, argv);
  return vmDetails(host, name);
}

/**
 * Why QEMU would not start, with a hint that fits. QEMU's own words for an image another process
 * holds are "Failed to get "write" lock"; a bare /lock/ also matched paths and messages that only
 * contain "block" (a block device opened with the wrong driver was blamed on another QEMU).
 */
export function startFailure(name: string, host: string, stderr: string, argv: string[]): FerryError {
  const message = stderr.trim();
  const locked = /Failed to get .*lock/i.test(message);
  return new FerryError(locked ? 'busy' : 'remote-command-failed', `QEMU could not start "${name}" on ${host}: ${message}`, {
    hint: locked ? 'Another QEMU is using one of its disks; stop that VM first.' : 'Check the VM definition (`ferry vm info`) and the disks.',
    details: { argv },
  });
}

async function monitorCommand(host: VmHost, name: string, command: string): Promise<VmDetails> {
  const { definition } = await requireRunning(host, name);
  await withMonitor(host.transport, monitorSocket(definition, name), (qmp) => qmp.execute(command));
  return vmDetails(host, name);
}

export const pauseVm = (host: VmHost, name: string) => monitorCommand(host, name, 'stop');
export const resumeVm = (host: VmHost, name: string) => monitorCommand(host, name, 'cont');

function notRunning(host: VmHost, name: string): FerryError {
  return new FerryError('busy', `VM "${name}" on ${host.name} is not running`, { hint: `Start it first: \`ferry vm start ${host.name} ${name}\`.` });
}

/** After a stop: a QEMU that outlived SIGKILL is stuck in the kernel, and its files must stay. */
async function afterStop(host: VmHost, name: string, outcome: StopOutcome): Promise<VmDetails> {
  if (outcome.result === 'survived') {
    throw new FerryError('timeout', `QEMU of "${name}" (pid ${outcome.pid}) on ${host.name} did not exit even after SIGKILL`, {
      hint: 'It is stuck in the kernel, usually on storage I/O (an NFS server gone away); check `cat /proc/<pid>/stack` there.',
    });
  }
  await removeRunFiles(host, name);
  return vmDetails(host, name);
}

/** Asks the guest to power off (ACPI) and forces QEMU off when it has not gone in time. */
export async function shutdownVm(host: VmHost, name: string, timeoutMs: number): Promise<VmDetails> {
  const { definition, pid } = await requireRunning(host, name);
  await withMonitor(host.transport, monitorSocket(definition, name), (qmp) => qmp.execute('system_powerdown'));
  const outcome = await stopVmQemu(host.transport, name, { pid, waitMs: timeoutMs, graceMs: 5_000, ...adoptedOption(definition) });
  return afterStop(host, name, outcome);
}

/** Pulls the plug: QMP quit, then SIGTERM and SIGKILL if QEMU does not go; only ever this VM's QEMU. */
export async function destroyVm(host: VmHost, name: string): Promise<VmDetails> {
  const { definition, pid } = await requireRunning(host, name);
  const outcome = await stopVmQemu(host.transport, name, { pid, quitFirst: true, waitMs: 5_000, graceMs: 3_000, ...adoptedOption(definition) });
  return afterStop(host, name, outcome);
}

function adoptedOption(definition: VmDefinition | null): { adoptedMonitorSocket?: string } {
  return definition?.adopted ? { adoptedMonitorSocket: definition.adopted.qmpSocket } : {};
}

export async function undefineVm(host: VmHost, name: string): Promise<void> {
  const definition = await requireDefinition(host, name);
  if ((await livePid(host, name, definition)) !== undefined) {
    throw new FerryError('busy', `VM "${name}" on ${host.name} is running`, { hint: 'Shut it down or force it off before deleting it; its disks are kept.' });
  }
  await host.transport.run(shellCommand(['rm', '-f', '--', vmLayout(name).definition, autostartScriptPath(name)]));
}

export async function serialTail(host: VmHost, name: string, bytes: number): Promise<string> {
  await requireDefinition(host, name);
  const result = await host.transport.exec(`tail -c ${bytes} -- ${shellQuote(vmLayout(name).serialLog)} 2>/dev/null`);
  return result.stdout;
}
