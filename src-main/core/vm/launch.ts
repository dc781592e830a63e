import { posix } from 'node:path';
import type { VmDefinition } from '../api/types.js';
import { FerryError, isFerryError } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import type { ExecResult, HostTransport } from '../ssh/transport.js';
import { syncAutostart } from './autostart.js';
import { prepareFirmwareScript, requireFirmware } from './firmware.js';
import { definitionBridges, definitionNics } from './definition.js';
import { vmLayout } from './layout.js';
import { withMonitor } from './monitor.js';
import { tapDeviceName } from './nic-names.js';
import { buildQemuArgv, type LaunchOptions } from './qemu-argv.js';
import { openVmSocketsScript, prepareRunDirScript } from './run-dir.js';
import { withHostDiskKinds } from './block-devices.js';
import { stopVmQemu } from './qemu-process.js';

export interface LaunchRequest extends LaunchOptions {
  /** Appended to the built command line, e.g. an offline migration's "-incoming exec:…". */
  extraArgv?: string[];
  timeoutMs?: number;
}

export interface LaunchResult extends ExecResult {
  argv: string[];
}

/** Shell: prints the name of each bridge that does not exist on the host, one a line. */
export function missingBridgesScript(bridges: readonly string[]): string {
  return [...bridges.map((bridge) => `[ -d ${shellCommand([`/sys/class/net/${bridge}/bridge`])} ] || echo ${shellCommand([bridge])}`), 'true'].join('\n');
}

export async function missingBridges(transport: HostTransport, bridges: readonly string[]): Promise<string[]> {
  if (bridges.length === 0) return [];
  return (await transport.run(missingBridgesScript(bridges))).split('\n').map((line) => line.trim()).filter(Boolean);
}

export function bridgeMissingError(host: string, bridges: readonly string[]): FerryError {
  const first = bridges[0] ?? 'br0';
  return new FerryError('not-found', `${host} has no bridge ${bridges.join(', ')}`, {
    hint: `Create it on ${host} (e.g. \`ip link add ${first} type bridge && ip link set ${first} up\`, made permanent in the host's network configuration), or give the NIC user-mode networking.`,
  });
}

/** Shell: puts each bridge NIC's tap into its bridge and brings it up. */
export function attachTapsScript(definition: VmDefinition): string {
  const commands = definitionNics(definition).flatMap((nic, index) => {
    if (nic.network.type !== 'bridge') return [];
    const tap = tapDeviceName(definition.name, index);
    return [shellCommand(['ip', 'link', 'set', 'dev', tap, 'master', nic.network.bridge]), shellCommand(['ip', 'link', 'set', 'dev', tap, 'up'])];
  });
  return commands.join(' && ');
}

/**
 * The one way a Ferry-built QEMU is started on a host: by vms.start and by both kinds of
 * migration destination. Bridge NICs are the reason it exists: QEMU opens each tap by name and
 * so creates it without the persist flag, which makes the kernel remove it the moment QEMU is gone
 * however it ends (quit, crash, SIGKILL, migrated away); Ferry then puts it into its bridge while
 * the guest is still stopped, so the guest never runs with a NIC that is not connected. A VM that
 * was asked to run is started with -S for that and continued after.
 */
export async function launchQemu(transport: HostTransport, stored: VmDefinition, request: LaunchRequest): Promise<LaunchResult> {
  const layout = vmLayout(stored.name);
  const bridges = stored.adopted ? [] : definitionBridges(stored);
  // Which disks are block devices is asked of the host on every start: it picks QEMU's driver.
  const [missing, definition] = await Promise.all([missingBridges(transport, bridges), withHostDiskKinds(transport, stored)]);
  if (missing.length > 0) throw bridgeMissingError(transport.label, missing);
  const holdCpus = bridges.length > 0 && !request.paused && !request.incoming;
  const argv = [...buildQemuArgv(definition, layout, { ...request, paused: request.paused || holdCpus }), ...(request.extraArgv ?? [])];
  const mkdir = prepareRunDirScript([posix.dirname(layout.serialLog)]);
  await requireFirmware(transport, definition.firmware);
  const prepare = [mkdir, prepareFirmwareScript(definition)].filter((part): part is string => part !== null).join(' && ');
  const result = await transport.exec(`${prepare} && ${shellCommand(argv)} && ${openVmSocketsScript(definition.name)}`, { timeoutMs: request.timeoutMs ?? 60_000 });
  // The boot script follows the command line the VM last started with, on whichever host that is.
  // Best effort: a VM that runs is not stopped because its boot script could not be written; its
  // details then say the host has no boot script for it.
  if (result.code === 0 && definition.autostart) await syncAutostart(transport, definition, request.kvmUsable).catch((error: unknown) => {
    if (!isFerryError(error)) throw error;
  });
  if (result.code !== 0 || bridges.length === 0) return { ...result, argv };
  const attached = await transport.exec(attachTapsScript(definition));
  if (attached.code !== 0) {
    await stopVmQemu(transport, definition.name, { quitFirst: true, waitMs: 3_000, graceMs: 2_000 });
    throw new FerryError('remote-command-failed', `The NICs of "${definition.name}" could not join their bridge on ${transport.label}: ${attached.stderr.trim()}`, {
      hint: 'Check the bridge with `ip -d link show` there; QEMU was stopped again.',
    });
  }
  if (holdCpus) await withMonitor(transport, layout.qmpSocket, (qmp) => qmp.execute('cont'));
  return { ...result, argv };
}
