import type { ModeAvailability, PreflightItem, PreflightReport } from '../api/types.js';
import { isFerryError } from '../errors.js';
import { isSameFile } from '../migration/disks.js';
import { shellCommand } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { parseDomainXml, type ParsedDomain } from './domain-xml.js';
import type { LibvirtMigrationOptions } from './migration-plan.js';
import { runVirsh, virshCommand } from './virsh.js';

export type HypervisorKind = 'ferry' | 'libvirt';

/** Said on every libvirt pre-flight: who runs the move and what follows from that. */
export const LIBVIRT_IN_CHARGE =
  'This domain is migrated by libvirt: the source host\'s libvirtd runs the move (virsh migrate --p2p) and Ferry only starts it, watches libvirt\'s job statistics and passes on cancel and tuning. ' +
  'libvirt keeps the domain\'s definition and state; if Ferry stops, libvirt finishes or aborts the move on its own, and nothing of it is in Ferry\'s journal.';

export interface LibvirtPreflightInput {
  options: LibvirtMigrationOptions;
  kinds: { source: HypervisorKind; destination: HypervisorKind };
  source: HostTransport;
  destination: HostTransport;
}

/** A refusal for pairs of host kinds this build cannot move between; undefined when both are libvirt. */
export function mixedPairRefusal(kinds: LibvirtPreflightInput['kinds'], options: Pick<LibvirtMigrationOptions, 'from' | 'to'>): PreflightItem | undefined {
  if (kinds.source === kinds.destination) return undefined;
  const [libvirtHost, ferryHost] = kinds.source === 'libvirt' ? [options.from, options.to] : [options.to, options.from];
  return {
    level: 'error',
    check: 'host-kinds',
    message: `${libvirtHost} is a libvirt host and ${ferryHost} a Ferry-managed one: moving a VM between the two kinds is not built.`,
    hint: 'Migrate between two libvirt hosts, or between two Ferry-managed hosts.',
  };
}

/** What libvirt would refuse, found before anything starts; every libvirt pre-flight says who is in charge. */
export async function libvirtPreflight(input: LibvirtPreflightInput): Promise<PreflightReport> {
  const { options, source } = input;
  const items: PreflightItem[] = [{ level: 'ok', check: 'libvirt', message: LIBVIRT_IN_CHARGE }];
  const mixed = mixedPairRefusal(input.kinds, options);
  if (mixed) return finish([...items, mixed]);
  let domain: ParsedDomain;
  let running: boolean;
  try {
    domain = parseDomainXml(await runVirsh(source, ['dumpxml', '--inactive', options.vm]));
    running = (await runVirsh(source, ['domstate', options.vm])).trim() === 'running';
  } catch (error) {
    const message = isFerryError(error, 'not-found') ? `libvirt on ${options.from} has no domain "${options.vm}".` : `Cannot read domain "${options.vm}" on ${options.from}: ${(error as Error).message}`;
    return finish([...items, { level: 'error', check: 'domain', message, hint: `\`ferry vm list ${options.from}\` shows its domains.` }]);
  }
  if (options.mode !== 'offline' && !running) {
    items.push({ level: 'error', check: 'state', message: `"${options.vm}" is not running on ${options.from}; a live migration needs a running domain.`, hint: 'Start it first, or migrate it offline.' });
  }
  if (options.transport === 'tls') {
    items.push({
      level: 'warning',
      check: 'encryption',
      message: 'libvirt sends the memory and disks between the hosts unencrypted: its own TLS needs certificates on both hosts, which Ferry does not set up (only the libvirt connection goes through Ferry\'s SSH).',
      hint: 'Migrate over a trusted network (--transport tcp says so), or set up libvirt\'s migration TLS on both hosts.',
    });
  }
  items.push(...(await destinationChecks(input, domain)));
  return finish(items);
}

async function destinationChecks(input: LibvirtPreflightInput, domain: ParsedDomain): Promise<PreflightItem[]> {
  const { options, destination } = input;
  const items: PreflightItem[] = [];
  const existing = await destination.exec(virshCommand(['domstate', options.vm]));
  if (existing.code === 0) {
    items.push({ level: 'error', check: 'name', message: `libvirt on ${options.to} already has a domain "${options.vm}" (${existing.stdout.trim()}).`, hint: `Remove or rename it there first (virsh undefine ${options.vm}).` });
  }
  const files = domain.disks.filter((disk) => disk.device === 'disk' && disk.path !== null && !disk.readOnly).map((disk) => disk.path as string);
  const present = await existingPaths(destination, files);
  for (const path of files) {
    if (options.mode === 'live' && !present.has(path)) {
      items.push({ level: 'error', check: 'storage', message: `${path} is not on ${options.to}: a live migration without a disk copy needs the disks on storage both hosts see.`, hint: 'Use a block migration (copies the disks), or put the disk on shared storage.' });
    } else if (options.mode === 'live' && !(await isSameFile(input.source, destination, path))) {
      items.push({ level: 'error', check: 'storage', message: `${path} on ${options.to} is another file of the same name, not the same storage.`, hint: 'Use a block migration (copies the disks), or put the disk on storage both hosts share.' });
    }
    if (options.mode !== 'live' && present.has(path) && !options.reuseImages) {
      items.push({ level: 'error', check: 'storage', message: `${path} already exists on ${options.to}; Ferry will not overwrite it.`, hint: 'Remove it there, or pass reuseImages (--reuse-images) to copy over it.' });
    }
  }
  const capabilities = await runVirsh(destination, ['capabilities']).catch(() => '');
  if (domain.machineType && !capabilities.includes(`>${domain.machineType}<`) && !capabilities.includes(`canonical='${domain.machineType}'`)) {
    items.push({ level: 'error', check: 'machine', message: `${options.to}'s QEMU has no machine type ${domain.machineType}.`, hint: 'Install the same QEMU version there, or change the domain to a machine type both hosts have.' });
  }
  if (domain.cpuModel) {
    const domcaps = await runVirsh(destination, ['domcapabilities', '--virttype', domain.domainType]).catch(() => '');
    const usable = new RegExp(`<model usable='yes'[^>]*>${escapeRegExp(domain.cpuModel)}</model>`).test(domcaps);
    if (!usable) items.push({ level: 'error', check: 'cpu', message: `CPU model ${domain.cpuModel} is not usable on ${options.to}.`, hint: 'Give the domain a CPU model both hosts support (virsh domcapabilities lists them).' });
  }
  const available = await availableMemoryMiB(destination);
  if (available !== null && available < domain.memoryMiB) {
    items.push({ level: 'error', check: 'memory', message: `${options.to} has ${available} MiB of memory available; "${options.vm}" needs ${domain.memoryMiB} MiB.`, hint: 'Free memory there or pick another host.' });
  }
  if (items.length === 0) items.push({ level: 'ok', check: 'destination', message: `${options.to} can take "${options.vm}": no domain of that name, machine type, CPU, memory and storage are there.` });
  return items;
}

async function existingPaths(host: HostTransport, paths: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const path of paths) if ((await host.exec(shellCommand(['test', '-e', path]))).code === 0) found.add(path);
  return found;
}

async function availableMemoryMiB(host: HostTransport): Promise<number | null> {
  const meminfo = await host.exec(shellCommand(['cat', '/proc/meminfo']));
  const kib = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo.stdout)?.[1]);
  return Number.isFinite(kib) && kib > 0 ? Math.floor(kib / 1024) : null;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function finish(items: PreflightItem[]): PreflightReport {
  return { ok: !items.some((item) => item.level === 'error'), items, modes: libvirtModes() };
}

export function libvirtModes(): ModeAvailability[] {
  return [
    { mode: 'live', possible: true, reason: 'libvirt moves the running domain; its disks must be on storage both hosts see', recommended: false },
    { mode: 'block', possible: true, reason: 'libvirt moves the running domain and copies its disks (--copy-storage-all)', recommended: true },
    { mode: 'offline', possible: true, reason: 'the domain is shut down, its disks copied by Ferry and its definition moved by libvirt', recommended: false },
  ];
}
