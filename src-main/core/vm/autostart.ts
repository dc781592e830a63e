import { posix } from 'node:path';
import type { VmDefinition } from '../api/types.js';
import { remoteLayout } from '../paths.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import { definitionBridges } from './definition.js';
import { prepareFirmwareScript } from './firmware.js';
import { attachTapsScript } from './launch.js';
import { vmLayout } from './layout.js';
import { buildQemuArgv } from './qemu-argv.js';
import { openVmSocketsScript, prepareRunDirScript } from './run-dir.js';

/**
 * Autostart without a Ferry daemon on the host: each autostart VM has a boot script with the
 * command line Ferry last built for it, and one systemd unit runs them all at boot. A script only
 * starts its VM while the VM's definition on this host still says autostart, so after the VM
 * migrated away (its definition moved) or was edited, the old script does nothing.
 */
export const AUTOSTART_DIR = posix.join(remoteLayout.stateDir, 'autostart');
export const AUTOSTART_UNIT = 'ferry-autostart.service';
const UNIT_PATH = `/etc/systemd/system/${AUTOSTART_UNIT}`;
/** What the unit runs: every boot script, each on its own so one VM that fails does not stop the rest. */
export const AUTOSTART_RUN_ALL = `for f in ${AUTOSTART_DIR}/*.sh; do [ -f "$f" ] && /bin/sh "$f"; done; true`;

export const autostartScriptPath = (name: string) => posix.join(AUTOSTART_DIR, `${name}.sh`);

export function autostartScript(definition: VmDefinition, kvmUsable: boolean): string {
  const layout = vmLayout(definition.name);
  const argv = buildQemuArgv(definition, layout, { kvmUsable });
  const bridges = definitionBridges(definition);
  const attach = attachTapsScript(definition);
  return [
    '#!/bin/sh',
    `# Ferry: starts VM ${definition.name} at boot. Rewritten whenever Ferry starts or edits the VM; do not edit.`,
    `grep -q '"autostart": true' ${shellQuote(layout.definition)} 2>/dev/null || exit 0`,
    ...bridges.map((bridge) => `[ -d ${shellQuote(`/sys/class/net/${bridge}/bridge`)} ] || { echo ${shellQuote(`ferry: bridge ${bridge} is missing; ${definition.name} not started`)} >&2; exit 1; }`),
    prepareRunDirScript([posix.dirname(layout.serialLog)]),
    shellCommand(['rm', '-f', '--', layout.pidFile, layout.qmpSocket, layout.vncSocket]),
    ...[prepareFirmwareScript(definition)].filter((line): line is string => line !== null),
    // Without a QMP client at boot the guest is not held while its taps join the bridge: it
    // starts a few milliseconds before its link is connected.
    shellCommand(argv),
    openVmSocketsScript(definition.name),
    ...(attach ? [attach] : []),
    '',
  ].join('\n');
}

function unitText(): string {
  return [
    '[Unit]',
    'Description=Start the VMs Ferry marked for autostart',
    'After=network-online.target local-fs.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/sh -c ${shellQuote(AUTOSTART_RUN_ALL)}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Shell: writes a file from stdin atomically, mode 0700 (scripts) in a root-only directory. */
const writeFromStdin = (path: string) =>
  `umask 077 && ${shellCommand(['mkdir', '-p', '-m', '0700', posix.dirname(path)])} && cat > ${shellQuote(`${path}.tmp`)} && chmod 0700 ${shellQuote(`${path}.tmp`)} && mv -f -- ${shellQuote(`${path}.tmp`)} ${shellQuote(path)}`;

/** What starts autostart VMs on a host at boot. */
export type BootService = 'systemd-enabled' | 'systemd-disabled' | 'no-systemd';

/**
 * Makes the host's boot script for the VM match its definition: written when autostart is on
 * (and the systemd unit installed and enabled where systemd runs), removed when it is off.
 */
export async function syncAutostart(transport: HostTransport, definition: VmDefinition, kvmUsable: boolean): Promise<void> {
  const script = autostartScriptPath(definition.name);
  if (!definition.autostart || definition.adopted) {
    await transport.run(shellCommand(['rm', '-f', '--', script]));
    return;
  }
  await transport.run(writeFromStdin(script), { stdin: autostartScript(definition, kvmUsable) });
  if ((await transport.exec('[ -d /run/systemd/system ]')).code !== 0) return;
  if ((await transport.exec(shellCommand(['systemctl', 'is-enabled', '--quiet', AUTOSTART_UNIT]))).code === 0) return;
  await transport.run(`${writeFromStdin(UNIT_PATH)} && chmod 0644 ${shellQuote(UNIT_PATH)} && systemctl daemon-reload && ${shellCommand(['systemctl', 'enable', AUTOSTART_UNIT])} >/dev/null 2>&1`, { stdin: unitText() });
}

/** Shell printing "autostart-script=yes|no" and "boot-service=…" for readAutostartFacts. */
export function autostartFactsScript(name: string): string {
  return [
    `if [ -f ${shellQuote(autostartScriptPath(name))} ]; then echo autostart-script=yes; else echo autostart-script=no; fi`,
    `if [ ! -d /run/systemd/system ]; then echo boot-service=no-systemd; elif systemctl is-enabled --quiet ${AUTOSTART_UNIT} 2>/dev/null; then echo boot-service=systemd-enabled; else echo boot-service=systemd-disabled; fi`,
  ].join('\n');
}
