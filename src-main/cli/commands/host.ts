import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import type { EvacuationSummary, EvacuationVm, HostCheckItem, HostCheckReport, HostInfo, HostSummary, VmLocation } from '../../core/api/types.js';
import { isFerryError } from '../../core/errors.js';
import { FerryError } from '../../core/errors.js';
import { formatBytes, printError, printResult, table } from '../output.js';
import { cliEngine, jsonFlag, runChannel } from '../run.js';
import { hostAddTargetFromUri, isHostUri } from '../host-uri.js';

function parseSshTarget(target: string): { user?: string; address: string; port?: number } {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
  if (!match?.[2]) throw new FerryError('invalid-input', `"${target}" is not USER@ADDRESS[:PORT]`, { hint: 'For example: --ssh root@192.0.2.10 or --ssh admin@kvm1:2222' });
  const result: { user?: string; address: string; port?: number } = { address: match[2].replace(/^\[|\]$/g, '') };
  if (match[1]) result.user = match[1];
  if (match[3]) result.port = Number(match[3]);
  return result;
}

function withoutTransport(target: { transport: 'ssh'; address: string; user?: string; port?: number }): { address: string; user?: string; port?: number } {
  const { transport: _transport, ...rest } = target;
  return rest;
}

const describeHost = (host: HostSummary) => `${host.name}  ${host.uri}${host.sudo ? ' (sudo)' : ''}${host.hypervisor === 'libvirt' ? ' (libvirt)' : ''}  ${host.state}${host.stateReason ? ` (${host.stateReason})` : ''}`;

async function askTrust(fingerprint: string, keyType: string, name: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`The authenticity of host "${name}" can't be established.\n${keyType} key fingerprint is ${fingerprint}.\nTrust this host key? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

interface EvacuateFlags {
  to: string;
  parallel: number;
  vm?: string[];
  mode?: string[];
  transport?: string;
  bandwidth?: number;
}

/** `--mode web=live db=offline` → { web: 'live', db: 'offline' }; the contract checks the names and modes. */
function parseModeOverrides(pairs: string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([^=]+)=([^=]+)$/.exec(pair);
    if (!match?.[1] || !match[2]) throw new FerryError('invalid-input', `"${pair}" is not VM=MODE`, { hint: 'For example: --mode web=live db=offline (modes: offline, live, block)' });
    overrides[match[1]] = match[2];
  }
  return overrides;
}

/** Only the hosts where the VM was found: "b (running)", or "nowhere". */
function describeFoundOn(found: VmLocation[] | undefined): string {
  if (!found) return '-';
  const present = found.filter((location) => location.state !== 'absent');
  return present.length === 0 ? 'nowhere' : present.map((location) => `${location.host} (${location.state})`).join(', ');
}

function evacuationTable(summary: EvacuationSummary): string {
  const rows = summary.vms.map((entry) => [entry.vm, entry.mode ?? '-', entry.state, entry.totalTimeMs === undefined ? '-' : `${(entry.totalTimeMs / 1000).toFixed(1)} s`, describeFoundOn(entry.foundOn)]);
  const notes = summary.vms.filter((entry) => entry.message).map((entry) => `  ${entry.vm}: ${entry.message}`);
  return [
    `Evacuation of ${summary.host} to ${summary.to}: ${summary.state.toUpperCase()}`,
    table(['VM', 'MODE', 'OUTCOME', 'TIME', 'FOUND ON'], rows),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n');
}

/** One line each time a VM's migration starts or ends. */
function progressLine(previous: EvacuationVm | undefined, entry: EvacuationVm, summary: EvacuationSummary): string | null {
  if (previous?.state === entry.state && previous.migrationId === entry.migrationId) return null;
  if (entry.state === 'migrating' && entry.migrationId !== null && previous?.migrationId === null) return `→ ${entry.vm}: ${entry.mode} migration to ${summary.to} started (${entry.migrationId})`;
  if (entry.state === 'migrating' || entry.state === 'waiting' || (previous === undefined && entry.state !== 'skipped')) return null;
  return `${entry.state === 'completed' ? '✓' : entry.state === 'skipped' ? '-' : '✗'} ${entry.vm}: ${entry.state}${entry.message ? ` (${entry.message})` : ''}`;
}

async function evacuate(host: string, flags: EvacuateFlags, command: Command): Promise<void> {
  const json = jsonFlag(command);
  const engine = cliEngine();
  const seen = new Map<string, EvacuationVm>();
  let evacuationId: string | null = null;
  const report = (summary: EvacuationSummary) => {
    if (json || (evacuationId !== null && summary.id !== evacuationId)) return;
    for (const entry of summary.vms) {
      const line = progressLine(seen.get(entry.vm), entry, summary);
      if (line) process.stderr.write(`${line}\n`);
      seen.set(entry.vm, { ...entry });
    }
  };
  const unsubscribe = engine.onEvent((event) => {
    if (event.name === 'evacuation-update') report(event.payload);
  });
  let interrupted = false;
  const onInterrupt = () => {
    if (evacuationId === null) return;
    if (interrupted) {
      process.stderr.write('Already cancelling: waiting for the running migrations to end (each VM must end up on exactly one host).\n');
      return;
    }
    interrupted = true;
    process.stderr.write('\nCancelling the evacuation: no further migrations start; running ones are cancelled…\n');
    engine.call('evacuations.cancel', { id: evacuationId }).then(
      (summary) => {
        const finishing = summary.vms.filter((entry) => entry.pastCommitPoint);
        for (const entry of finishing) process.stderr.write(`! ${entry.vm}: could not be cancelled, it is past its commit point and finishes on ${summary.to}\n`);
      },
      (error: unknown) => process.stderr.write(`${error instanceof FerryError ? `${error.message}\n${error.hint ?? ''}` : String(error)}\n`),
    );
  };
  try {
    const started = await engine.call('hosts.evacuate', {
      host,
      to: flags.to,
      parallel: flags.parallel,
      ...(flags.vm !== undefined ? { vms: flags.vm } : {}),
      modes: parseModeOverrides(flags.mode ?? []) as Record<string, 'live'>,
      ...(flags.transport !== undefined ? { transport: flags.transport as 'tls' } : {}),
      ...(flags.bandwidth !== undefined ? { bandwidthMiBps: flags.bandwidth } : {}),
    });
    evacuationId = started.id;
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onInterrupt);
    report(started);
    const final = await engine.evacuations.settled(started.id);
    printResult(final, { json }, () => evacuationTable(final));
    if (final.state !== 'completed') process.exitCode = 1;
  } catch (error) {
    printError(error, { json });
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    unsubscribe();
  }
}

const CHECK_MARKS: Record<HostCheckItem['level'], string> = { ok: '✓', warning: '!', error: '✗' };

/** One line per item, its fix indented below it. */
function describeCheck(report: HostCheckReport): string {
  const lines = report.items.flatMap((item) => [`${CHECK_MARKS[item.level]} ${item.check}: ${item.message}`, ...(item.hint && item.level !== 'ok' ? [`    ${item.hint}`] : [])]);
  const errors = report.items.filter((item) => item.level === 'error').length;
  const warnings = report.items.filter((item) => item.level === 'warning').length;
  lines.push('', report.ok ? `${report.host} has what Ferry needs${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}` : `${report.host} is missing what Ferry needs: ${errors} error${errors === 1 ? '' : 's'}`);
  return lines.join('\n');
}

export function hostCommand(): Command {
  const host = new Command('host').description('saved connections to hypervisor hosts');

  host
    .command('add <name> [uri]')
    .description('add a host reached over SSH (or this machine with --local); a URI qemu+ssh://USER@HOST[:PORT]/system adds a libvirt host')
    .option('--ssh <target>', 'USER@ADDRESS[:PORT] (ADDRESS may be an alias from ~/.ssh/config)')
    .option('--local', 'manage this machine directly, without SSH')
    .option('--libvirt', 'the host\'s VMs are libvirt domains: Ferry runs virsh on it over the same connection')
    .option('--identity <file>', 'private key file to log in with')
    .option('--sudo', 'the SSH user is not root: run Ferry\'s commands on the host with passwordless sudo')
    .option('--password-stdin', 'read a password (or key passphrase) from standard input')
    .option('--accept-new-host-key', 'trust the host key if this host is not known yet (a changed key is never accepted)')
    .option('--trust-fingerprint <sha256>', 'trust an unknown host key only if it has this fingerprint')
    .action(async (name: string, uri: string | undefined, options: { ssh?: string; local?: boolean; libvirt?: boolean; identity?: string; sudo?: boolean; passwordStdin?: boolean; acceptNewHostKey?: boolean; trustFingerprint?: string }, command: Command) => {
      const json = jsonFlag(command);
      if ([options.ssh !== undefined, options.local === true, uri !== undefined].filter(Boolean).length !== 1) {
        printError(new FerryError('invalid-input', 'Give exactly one of --ssh USER@ADDRESS[:PORT], --local or a URI qemu+ssh://USER@HOST[:PORT]/system'), { json });
        return;
      }
      if (uri !== undefined && !isHostUri(uri)) {
        printError(new FerryError('invalid-input', `"${uri}" is not a libvirt URI`, { hint: 'Write it as qemu+ssh://[USER@]ADDRESS[:PORT]/system, or use --ssh USER@ADDRESS[:PORT] (add --libvirt for a libvirt host).' }), { json });
        return;
      }
      let fromUri: ReturnType<typeof hostAddTargetFromUri> | undefined;
      try {
        fromUri = uri === undefined ? undefined : hostAddTargetFromUri(uri);
      } catch (error) {
        printError(error, { json });
        return;
      }
      const hypervisor = options.libvirt === true || fromUri !== undefined ? ('libvirt' as const) : ('ferry' as const);
      if (options.local || fromUri?.transport === 'local') {
        await runChannel(command, 'hosts.add', { transport: 'local', name, hypervisor }, describeHost);
        return;
      }
      try {
        const target = fromUri?.transport === 'ssh' ? withoutTransport(fromUri) : parseSshTarget(options.ssh ?? '');
        let secret: string | undefined;
        if (options.passwordStdin) {
          const chunks: Buffer[] = [];
          for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
          secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
        }
        const input = {
          transport: 'ssh' as const,
          name,
          ...target,
          ...(options.identity ? { identityFile: options.identity } : {}),
          sudo: options.sudo === true,
          ...(secret !== undefined ? (options.identity ? { passphrase: secret } : { password: secret }) : {}),
          acceptNewHostKey: options.acceptNewHostKey === true,
          ...(options.trustFingerprint ? { trustFingerprint: options.trustFingerprint } : {}),
          hypervisor,
        };
        let result: HostSummary;
        try {
          result = await cliEngine().call('hosts.add', input);
        } catch (error) {
          const fingerprint = isFerryError(error, 'host-key-unknown') ? error.details?.['fingerprint'] : undefined;
          const keyType = isFerryError(error) ? String(error.details?.['keyType'] ?? 'host') : 'host';
          if (typeof fingerprint !== 'string' || json || !process.stdin.isTTY || options.passwordStdin) throw error;
          if (!(await askTrust(fingerprint, keyType, name))) throw error;
          result = await cliEngine().call('hosts.add', { ...input, trustFingerprint: fingerprint });
        }
        printResult(result, { json }, () => `Added ${describeHost(result)}`);
      } catch (error) {
        printError(error, { json });
      }
    });

  host
    .command('list')
    .description('list saved hosts')
    .action(async (_options: object, command: Command) => {
      await runChannel(command, 'hosts.list', {}, (hosts) =>
        hosts.length === 0 ? 'No hosts yet: add one with `ferry host add NAME --ssh USER@ADDRESS`.' : table(['NAME', 'URI', 'STATE', 'KIND'], hosts.map((entry) => [entry.name, entry.uri, entry.state, entry.hypervisor])),
      );
    });

  host
    .command('info <name>')
    .description('CPU, memory, QEMU version and KVM of a host')
    .action(async (name: string, _options: object, command: Command) => {
      await runChannel(command, 'hosts.info', { host: name }, (info: HostInfo) =>
        [
          `Host:          ${info.name} (${info.hostname})`,
          `CPU:           ${info.cpuCount} × ${info.cpuModel}`,
          `Memory:        ${formatBytes(info.memoryAvailableBytes)} free of ${formatBytes(info.memoryTotalBytes)}`,
          `QEMU:          ${info.qemuVersion} (${info.qemuBinary}), default machine ${info.defaultMachineType}`,
          `KVM:           ${info.kvmUsable ? 'usable' : 'not usable (TCG emulation)'}`,
          `State dir:     ${info.stateDir}`,
        ].join('\n'),
      );
    });

  host
    .command('check <name>')
    .description('check that a host has what Ferry needs (QEMU, qemu-utils, sshd settings, directories, ports) and how to fix what is missing')
    .action(async (name: string, _options: object, command: Command) => {
      const json = jsonFlag(command);
      try {
        const report = await cliEngine().call('hosts.check', { host: name });
        printResult(report, { json }, () => describeCheck(report));
        if (!report.ok) process.exitCode = 1;
      } catch (error) {
        printError(error, { json });
      }
    });

  host
    .command('remove <name>')
    .description('forget a saved host (nothing on the host changes)')
    .action(async (name: string, _options: object, command: Command) => {
      await runChannel(command, 'hosts.remove', { name }, () => `Removed ${name}`);
    });

  host
    .command('evacuate <host>')
    .description('move every running VM off a host (each in its recommended mode unless --mode says otherwise); Ctrl-C cancels cleanly')
    .requiredOption('--to <host>', 'the host to move them to')
    .option('--parallel <n>', 'migrations at once (1-8)', Number, 2)
    .option('--vm <name...>', 'move only these VMs of the host')
    .option('--mode <vm=mode...>', 'the mode for a VM instead of the recommended one: offline | live | block')
    .option('--transport <transport>', 'tls (default) | tcp, for every migration')
    .option('--bandwidth <MiB/s>', 'bandwidth limit for each migration', Number)
    .action(async (name: string, flags: EvacuateFlags, command: Command) => {
      await evacuate(name, flags, command);
    });

  return host;
}
