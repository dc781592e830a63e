import { DEFAULT_PORT_RANGE } from '../migration/ports.js';
import { remoteLayout } from '../paths.js';
import { shellQuote } from '../ssh/shell.js';
import { OVMF_CODE, OVMF_VARS_TEMPLATE } from '../vm/firmware.js';
import { prepareRunDirScript } from '../vm/run-dir.js';

/** A program Ferry runs on a host, the Debian/Ubuntu package that ships it, and what needs it. */
export interface RequiredTool {
  command: string;
  packageName: string;
  neededFor: string;
  /** 'error': some Ferry feature fails without it; 'warning': Ferry works around its absence. */
  levelWhenMissing: 'warning' | 'error';
}

export const QEMU_SYSTEM = 'qemu-system-x86_64';
export const QEMU_IMG = 'qemu-img';
export const QEMU_NBD = 'qemu-nbd';
export const VERSIONED_TOOLS = [QEMU_SYSTEM, QEMU_IMG, QEMU_NBD] as const;

/** Tools the host session needs (without them each command gets its own SSH channel, slower), and others Ferry calls. */
export const REQUIRED_TOOLS: readonly RequiredTool[] = [
  { command: 'setsid', packageName: 'util-linux', neededFor: 'the host session', levelWhenMissing: 'warning' },
  { command: 'mkfifo', packageName: 'coreutils', neededFor: 'the host session', levelWhenMissing: 'warning' },
  { command: 'mktemp', packageName: 'coreutils', neededFor: 'the host session', levelWhenMissing: 'warning' },
  { command: 'head', packageName: 'coreutils', neededFor: 'the host session', levelWhenMissing: 'warning' },
  { command: 'wc', packageName: 'coreutils', neededFor: 'the host session', levelWhenMissing: 'warning' },
  { command: 'timeout', packageName: 'coreutils', neededFor: 'bounded waits during migrations', levelWhenMissing: 'error' },
  { command: 'flock', packageName: 'util-linux', neededFor: 'locking a VM while it is migrated', levelWhenMissing: 'error' },
  { command: 'ip', packageName: 'iproute2', neededFor: 'bridged VM networks', levelWhenMissing: 'warning' },
  { command: 'bash', packageName: 'bash', neededFor: "the pre-flight's test of the migration port from the source host", levelWhenMissing: 'warning' },
];

/** Either of these lists listening sockets; iproute2's ss is preferred. */
export const SOCKET_LISTERS = [
  { command: 'ss', packageName: 'iproute2' },
  { command: 'netstat', packageName: 'net-tools' },
] as const;

/** The directories Ferry writes on a host, and the free space below which the check warns. */
export const STATE_DIRECTORIES = [
  { key: 'statedir', path: remoteLayout.stateDir, minFreeBytes: 1024 ** 3, holds: 'VM definitions, logs and dir pools' },
  { key: 'rundir', path: remoteLayout.runDir, minFreeBytes: 16 * 1024 ** 2, holds: 'QMP and console sockets, pid files' },
] as const;

export const MIGRATION_PORTS = { first: DEFAULT_PORT_RANGE.first, last: DEFAULT_PORT_RANGE.first + DEFAULT_PORT_RANGE.count - 1 } as const;

/** Section keys are plain words so they can follow "@@" unquoted. */
const toolKey = (command: string) => command.replace(/[^A-Za-z0-9]/g, '_');
export const whichKey = (command: string) => `which_${toolKey(command)}`;
export const versionKey = (command: string) => `version_${toolKey(command)}`;

/**
 * Where a directory would be written: itself, or its nearest existing parent (Ferry creates the
 * rest). Then a real file is made and removed there, because `[ -w ]` is always true for root
 * even on a read-only file system.
 */
function directoryProbe(key: string, path: string): string {
  return [
    `echo "@@${key}"`,
    `p=${shellQuote(path)}`,
    'while [ ! -d "$p" ]; do p=${p%/*}; [ -n "$p" ] || p=/; done',
    'echo "$p"',
    'if f=$(mktemp "$p/.ferry-check.XXXXXX" 2>&1); then rm -f "$f"; echo writable; else echo "not writable: $f"; fi',
    'df -Pk "$p" 2>/dev/null | tail -n 1',
  ].join('; ');
}

/**
 * Starts a throwaway QEMU whose QMP socket the check then opens through the SSH connection: a
 * forward to a socket that exists is the only test that tells "sshd refuses stream-local
 * forwarding" apart from "no such socket", as sshd answers both with the same "open failed".
 */
function socketProbe(): string {
  return [
    'echo "@@socketprobe"',
    // In the run directory, made as for a VM: a sudo host's sockets are reached through its group.
    `if command -v ${QEMU_SYSTEM} >/dev/null 2>&1 && { ${prepareRunDirScript()}; } 2>/dev/null; then`,
    `s=${shellQuote(remoteLayout.runDir)}/check-$$.qmp`,
    't=; command -v timeout >/dev/null 2>&1 && t="timeout 30"',
    `$t ${QEMU_SYSTEM} -machine none -nodefaults -display none -qmp "unix:$s,server=on,wait=off" </dev/null >/dev/null 2>&1 &`,
    'echo "$s $!"',
    'i=0; while [ ! -S "$s" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done',
    'fi',
  ].join('\n');
}

/**
 * Every shell fact the check needs, in one round trip; each section is introduced by a "@@key"
 * line. A local host needs no test socket: nothing forwards its UNIX sockets.
 */
export function hostCheckScript(options: { socketProbe: boolean }): string {
  const tools = [...VERSIONED_TOOLS, ...REQUIRED_TOOLS.map((tool) => tool.command), ...SOCKET_LISTERS.map((tool) => tool.command), 'nft', 'iptables-save'];
  return [
    'echo "@@uid"; id -u',
    'echo "@@sudouser"; printf \'%s\\n\' "${SUDO_USER:-}"',
    ...tools.map((command) => `echo "@@${whichKey(command)}"; command -v ${shellQuote(command)} 2>/dev/null`),
    ...VERSIONED_TOOLS.map((command) => `echo "@@${versionKey(command)}"; command -v ${shellQuote(command)} >/dev/null 2>&1 && ${shellQuote(command)} --version 2>&1 | head -n 1`),
    'echo "@@kvm"; if [ ! -e /dev/kvm ]; then echo missing; elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo usable; else echo denied; fi',
    ...STATE_DIRECTORIES.map((directory) => directoryProbe(directory.key, directory.path)),
    `echo "@@ovmf"; if [ -r ${shellQuote(OVMF_CODE)} ] && [ -r ${shellQuote(OVMF_VARS_TEMPLATE)} ]; then echo yes; else echo no; fi`,
    'echo "@@nft"; command -v nft >/dev/null 2>&1 && nft list ruleset 2>/dev/null',
    'echo "@@iptables"; command -v iptables-save >/dev/null 2>&1 && iptables-save 2>/dev/null',
    ...(options.socketProbe ? [socketProbe()] : []),
    'true',
  ].join('\n');
}

/** Splits the script's output into its sections (blank lines dropped). */
export function parseSections(output: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  let lines: string[] = [];
  for (const line of output.split('\n')) {
    const key = /^@@(\w+)$/.exec(line)?.[1];
    if (key !== undefined) found.set(key, (lines = []));
    else if (line.trim() !== '') lines.push(line);
  }
  return found;
}
