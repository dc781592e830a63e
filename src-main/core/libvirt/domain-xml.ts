import { XMLParser } from 'fast-xml-parser';
import type { LibvirtDisk, LibvirtNic, VmDefinition, VmDisk, VmNic } from '../api/types.js';
import { FerryError } from '../errors.js';

/** What a domain's XML says, before its run state and autostart flag (which the XML does not hold) are added. */
export interface ParsedDomain {
  name: string;
  uuid: string;
  id: number | null;
  domainType: string;
  memoryMiB: number;
  vcpus: number;
  machineType: string | null;
  cpuMode: string | null;
  cpuModel: string | null;
  firmware: 'bios' | 'uefi';
  kernel: { path: string; initrd?: string; append?: string } | null;
  bootDevices: string[];
  serialFile: string | null;
  hasGraphics: boolean;
  disks: LibvirtDisk[];
  nics: LibvirtNic[];
}

type XmlNode = Record<string, unknown>;

/** Elements that may repeat are always arrays, so one disk and three disks read the same way. */
const REPEATED = new Set(['disk', 'interface', 'serial', 'boot', 'graphics', 'feature', 'backingStore']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // Names such as "123" stay strings; numbers are read where a number is meant.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => REPEATED.has(name),
});

export function parseXmlDocument(xml: string, what: string): XmlNode {
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (error) {
    throw new FerryError('internal', `libvirt's ${what} XML could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof document !== 'object' || document === null) throw new FerryError('internal', `libvirt's ${what} XML is empty`);
  return document as XmlNode;
}

export function child(node: unknown, name: string): XmlNode | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const value = (node as XmlNode)[name];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'object' && first !== null) return first as XmlNode;
  // An element with only text reads as a string; an empty one as "".
  if (typeof first === 'string') return { '#text': first };
  return undefined;
}

export function children(node: unknown, name: string): XmlNode[] {
  if (typeof node !== 'object' || node === null) return [];
  const value = (node as XmlNode)[name];
  const list: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((entry) => (typeof entry === 'object' && entry !== null ? (entry as XmlNode) : { '#text': entry }));
}

export function attribute(node: XmlNode | undefined, name: string): string | null {
  const value = node?.[`@${name}`];
  return typeof value === 'string' ? value : null;
}

export function text(node: XmlNode | undefined): string | null {
  const value = node?.['#text'];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2, g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3, t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

/** An element such as <memory unit='KiB'>131072</memory> in bytes; libvirt's default unit is given. */
export function bytesOf(node: XmlNode | undefined, defaultUnit: string): number | null {
  const value = Number(text(node));
  const unit = UNIT_BYTES[(attribute(node, 'unit') ?? defaultUnit).toLowerCase()];
  return Number.isFinite(value) && unit !== undefined ? value * unit : null;
}

function diskOf(disk: XmlNode): LibvirtDisk {
  const source = child(disk, 'source');
  const driver = child(disk, 'driver');
  const backing = children(disk, 'backingStore')[0];
  return {
    device: attribute(disk, 'device') ?? 'disk',
    type: attribute(disk, 'type') ?? 'file',
    path: attribute(source, 'file') ?? attribute(source, 'dev') ?? attribute(source, 'dir') ?? attribute(source, 'name'),
    format: attribute(driver, 'type'),
    cache: attribute(driver, 'cache'),
    target: attribute(child(disk, 'target'), 'dev') ?? '',
    bus: attribute(child(disk, 'target'), 'bus'),
    readOnly: child(disk, 'readonly') !== undefined,
    backingPath: attribute(child(backing, 'source'), 'file') ?? attribute(child(backing, 'source'), 'dev'),
  };
}

function nicOf(nic: XmlNode): LibvirtNic {
  const source = child(nic, 'source');
  return {
    type: attribute(nic, 'type') ?? 'network',
    source: attribute(source, 'network') ?? attribute(source, 'bridge') ?? attribute(source, 'dev') ?? null,
    model: attribute(child(nic, 'model'), 'type'),
    mac: attribute(child(nic, 'mac'), 'address'),
  };
}

function firmwareOf(os: XmlNode | undefined): 'bios' | 'uefi' {
  if (attribute(os, 'firmware') === 'efi') return 'uefi';
  const loader = child(os, 'loader');
  return attribute(loader, 'type') === 'pflash' || /OVMF|edk2|AAVMF/i.test(text(loader) ?? '') ? 'uefi' : 'bios';
}

/** A domain's XML (`virsh dumpxml`) as plain facts. */
export function parseDomainXml(xml: string): ParsedDomain {
  const domain = child(parseXmlDocument(xml, 'domain'), 'domain');
  const name = text(child(domain, 'name'));
  if (!domain || !name) throw new FerryError('internal', 'libvirt returned domain XML without a <name>');
  const os = child(domain, 'os');
  const devices = child(domain, 'devices');
  const cpu = child(domain, 'cpu');
  const kernelPath = text(child(os, 'kernel'));
  const initrd = text(child(os, 'initrd'));
  const append = text(child(os, 'cmdline'));
  const serial = children(devices, 'serial')[0];
  const id = Number(attribute(domain, 'id'));
  return {
    name,
    uuid: text(child(domain, 'uuid')) ?? '',
    id: Number.isInteger(id) && id > 0 ? id : null,
    domainType: attribute(domain, 'type') ?? 'kvm',
    memoryMiB: Math.round((bytesOf(child(domain, 'memory'), 'KiB') ?? 0) / 1024 ** 2),
    vcpus: Number(text(child(domain, 'vcpu')) ?? 1),
    machineType: attribute(child(os, 'type'), 'machine'),
    cpuMode: attribute(cpu, 'mode'),
    cpuModel: text(child(cpu, 'model')),
    firmware: firmwareOf(os),
    kernel: kernelPath ? { path: kernelPath, ...(initrd ? { initrd } : {}), ...(append ? { append } : {}) } : null,
    bootDevices: children(os, 'boot').flatMap((boot) => attribute(boot, 'dev') ?? []),
    serialFile: attribute(serial, 'type') === 'file' ? attribute(child(serial, 'source'), 'path') : null,
    hasGraphics: children(devices, 'graphics').length > 0,
    disks: children(devices, 'disk').map(diskOf),
    nics: children(devices, 'interface').map(nicOf),
  };
}

const FERRY_CACHES: ReadonlySet<string> = new Set(['none', 'directsync', 'writeback', 'writethrough', 'unsafe']);
const NIC_MODELS: Readonly<Record<string, VmNic['model']>> = { virtio: 'virtio-net-pci', e1000: 'e1000' };
const BOOT_DEVICES: Readonly<Record<string, 'disk' | 'cdrom' | 'network'>> = { hd: 'disk', cdrom: 'cdrom', network: 'network' };

/**
 * The part of a domain Ferry's own VM definition can say. What it cannot (other NIC models,
 * networks, disk formats) is left out here and kept in the domain's libvirt facts.
 */
export function definitionFromDomain(domain: ParsedDomain): VmDefinition {
  const disks: VmDisk[] = domain.disks.flatMap((disk) => {
    if (disk.device !== 'disk' || disk.path === null) return [];
    const format = disk.format === 'qcow2' ? 'qcow2' : 'raw';
    // libvirt leaves the cache to QEMU when the XML does not say, and QEMU's default is writeback.
    const cache = disk.cache !== null && FERRY_CACHES.has(disk.cache) ? (disk.cache as VmDisk['cache']) : 'writeback';
    return [{ path: disk.path, format, cache, ...(disk.type === 'block' ? { blockDevice: true } : {}) }];
  });
  const nics: VmNic[] = domain.nics.flatMap((nic): VmNic[] => {
    const model = NIC_MODELS[nic.model ?? 'virtio'];
    if (!model || nic.mac === null) return [];
    if (nic.type === 'user') return [{ model, mac: nic.mac, network: { type: 'user' } }];
    if (nic.type === 'bridge' && nic.source !== null) return [{ model, mac: nic.mac, network: { type: 'bridge', bridge: nic.source } }];
    return [];
  });
  const cdrom = domain.disks.find((disk) => disk.device === 'cdrom' && disk.path !== null)?.path;
  const boot = domain.bootDevices.flatMap((dev) => BOOT_DEVICES[dev] ?? []);
  const firstNic = nics[0];
  return {
    name: domain.name,
    memoryMiB: domain.memoryMiB,
    vcpus: domain.vcpus,
    machineType: domain.machineType ?? '',
    cpuModel: domain.cpuModel ?? domain.cpuMode ?? '',
    accel: domain.domainType === 'kvm' ? 'kvm' : 'tcg',
    disks,
    nic: firstNic ? { model: firstNic.model, mac: firstNic.mac } : null,
    nics,
    ...(cdrom !== undefined && cdrom !== null ? { cdrom } : {}),
    ...(boot.length > 0 ? { boot } : {}),
    firmware: domain.firmware,
    ...(domain.kernel ? { kernel: domain.kernel } : {}),
    display: domain.hasGraphics ? 'vga' : 'none',
    // libvirt does not record when a domain was defined.
    createdAt: '',
  };
}
