import type { HostInfo } from '../api/types.js';
import type { HostTransport } from '../ssh/transport.js';
import { remoteLayout } from '../paths.js';
import { shellQuote } from '../ssh/shell.js';
import { parseQemuFeatures, schemaProbeScript } from './qemu-features.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

/** What `-machine help` and `--version` said, and the binary they came from (device:inode:mtime:size). */
interface QemuFacts {
  binaryKey: string;
  version: string[];
  machines: string[];
  schema: string[];
}

// Asking QEMU for its machine types spawns the emulator (a few hundred ms on a busy host), and a
// migration reads both hosts' info; the answer only changes when the binary does.
const qemuFactsCache = new WeakMap<HostTransport, QemuFacts>();

/**
 * One round trip gathers everything; sections are split by marker lines so a missing tool only
 * empties its own section. QEMU is only run when its binary differs from `knownBinaryKey`.
 */
export function probeScript(knownBinaryKey: string): string {
  // Shell builtins read /proc wherever they can: each program started costs a few ms on a
  // busy host, and this runs at the start of every migration.
  return [
    'echo "@@hostname"; h=; read -r h < /proc/sys/kernel/hostname; echo "$h"',
    'echo "@@nproc"; nproc',
    'echo "@@cpuinfo"; while IFS= read -r l; do case "$l" in "model name"*) echo "$l"; break ;; esac; done < /proc/cpuinfo',
    'echo "@@meminfo"; while read -r k v u; do case "$k" in MemTotal:|MemAvailable:) echo "$k $v $u" ;; esac; done < /proc/meminfo',
    'echo "@@kvm"; if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo yes; else echo no; fi',
    `q=$(command -v ${QEMU_BINARY}); k=$([ -n "$q" ] && stat -L -c %d:%i:%Y:%s -- "$q" 2>/dev/null)`,
    'echo "@@binarykey"; echo "$k"',
    `if [ -z "$k" ] || [ "$k" != ${shellQuote(knownBinaryKey)} ]; then echo "@@qemu"; ${QEMU_BINARY} --version 2>&1 | head -n1; echo "@@machines"; ${QEMU_BINARY} -machine help 2>/dev/null; echo "@@schema"; ${schemaProbeScript(QEMU_BINARY)}; fi`,
  ].join('; ');
}

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
  const cached = qemuFactsCache.get(transport);
  const parts = sections(await transport.run(probeScript(cached?.binaryKey ?? ''), { timeoutMs: 30_000 }));
  const take = (key: string) => parts.get(key) ?? [];
  const binaryKey = take('binarykey')[0] ?? '';
  let qemu: QemuFacts = { binaryKey, version: take('qemu'), machines: take('machines'), schema: take('schema') };
  if (parts.has('qemu')) {
    if (binaryKey !== '') qemuFactsCache.set(transport, qemu);
    else qemuFactsCache.delete(transport);
  } else if (cached) {
    qemu = cached;
  }
  const machines = parseMachineTypes(qemu.machines);
  const meminfo = take('meminfo');
  return {
    name,
    hostname: take('hostname')[0] ?? '',
    cpuCount: Number(take('nproc')[0] ?? 0),
    cpuModel: (take('cpuinfo')[0] ?? '').replace(/^model name\s*:\s*/, ''),
    memoryTotalBytes: meminfoBytes(meminfo, 'MemTotal'),
    memoryAvailableBytes: meminfoBytes(meminfo, 'MemAvailable'),
    qemuVersion: /version (\S+)/.exec(qemu.version[0] ?? '')?.[1] ?? '',
    qemuBinary: QEMU_BINARY,
    machineTypes: machines.types,
    defaultMachineType: machines.defaultType,
    kvmUsable: take('kvm')[0] === 'yes',
    stateDir: remoteLayout.stateDir,
    qemuFeatures: parseQemuFeatures(qemu.schema),
  };
}
