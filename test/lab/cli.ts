// `npm run lab -- up|down|status [--json] [--hosts N] [--slow-shell SECONDS] [--qemu [HOST=]VERSION]`
import { labDown, labStatus, labUp } from './lab.js';
import { setLoginShellDelay } from './login-shell.js';
import type { LabQemu, LabStatus } from './types.js';

interface CliArgs {
  command: 'up' | 'down' | 'status';
  json: boolean;
  hosts: number | undefined;
  /** Gives every lab host a login shell this many seconds slow (0: quick again). */
  slowShell: number | undefined;
  /** QEMU per host index; see parseQemuOption. */
  qemu: Partial<Record<number, LabQemu>>;
}

const USAGE = 'usage: npm run lab -- up|down|status [--json] [--hosts N] [--slow-shell SECONDS] [--qemu [HOST=]7.2|10.0 ...]';

/** `--qemu 10.0` (every host) or `--qemu b=10.0` (host b; a, b, … as in ferry-lab-a, ferry-lab-b). */
function parseQemuOption(value: string | undefined, into: Partial<Record<number, LabQemu>>, hosts: number): void {
  const match = /^(?:([a-z])=)?(7\.2|10\.0)$/.exec(value ?? '');
  if (!match?.[2]) throw new Error(`--qemu takes [HOST=]7.2 or [HOST=]10.0, e.g. --qemu b=10.0\n${USAGE}`);
  const version = match[2] as LabQemu;
  if (match[1] === undefined) for (let i = 0; i < hosts; i++) into[i] = version;
  else into[match[1].charCodeAt(0) - 97] = version;
}

function parseArgs(argv: string[]): CliArgs {
  let command: CliArgs['command'] | undefined;
  let json = false;
  let hosts: number | undefined;
  let slowShell: number | undefined;
  const qemuValues: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === 'up' || a === 'down' || a === 'status') command = a;
    else if (a === '--json') json = true;
    else if (a === '--hosts') hosts = Number(argv[++i]);
    else if (a?.startsWith('--hosts=')) hosts = Number(a.slice('--hosts='.length));
    else if (a === '--slow-shell') slowShell = Number(argv[++i]);
    else if (a === '--qemu') qemuValues.push(argv[++i] ?? '');
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!command) throw new Error(USAGE);
  if (hosts !== undefined && !Number.isInteger(hosts)) throw new Error(`--hosts needs a number\n${USAGE}`);
  if (slowShell !== undefined && !(slowShell >= 0 && slowShell <= 10)) throw new Error(`--slow-shell needs 0–10 seconds\n${USAGE}`);
  const qemu: Partial<Record<number, LabQemu>> = {};
  for (const value of qemuValues) parseQemuOption(value, qemu, hosts ?? 2);
  return { command, json, hosts, slowShell, qemu };
}

function summary(s: LabStatus): string {
  const lines = [
    `lab up: bridge ${s.bridge} (${s.gateway}), dir ${s.labDir}`,
    `guest: ${s.guest.kernel} + ${s.guest.initrd}, accel ${s.guest.accel}`,
    `known_hosts: ${s.knownHostsFile}`,
  ];
  for (const h of s.hosts) {
    lines.push(
      `  ${h.name}  ${h.user}@${h.address}:${h.port}  QEMU ${h.qemu}  sshd pid ${h.sshdPid}  ${h.hostKeyFingerprint}`,
      `    ssh -i ${h.identityFile} -o UserKnownHostsFile=${s.knownHostsFile} ${h.user}@${h.address}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = args.json ? (l: string) => process.stderr.write(l + '\n') : (l: string) => console.log(l);
  const started = Date.now();
  if (args.command === 'down') {
    await labDown({ log });
    if (!args.json) console.log(`lab down (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return;
  }
  if (args.command === 'up') {
    const s = await labUp({ hosts: args.hosts, qemu: args.qemu, log });
    if (args.slowShell !== undefined) {
      for (const host of s.hosts) await setLoginShellDelay(s, host, args.slowShell);
      log(`login shells on every host: ${args.slowShell === 0 ? 'quick' : `${args.slowShell} s slow`}`);
    }
    console.log(args.json ? JSON.stringify(s, null, 2) : `${summary(s)}\nup in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const s = labStatus();
  if (args.json) console.log(JSON.stringify(s ?? { up: false }, null, 2));
  else console.log(s ? summary(s) : 'lab is down (or only partly up: `npm run lab -- up` repairs it)');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
