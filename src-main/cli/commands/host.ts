import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import type { HostInfo, HostSummary } from '../../core/api/types.js';
import { isFerryError } from '../../core/errors.js';
import { FerryError } from '../../core/errors.js';
import { formatBytes, printError, printResult, table } from '../output.js';
import { cliEngine, jsonFlag, runChannel } from '../run.js';

function parseSshTarget(target: string): { user?: string; address: string; port?: number } {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target);
  if (!match?.[2]) throw new FerryError('invalid-input', `"${target}" is not USER@ADDRESS[:PORT]`, { hint: 'For example: --ssh root@192.0.2.10 or --ssh admin@kvm1:2222' });
  const result: { user?: string; address: string; port?: number } = { address: match[2].replace(/^\[|\]$/g, '') };
  if (match[1]) result.user = match[1];
  if (match[3]) result.port = Number(match[3]);
  return result;
}

const describeHost = (host: HostSummary) => `${host.name}  ${host.uri}  ${host.state}${host.stateReason ? ` (${host.stateReason})` : ''}`;

async function askTrust(fingerprint: string, keyType: string, name: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`The authenticity of host "${name}" can't be established.\n${keyType} key fingerprint is ${fingerprint}.\nTrust this host key? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

export function hostCommand(): Command {
  const host = new Command('host').description('saved connections to hypervisor hosts');

  host
    .command('add <name>')
    .description('add a host reached over SSH (or this machine with --local)')
    .option('--ssh <target>', 'USER@ADDRESS[:PORT] (ADDRESS may be an alias from ~/.ssh/config)')
    .option('--local', 'manage this machine directly, without SSH')
    .option('--identity <file>', 'private key file to log in with')
    .option('--password-stdin', 'read a password (or key passphrase) from standard input')
    .option('--accept-new-host-key', 'trust the host key if this host is not known yet (a changed key is never accepted)')
    .option('--trust-fingerprint <sha256>', 'trust an unknown host key only if it has this fingerprint')
    .action(async (name: string, options: { ssh?: string; local?: boolean; identity?: string; passwordStdin?: boolean; acceptNewHostKey?: boolean; trustFingerprint?: string }, command: Command) => {
      const json = jsonFlag(command);
      if (Boolean(options.ssh) === Boolean(options.local)) {
        printError(new FerryError('invalid-input', 'Give exactly one of --ssh USER@ADDRESS[:PORT] or --local'), { json });
        return;
      }
      if (options.local) {
        await runChannel(command, 'hosts.add', { transport: 'local', name }, describeHost);
        return;
      }
      try {
        const target = parseSshTarget(options.ssh ?? '');
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
          ...(secret !== undefined ? (options.identity ? { passphrase: secret } : { password: secret }) : {}),
          acceptNewHostKey: options.acceptNewHostKey === true,
          ...(options.trustFingerprint ? { trustFingerprint: options.trustFingerprint } : {}),
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
        hosts.length === 0 ? 'No hosts yet: add one with `ferry host add NAME --ssh USER@ADDRESS`.' : table(['NAME', 'URI', 'STATE'], hosts.map((entry) => [entry.name, entry.uri, entry.state])),
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
    .command('remove <name>')
    .description('forget a saved host (nothing on the host changes)')
    .action(async (name: string, _options: object, command: Command) => {
      await runChannel(command, 'hosts.remove', { name }, () => `Removed ${name}`);
    });

  return host;
}
