import type { HostCheckItem } from '../api/types.js';
import { remoteLayout } from '../paths.js';
import { OVMF_CODE } from '../vm/firmware.js';
import { MIGRATION_PORTS, QEMU_IMG, QEMU_NBD, QEMU_SYSTEM, REQUIRED_TOOLS, SOCKET_LISTERS, STATE_DIRECTORIES, versionKey, whichKey } from './check-script.js';

/** The QEMU releases Ferry's tests run against; older ones lack what migration relies on. */
export const TESTED_QEMU = ['7.2', '10.0'] as const;
const MINIMUM_QEMU = { major: 7, minor: 2 } as const;

/** What the check learnt apart from the shell facts. */
export interface ConnectionFacts {
  /** false for a host managed locally, without SSH. */
  overSsh: boolean;
  /** Whether a stream-local forward to an existing socket opened; undefined when no test socket could be made. */
  streamLocal: { opened: true } | { opened: false; reason: string } | undefined;
  /** Why commands do not run in a host session, or undefined when they do. */
  hostSessionUnavailable: string | undefined;
}

type Sections = ReadonlyMap<string, readonly string[]>;

const item = (check: string, level: HostCheckItem['level'], message: string, hint?: string): HostCheckItem => (hint === undefined ? { check, level, message } : { check, level, message, hint });
const first = (sections: Sections, key: string): string => sections.get(key)?.[0]?.trim() ?? '';
const installHint = (packageName: string) => `Install it: apt install ${packageName} (Debian/Ubuntu).`;

export function parseQemuVersion(line: string): { major: number; minor: number; text: string } | undefined {
  const match = /version (\d+)\.(\d+)(\S*)/.exec(line);
  if (!match?.[1] || !match[2]) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), text: `${match[1]}.${match[2]}${match[3] ?? ''}` };
}

/** qemu-img and qemu-nbd: present, and they run (a file that is there but cannot run is as good as missing). */
function qemuToolItem(sections: Sections, command: string, packageName: string, neededFor: string): HostCheckItem {
  const path = first(sections, whichKey(command));
  const versionLine = first(sections, versionKey(command));
  const hint = installHint(packageName);
  if (path === '') return item(command, 'error', `${command} is not installed; ${neededFor} need it`, hint);
  // qemu-nbd prints "qemu-nbd 7.2.0 (...)" where the others print "version 7.2.0".
  const version = /(?:version )?(\d+\.\d+\S*)/.exec(versionLine)?.[1];
  if (version === undefined) return item(command, 'error', `${command} at ${path} does not run: ${versionLine || 'no output'}`, `Reinstall it: apt install --reinstall ${packageName} (Debian/Ubuntu).`);
  return item(command, 'ok', `${command} ${version} (${path})`);
}

function qemuSystemItem(sections: Sections): HostCheckItem {
  const hint = installHint('qemu-system-x86');
  const path = first(sections, whichKey(QEMU_SYSTEM));
  if (path === '') return item(QEMU_SYSTEM, 'error', `${QEMU_SYSTEM} is not installed; Ferry cannot run VMs without it`, hint);
  const line = first(sections, versionKey(QEMU_SYSTEM));
  const version = parseQemuVersion(line);
  if (version === undefined) return item(QEMU_SYSTEM, 'error', `${QEMU_SYSTEM} at ${path} does not run: ${line || 'no output'}`, `Reinstall it: apt install --reinstall qemu-system-x86 (Debian/Ubuntu).`);
  const tested = `Ferry is tested on QEMU ${TESTED_QEMU.join(' and ')}`;
  if (version.major < MINIMUM_QEMU.major || (version.major === MINIMUM_QEMU.major && version.minor < MINIMUM_QEMU.minor)) {
    return item(QEMU_SYSTEM, 'error', `QEMU ${version.text} is older than ${MINIMUM_QEMU.major}.${MINIMUM_QEMU.minor}; ${tested}`, 'Upgrade QEMU: Debian 12 and Ubuntu 24.04 ship 7.2 or newer (apt install qemu-system-x86), or use backports.');
  }
  const isTested = TESTED_QEMU.some((release) => `${version.major}.${version.minor}` === release);
  return item(QEMU_SYSTEM, 'ok', `QEMU ${version.text} (${path})${isTested ? '' : `; ${tested}`}`);
}

function toolItems(sections: Sections): HostCheckItem[] {
  const items = REQUIRED_TOOLS.map((tool) => {
    const path = first(sections, whichKey(tool.command));
    if (path !== '') return item(tool.command, 'ok', `${tool.command} (${path})`);
    return item(tool.command, tool.levelWhenMissing, `${tool.command} is not installed; ${tool.neededFor} needs it`, installHint(tool.packageName));
  });
  const lister = SOCKET_LISTERS.find((tool) => first(sections, whichKey(tool.command)) !== '');
  items.push(
    lister
      ? item('ss', 'ok', `${lister.command} (${first(sections, whichKey(lister.command))})`)
      : item('ss', 'warning', 'neither ss nor netstat is installed; diagnosing a busy migration port needs one', installHint('iproute2')),
  );
  return items;
}

function kvmItem(sections: Sections): HostCheckItem {
  switch (first(sections, 'kvm')) {
    case 'usable':
      return item('kvm', 'ok', '/dev/kvm is usable');
    case 'denied':
      return item('kvm', 'warning', '/dev/kvm exists but this user cannot open it; VMs run with TCG emulation, many times slower', 'Log in as root, or add the user to the kvm group: usermod -aG kvm USER.');
    default:
      return item('kvm', 'warning', 'there is no /dev/kvm; VMs run with TCG emulation, many times slower', 'Enable virtualization (VT-x/AMD-V) in the firmware and load the module: modprobe kvm_intel (or kvm_amd); in a VM, enable nested virtualization.');
  }
}

function rootItem(sections: Sections): HostCheckItem {
  const uid = first(sections, 'uid');
  const sudoUser = first(sections, 'sudouser');
  if (uid === '0' && sudoUser !== '' && sudoUser !== 'root') return item('root', 'ok', `logged in as ${sudoUser}, commands run as root through sudo`);
  if (uid === '0') return item('root', 'ok', 'logged in as root');
  return item(
    'root',
    'error',
    `logged in as uid ${uid || 'unknown'}, not root: writing ${remoteLayout.stateDir} and ${remoteLayout.runDir}, /dev/kvm, bridged networks (tap devices) and reading other users' QEMU processes fail`,
    'Let this user run commands as root with passwordless sudo (a line "USER ALL=(root) NOPASSWD: ALL" in /etc/sudoers.d/ferry) and edit the connection to use sudo (ferry host add NAME --ssh USER@HOST --sudo), or log in as root with a key (PermitRootLogin prohibit-password).',
  );
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const formatFree = (bytes: number) => (bytes >= GIB ? `${(bytes / GIB).toFixed(1)} GiB` : `${Math.floor(bytes / MIB)} MiB`);

function directoryItems(sections: Sections): HostCheckItem[] {
  return STATE_DIRECTORIES.flatMap((directory) => {
    const [probed = '', writable = '', df = ''] = sections.get(directory.key) ?? [];
    const where = probed === directory.path ? directory.path : `${directory.path} (not there yet; Ferry creates it in ${probed || '?'})`;
    if (writable !== 'writable') {
      return [item(directory.path, 'error', `${where} is not writable: ${writable.replace(/^not writable: /, '') || 'no answer'}`, `Ferry keeps ${directory.holds} there: log in as root, or run: mkdir -p ${directory.path} && chown USER ${directory.path}; check that the file system is not mounted read-only.`)];
    }
    const availableKib = Number(df.split(/\s+/)[3]);
    if (!Number.isFinite(availableKib)) return [item(directory.path, 'warning', `${where} is writable, but its free space is unknown (df said: ${df || 'nothing'})`)];
    const free = availableKib * 1024;
    if (free < directory.minFreeBytes) {
      return [item(directory.path, 'warning', `${where} is writable but only ${formatFree(free)} is free`, `Free space on that file system: Ferry keeps ${directory.holds} there (at least ${formatFree(directory.minFreeBytes)} recommended).`)];
    }
    return [item(directory.path, 'ok', `${where} is writable, ${formatFree(free)} free`)];
  });
}

function ovmfItem(sections: Sections): HostCheckItem {
  if (first(sections, 'ovmf') === 'yes') return item('ovmf', 'ok', `OVMF (UEFI firmware) at ${OVMF_CODE}`);
  return item('ovmf', 'warning', `no OVMF at ${OVMF_CODE}; only VMs with firmware "uefi" need it`, installHint('ovmf'));
}

/** Ports named after "dport" in a firewall rule: single ports, ranges (a-b in nft, a:b in iptables) and sets. */
function rulePorts(line: string): Array<[number, number]> {
  const after = /dports? +(\{[^}]*\}|\S+)/.exec(line)?.[1] ?? '';
  return [...after.matchAll(/(\d+)(?:[-:](\d+))?/g)].map((match) => [Number(match[1]), Number(match[2] ?? match[1])]);
}

const coversRange = (ports: Array<[number, number]>) => ports.some(([low, high]) => low <= MIGRATION_PORTS.last && high >= MIGRATION_PORTS.first);

/**
 * Only a hint: a rule that drops or rejects the range, or an input policy of drop with no rule that
 * accepts it. Matching on addresses, interfaces and sets is more than a check can judge.
 */
function firewallItem(sections: Sections): HostCheckItem {
  const range = `${MIGRATION_PORTS.first}-${MIGRATION_PORTS.last}`;
  const lines = [...(sections.get('nft') ?? []), ...(sections.get('iptables') ?? [])];
  const hint = `Allow the migration ports from the other hosts, e.g. nft add rule inet filter input tcp dport ${range} accept (or iptables -I INPUT -p tcp --dport ${MIGRATION_PORTS.first}:${MIGRATION_PORTS.last} -j ACCEPT).`;
  if (lines.length === 0) return item('migration-ports', 'ok', `no nft or iptables rules visible; TCP ${range} (migration) is not blocked here`);
  const dropping = lines.find((line) => /\b(drop|reject|DROP|REJECT)\b/.test(line) && coversRange(rulePorts(line)));
  if (dropping) return item('migration-ports', 'warning', `a firewall rule drops TCP ports Ferry migrates over (${range}): ${dropping.trim()}`, hint);
  const inputDropsByDefault = lines.some((line) => /hook input .*policy drop/.test(line) || /^:INPUT DROP\b/.test(line));
  const accepted = lines.some((line) => /\b(accept|ACCEPT)\b/.test(line) && coversRange(rulePorts(line)));
  if (inputDropsByDefault && !accepted) return item('migration-ports', 'warning', `incoming connections are dropped by default and no rule accepts TCP ${range} (migration)`, hint);
  return item('migration-ports', 'ok', `no firewall rule seen that blocks TCP ${range} (migration)`);
}

function streamLocalItem(facts: ConnectionFacts): HostCheckItem {
  if (!facts.overSsh) return item('stream-local', 'ok', 'local host: UNIX sockets are opened directly');
  const probe = facts.streamLocal;
  if (probe === undefined) return item('stream-local', 'warning', 'could not test whether sshd forwards UNIX sockets (no QEMU to make a test socket)', 'Make sure /etc/ssh/sshd_config has AllowStreamLocalForwarding yes (the default) and DisableForwarding is not set.');
  if (probe.opened) return item('stream-local', 'ok', 'sshd forwards UNIX sockets (QMP and consoles reach QEMU this way)');
  return item(
    'stream-local',
    'error',
    `sshd refused to forward a UNIX socket that exists (${probe.reason}); Ferry cannot talk to QEMU's QMP or consoles`,
    'Put AllowStreamLocalForwarding yes in /etc/ssh/sshd_config (and no DisableForwarding yes, no "restrict" or "no-port-forwarding" on the key in authorized_keys), then: systemctl reload ssh.',
  );
}

function sessionItem(facts: ConnectionFacts): HostCheckItem {
  if (!facts.overSsh) return item('host-session', 'ok', 'local host: commands run directly');
  if (facts.hostSessionUnavailable === undefined) return item('host-session', 'ok', 'commands run in one host session (one SSH channel)');
  return item('host-session', 'warning', `no host session, every command opens its own SSH channel (slower): ${facts.hostSessionUnavailable}`, 'Install what the host session needs: apt install coreutils util-linux (setsid, mkfifo, mktemp, head, wc), and make sure /tmp is writable.');
}

/** The report's items, from the shell facts and what the connection showed. */
export function hostCheckItems(sections: Sections, facts: ConnectionFacts): HostCheckItem[] {
  return [
    qemuSystemItem(sections),
    qemuToolItem(sections, QEMU_IMG, 'qemu-utils', 'disk images and every migration'),
    qemuToolItem(sections, QEMU_NBD, 'qemu-utils', 'offline and block migrations (disk copies)'),
    ...toolItems(sections),
    kvmItem(sections),
    rootItem(sections),
    ...directoryItems(sections),
    streamLocalItem(facts),
    sessionItem(facts),
    firewallItem(sections),
    ovmfItem(sections),
  ];
}
