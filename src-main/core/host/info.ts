import type { HostInfo } from '../api/types.js';
import type { HostTransport } from '../ssh/transport.js';
import { remoteLayout } from '../paths.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

// One round trip gathers everything; sections are split by marker lines so a missing tool only
// empties its own section.
const PROBE_SCRIPT = [
  'echo "@@hostname"; hostname',
  'echo "@@nproc"; nproc',
  'echo "@@cpuinfo"; grep -m1 "model name" /proc/cpuinfo',
  'echo "@@meminfo"; grep -E "^(MemTotal|MemAvailable):" /proc/meminfo',
  `echo "@@qemu"; ${QEMU_BINARY} --version 2>&1 | head -n1`,
  `echo "@@machines"; ${QEMU_BINARY} -machine help 2>/dev/null`,
  'echo "@@kvm"; if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo yes; else echo no; fi',
].join('; ');

function sections(output: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const marker = /^@@(\w+)$/.exec(line);
    if (marker?.[1] !== undefined) {
      current = [];
      result.set(marker[1], current);
    } else if (current && line.trim() !== '') {
      current.push(line);
    }
  }
  return result;
}

function meminfoBytes(lines: string[], key: string): number {
  const line = lines.find((candidate) => candidate.startsWith(`${key}:`));
  const kib = line ? Number(/(\d+)/.exec(line)?.[1] ?? 0) : 0;
  return kib * 1024;
}

/** Parses `-machine help`: versioned types, and the versioned type that plain "q35" points at. */
export function parseMachineTypes(lines: string[]): { types: string[]; defaultType: string } {
  const types: string[] = [];
  let q35Alias = '';
  let defaultType = '';
  for (const line of lines) {
    const match = /^(\S+)\s+(.*)$/.exec(line);
    if (!match?.[1] || match[1] === 'Supported') continue;
    const [, name, description = ''] = match;
    const alias = /alias of (\S+?)\)/.exec(description)?.[1];
    if (name === 'q35' && alias) q35Alias = alias;
    if (/\(default\)/.test(description)) defaultType = alias ?? name;
    if (!alias) types.push(name);
  }
  return { types, defaultType: q35Alias || defaultType || types[0] || 'q35' };
}

export async function readHostInfo(name: string, transport: HostTransport): Promise<HostInfo> {
  const parts = sections(await transport.run(PROBE_SCRIPT, { timeoutMs: 30_000 }));
  const take = (key: string) => parts.get(key) ?? [];
  const machines = parseMachineTypes(take('machines'));
  const meminfo = take('meminfo');
  return {
    name,
    hostname: take('hostname')[0] ?? '',
    cpuCount: Number(take('nproc')[0] ?? 0),
    cpuModel: (take('cpuinfo')[0] ?? '').replace(/^model name\s*:\s*/, ''),
    memoryTotalBytes: meminfoBytes(meminfo, 'MemTotal'),
    memoryAvailableBytes: meminfoBytes(meminfo, 'MemAvailable'),
    qemuVersion: /version (\S+)/.exec(take('qemu')[0] ?? '')?.[1] ?? '',
    qemuBinary: QEMU_BINARY,
    machineTypes: machines.types,
    defaultMachineType: machines.defaultType,
    kvmUsable: take('kvm')[0] === 'yes',
    stateDir: remoteLayout.stateDir,
  };
}
