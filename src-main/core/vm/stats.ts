import type { HostStats, VmStats } from '../api/types.js';
import { FerryError } from '../errors.js';
import { remoteLayout } from '../paths.js';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { tapDeviceName } from './nic-names.js';

/** A VM has at most this many NICs whose tap devices are looked for. */
const MAX_NICS = 16;
const SECTOR_BYTES = 512;
/** Whole disks only: partitions, loop, RAM and device-mapper devices would count the same bytes twice. */
const WHOLE_DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;
const USER_MODE_NOTE = 'Its NICs are user-mode (QEMU slirp): their traffic never crosses a host device, so the host has no counters for it.';

/**
 * A `case` pattern for a VM's QEMU command line as `read` sees it (NUL bytes dropped), with the
 * name taken from "$n". The literals are split by an empty quote so this script's own command
 * line can never match.
 */
const QEMU_OF_N = ["'q'emu-system-", "'q'emu-kvm"].flatMap((program) => [`${program}*'-'nameguest="$n",*`, `*/${program}*'-'nameguest="$n",*`]).join('|');

/**
 * The one shell command for a reading: host counters, then for every pid file in the run
 * directory whose process is that VM's QEMU, its /proc stat, status and io. Sections are marked
 * by lines starting with "@@".
 */
export function statsScript(runDir: string = remoteLayout.runDir): string {
  return [
    'echo @@uptime; cat /proc/uptime',
    'echo @@clk; getconf CLK_TCK',
    "echo @@cpu; grep '^cpu' /proc/stat",
    'echo @@meminfo; cat /proc/meminfo',
    'echo @@diskstats; cat /proc/diskstats',
    'echo @@netdev; cat /proc/net/dev',
    'echo @@bridges; for b in /sys/class/net/*/bridge; do [ -d "$b" ] && echo "${b%/bridge}"; done',
    `for f in ${shellQuote(runDir)}/*.pid; do`,
    '  [ -f "$f" ] || continue; n=${f##*/}; n=${n%.pid}',
    '  p=; { read -r p < "$f"; } 2>/dev/null; case "$p" in \'\'|*[!0-9]*) continue ;; esac',
    '  c=; { IFS= read -r c < "/proc/$p/cmdline"; } 2>/dev/null',
    `  case "$c" in ${QEMU_OF_N}) ;; *) continue ;; esac`,
    '  echo "@@vm $n $p"; cat "/proc/$p/stat" "/proc/$p/status" 2>/dev/null; echo @@io; cat "/proc/$p/io" 2>/dev/null',
    'done',
    'true',
  ].join('\n');
}

/** Reads every counter of the host and its running VMs with one command. */
export async function readHostStats(transport: HostTransport, host: string): Promise<HostStats> {
  const output = await transport.run(statsScript());
  return parseHostStats(output, host, Date.now());
}

interface Section {
  name: string;
  args: string[];
  lines: string[];
}

function sections(output: string): Section[] {
  const found: Section[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('@@')) {
      const [name = '', ...args] = line.slice(2).trim().split(/\s+/);
      found.push({ name, args, lines: [] });
    } else if (line.trim() !== '') {
      found[found.length - 1]?.lines.push(line);
    }
  }
  return found;
}

function need(value: number | undefined, what: string): number {
  if (value === undefined || !Number.isFinite(value)) {
    throw new FerryError('remote-command-failed', `The host's counters could not be read: ${what} is missing`, { hint: 'Ferry reads /proc on the host; make sure it is a Linux host with /proc mounted.' });
  }
  return value;
}

/** "/proc/meminfo" style "Key:   123 kB" lines, in bytes. */
function kibibyteFields(lines: string[]): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of lines) {
    const match = /^(\w+):\s+(\d+)(\s+kB)?/.exec(line);
    if (match?.[1] && match[2]) fields.set(match[1], Number(match[2]) * (match[3] ? 1024 : 1));
  }
  return fields;
}

/** Interface name → received and sent bytes, from /proc/net/dev. */
export function parseNetDev(lines: string[]): Map<string, { rxBytes: number; txBytes: number }> {
  const devices = new Map<string, { rxBytes: number; txBytes: number }>();
  for (const line of lines) {
    const match = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const fields = match[2].trim().split(/\s+/).map(Number);
    const rxBytes = fields[0];
    const txBytes = fields[8];
    if (rxBytes !== undefined && txBytes !== undefined && Number.isFinite(rxBytes) && Number.isFinite(txBytes)) devices.set(match[1], { rxBytes, txBytes });
  }
  return devices;
}

function parseCpu(lines: string[]): { busyTicks: number; totalTicks: number; cpuCount: number } {
  let busyTicks = 0;
  let totalTicks = 0;
  let cpuCount = 0;
  for (const line of lines) {
    const [label, ...rest] = line.trim().split(/\s+/);
    if (label !== 'cpu') {
      if (label !== undefined && /^cpu\d+$/.test(label)) cpuCount += 1;
      continue;
    }
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const ticks = rest.slice(0, 8).map(Number);
    totalTicks = ticks.reduce((sum, value) => sum + value, 0);
    busyTicks = totalTicks - (ticks[3] ?? 0) - (ticks[4] ?? 0);
  }
  return { busyTicks: need(totalTicks > 0 ? busyTicks : undefined, 'the cpu line of /proc/stat'), totalTicks, cpuCount: Math.max(1, cpuCount) };
}

function parseDiskstats(lines: string[]): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (!WHOLE_DISK.test(fields[2] ?? '')) continue;
    readBytes += Number(fields[5] ?? 0) * SECTOR_BYTES;
    writeBytes += Number(fields[9] ?? 0) * SECTOR_BYTES;
  }
  return { readBytes, writeBytes };
}

function parseVm(section: Section, io: Section | undefined, devices: Map<string, { rxBytes: number; txBytes: number }>): VmStats | null {
  const [name, pidText] = section.args;
  const statLine = section.lines[0] ?? '';
  // The command name in parentheses may hold spaces: fields are counted from its closing one.
  const afterName = statLine.slice(statLine.lastIndexOf(')') + 1).trim().split(/\s+/);
  const utime = Number(afterName[11]);
  const stime = Number(afterName[12]);
  if (!name || !pidText || !Number.isFinite(utime) || !Number.isFinite(stime)) return null; // exited while being read
  const status = kibibyteFields(section.lines.slice(1));
  const ioFields = new Map<string, number>();
  for (const line of io?.lines ?? []) {
    const match = /^(\w+):\s+(\d+)$/.exec(line.trim());
    if (match?.[1] && match[2]) ioFields.set(match[1], Number(match[2]));
  }
  const readBytes = ioFields.get('read_bytes');
  const writeBytes = ioFields.get('write_bytes');
  const taps = Array.from({ length: MAX_NICS }, (_, index) => tapDeviceName(name, index)).filter((tap) => devices.has(tap));
  const vm: VmStats = {
    name,
    pid: Number(pidText),
    cpuTicks: utime + stime,
    rssBytes: status.get('VmRSS') ?? 0,
    disk: readBytes !== undefined && writeBytes !== undefined ? { readBytes, writeBytes } : null,
    network: null,
  };
  if (taps.length === 0) {
    vm.networkNote = USER_MODE_NOTE;
    return vm;
  }
  // The tap's receive is what the guest sent, and the other way round.
  const counters = taps.map((tap) => devices.get(tap) ?? { rxBytes: 0, txBytes: 0 });
  vm.network = { rxBytes: counters.reduce((sum, c) => sum + c.txBytes, 0), txBytes: counters.reduce((sum, c) => sum + c.rxBytes, 0), devices: taps };
  return vm;
}

export function parseHostStats(output: string, host: string, at: number): HostStats {
  const parts = sections(output);
  const section = (name: string) => parts.find((part) => part.name === name)?.lines ?? [];
  const uptimeSeconds = need(Number(section('uptime')[0]?.trim().split(/\s+/)[0] ?? Number.NaN), '/proc/uptime');
  const clockTicksPerSecond = need(Number(section('clk')[0]?.trim() ?? Number.NaN), 'the clock tick rate (getconf CLK_TCK)');
  const cpu = parseCpu(section('cpu'));
  const meminfo = kibibyteFields(section('meminfo'));
  const devices = parseNetDev(section('netdev'));
  const bridges = new Set(section('bridges').map((line) => line.trim().split('/').pop() ?? ''));
  const vmTaps = new Set<string>();
  const vms: VmStats[] = [];
  parts.forEach((part, index) => {
    if (part.name !== 'vm') return;
    const next = parts[index + 1];
    const vm = parseVm(part, next?.name === 'io' ? next : undefined, devices);
    if (!vm) return;
    for (const tap of vm.network?.devices ?? []) vmTaps.add(tap);
    vms.push(vm);
  });
  let rxBytes = 0;
  let txBytes = 0;
  for (const [name, counters] of devices) {
    // Taps and bridges carry the same bytes as the host's own uplink, or only the VMs' traffic.
    if (name === 'lo' || bridges.has(name) || vmTaps.has(name) || /^fy[0-9a-f]{10}/.test(name)) continue;
    rxBytes += counters.rxBytes;
    txBytes += counters.txBytes;
  }
  return {
    host,
    at,
    uptimeSeconds,
    clockTicksPerSecond,
    cpuCount: cpu.cpuCount,
    cpu: { busyTicks: cpu.busyTicks, totalTicks: cpu.totalTicks },
    memory: { totalBytes: need(meminfo.get('MemTotal'), 'MemTotal in /proc/meminfo'), availableBytes: meminfo.get('MemAvailable') ?? meminfo.get('MemFree') ?? 0 },
    disk: parseDiskstats(section('diskstats')),
    network: { rxBytes, txBytes },
    vms: vms.sort((a, b) => a.name.localeCompare(b.name)),
  };
}
