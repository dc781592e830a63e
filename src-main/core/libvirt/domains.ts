import type { LibvirtDomainFacts, VmDetails, VmDiskUsage, VmSummary } from '../api/types.js';
import { FerryError, isFerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import { runStateFromLibvirtCode, runStateFromLibvirtText } from './domain-state.js';
import { definitionFromDomain, parseDomainXml, type ParsedDomain } from './domain-xml.js';
import { runVirsh } from './virsh.js';

/** A libvirt host as the domain functions need it: its saved name (for messages and results) and its transport. */
export interface LibvirtHost {
  name: string;
  transport: HostTransport;
}

const SHUTDOWN_POLL_MS = 500;

/** One domain's block of `virsh domstats --raw`: "Domain: 'NAME'" and its key=value lines. */
export function parseDomstats(output: string): Array<{ name: string; stats: Map<string, string> }> {
  const domains: Array<{ name: string; stats: Map<string, string> }> = [];
  for (const line of output.split('\n')) {
    const header = /^Domain: '(.*)'$/.exec(line.trim());
    if (header?.[1] !== undefined) {
      domains.push({ name: header[1], stats: new Map() });
      continue;
    }
    const field = /^\s*([A-Za-z0-9_.-]+)=(.*)$/.exec(line);
    const current = domains[domains.length - 1];
    if (field?.[1] !== undefined && field[2] !== undefined && current) current.stats.set(field[1], field[2]);
  }
  return domains;
}

/** The summaries of a domstats reading; memory is the domain's maximum (balloon.maximum, KiB). */
export function summariesFromDomstats(hostName: string, output: string): VmSummary[] {
  return parseDomstats(output)
    .map(({ name, stats }) => {
      const state = runStateFromLibvirtCode(Number(stats.get('state.state') ?? '0'));
      const summary: VmSummary = {
        name,
        host: hostName,
        state,
        memoryMiB: Math.round(Number(stats.get('balloon.maximum') ?? '0') / 1024),
        vcpus: Number(stats.get('vcpu.maximum') ?? stats.get('vcpu.current') ?? '0'),
        defined: true,
        managedBy: 'libvirt',
      };
      return summary;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every domain of the host with its state, memory and vCPUs: one virsh command for all of them. */
export async function listLibvirtDomains(host: LibvirtHost): Promise<VmSummary[]> {
  return summariesFromDomstats(host.name, await runVirsh(host.transport, ['domstats', '--raw', '--state', '--vcpu', '--balloon']));
}

/** The domain's XML as libvirt has it now (live while it runs), or its persistent definition with `inactive`. */
export async function readDomainXml(host: LibvirtHost, name: string, options: { inactive?: boolean } = {}): Promise<string> {
  return runVirsh(host.transport, ['dumpxml', '--domain', name, ...(options.inactive ? ['--inactive'] : [])]);
}

/** `virsh dominfo` lines as a map: "Autostart:      enable" → Autostart → enable. */
export function parseColonTable(output: string): Map<string, string> {
  const table = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([^:]+):\s*(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) table.set(match[1].trim(), match[2].trim());
  }
  return table;
}

/** `virsh domblkinfo --all`: target, capacity, allocation, physical (bytes; "-" for an empty drive). */
export function parseDomblkinfo(output: string): Map<string, { capacity: number | null; allocation: number | null }> {
  const sizes = new Map<string, { capacity: number | null; allocation: number | null }>();
  for (const line of output.split('\n')) {
    const [target, capacity, allocation] = line.trim().split(/\s+/);
    if (!target || capacity === undefined) continue;
    const number = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : null);
    sizes.set(target, { capacity: number(capacity), allocation: number(allocation) });
  }
  return sizes;
}

function diskUsage(domain: ParsedDomain, sizes: ReturnType<typeof parseDomblkinfo> | null, why: string | null): VmDiskUsage[] {
  return domain.disks.flatMap((disk) => {
    if (disk.device !== 'disk' || disk.path === null) return [];
    const size = sizes?.get(disk.target);
    const usage: VmDiskUsage = {
      path: disk.path,
      virtualSizeBytes: size?.capacity ?? null,
      allocationBytes: size?.allocation ?? null,
      backingFile: disk.backingPath,
      ...(disk.type === 'block' ? { blockDevice: true } : {}),
    };
    if (!size) usage.problem = why ?? 'libvirt did not report this disk\'s size';
    return [usage];
  });
}

/** Everything about one domain: its XML, state, autostart flag and disk sizes. */
export async function libvirtDomainDetails(host: LibvirtHost, name: string): Promise<VmDetails> {
  const xml = await readDomainXml(host, name);
  const [stateText, info, blocks] = await Promise.all([
    runVirsh(host.transport, ['domstate', '--domain', name, '--reason']),
    runVirsh(host.transport, ['dominfo', '--domain', name]),
    // A missing image or device makes this fail for the whole domain; the rest is still shown.
    runVirsh(host.transport, ['domblkinfo', '--domain', name, '--all']).then(parseDomblkinfo, (error: unknown) => (isFerryError(error) ? error : Promise.reject(error))),
  ]);
  const domain = parseDomainXml(xml);
  const table = parseColonTable(info);
  const state = runStateFromLibvirtText(stateText);
  const facts: LibvirtDomainFacts = {
    uuid: domain.uuid,
    id: domain.id,
    domainType: domain.domainType,
    machineType: domain.machineType,
    cpuMode: domain.cpuMode,
    cpuModel: domain.cpuModel,
    firmware: domain.firmware,
    autostart: table.get('Autostart') === 'enable',
    persistent: table.get('Persistent') === 'yes',
    stateText: stateText.trim(),
    serialFile: domain.serialFile,
    disks: domain.disks,
    nics: domain.nics,
  };
  return {
    name: domain.name,
    host: host.name,
    state,
    qemuStatus: stateText.trim(),
    memoryMiB: domain.memoryMiB,
    vcpus: domain.vcpus,
    defined: facts.persistent,
    managedBy: 'libvirt',
    definition: { ...definitionFromDomain(domain), autostart: facts.autostart },
    // libvirt owns the monitor, the serial line and the display; Ferry opens none of them itself.
    qmpSocket: '',
    serialLog: domain.serialFile ?? '',
    vncSocket: '',
    diskUsage: diskUsage(domain, blocks instanceof FerryError ? null : blocks, blocks instanceof FerryError ? blocks.message : null),
    libvirt: facts,
  };
}

export async function startLibvirtDomain(host: LibvirtHost, name: string): Promise<VmDetails> {
  await runVirsh(host.transport, ['start', '--domain', name]);
  return libvirtDomainDetails(host, name);
}

/** Pauses the guest's vCPUs (virsh suspend); its memory stays in place. */
export async function suspendLibvirtDomain(host: LibvirtHost, name: string): Promise<VmDetails> {
  await runVirsh(host.transport, ['suspend', '--domain', name]);
  return libvirtDomainDetails(host, name);
}

export async function resumeLibvirtDomain(host: LibvirtHost, name: string): Promise<VmDetails> {
  await runVirsh(host.transport, ['resume', '--domain', name]);
  return libvirtDomainDetails(host, name);
}

/** Pulls the plug (virsh destroy); the definition and disks stay. */
export async function destroyLibvirtDomain(host: LibvirtHost, name: string): Promise<VmDetails> {
  await runVirsh(host.transport, ['destroy', '--domain', name]);
  return libvirtDomainDetails(host, name);
}

async function domainState(host: LibvirtHost, name: string): Promise<string> {
  return runStateFromLibvirtText(await runVirsh(host.transport, ['domstate', '--domain', name]));
}

/**
 * Asks the guest to power off (ACPI) and waits up to timeoutMs; a guest that does not go by then
 * is forced off, as Ferry does for its own VMs, so the call always ends with the domain stopped.
 */
export async function shutdownLibvirtDomain(host: LibvirtHost, name: string, timeoutMs: number): Promise<VmDetails> {
  if ((await domainState(host, name)) === 'shutoff') {
    throw new FerryError('busy', `Domain "${name}" on ${host.name} is not running`, { hint: 'Start it first: `ferry vm start HOST NAME`.' });
  }
  await runVirsh(host.transport, ['shutdown', '--domain', name, '--mode', 'acpi']);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await domainState(host, name)) === 'shutoff') return libvirtDomainDetails(host, name);
    await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_POLL_MS));
  }
  await runVirsh(host.transport, ['destroy', '--domain', name]).catch((error: unknown) => {
    // It may have gone by itself between the last look and now.
    if (!isFerryError(error, 'busy')) throw error;
  });
  return libvirtDomainDetails(host, name);
}

export async function setLibvirtAutostart(host: LibvirtHost, name: string, enabled: boolean): Promise<VmDetails> {
  await runVirsh(host.transport, ['autostart', '--domain', name, ...(enabled ? [] : ['--disable'])]);
  return libvirtDomainDetails(host, name);
}

/** Removes the domain's definition (and a UEFI variable store of its own); its disks stay. Refused while it runs. */
export async function undefineLibvirtDomain(host: LibvirtHost, name: string): Promise<void> {
  if ((await domainState(host, name)) !== 'shutoff') {
    throw new FerryError('busy', `Domain "${name}" on ${host.name} is running`, { hint: 'Shut it down or force it off before deleting it; its disks are kept.' });
  }
  const domain = parseDomainXml(await readDomainXml(host, name, { inactive: true }));
  await runVirsh(host.transport, ['undefine', '--domain', name, ...(domain.firmware === 'uefi' ? ['--nvram'] : [])]);
}
