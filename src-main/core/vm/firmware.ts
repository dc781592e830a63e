import { posix } from 'node:path';
import type { VmDefinition } from '../api/types.js';
import { FerryError } from '../errors.js';
import { remoteLayout } from '../paths.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

/**
 * UEFI comes from the host's OVMF (Debian's and Ubuntu's "ovmf" package). The 4 MiB build is the
 * one every current distribution ships; code is shared read-only, the variable store (boot
 * entries, Secure Boot keys) is the VM's own copy of the template.
 */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS_TEMPLATE = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export const uefiVarsPath = (name: string) => posix.join(remoteLayout.stateDir, 'nvram', `${name}_VARS.fd`);

export function firmwareArgs(definition: VmDefinition): string[] {
  if (definition.firmware !== 'uefi') return [];
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${uefiVarsPath(definition.name).replace(/,/g, ',,')}`,
  ];
}

/**
 * Shell run before QEMU starts: the VM's variable store is created from the template the first
 * time. A live migration's destination gets one too; QEMU then writes the migrated variables
 * into it.
 */
export function prepareFirmwareScript(definition: VmDefinition): string | null {
  if (definition.firmware !== 'uefi') return null;
  const vars = uefiVarsPath(definition.name);
  return `[ -f ${shellQuote(vars)} ] || { ${shellCommand(['mkdir', '-p', '-m', '0700', posix.dirname(vars)])} && ${shellCommand(['cp', '--', OVMF_VARS_TEMPLATE, vars])}; }`;
}

/** UEFI needs OVMF on the host; said before anything is written or started. */
export async function requireFirmware(transport: HostTransport, firmware: VmDefinition['firmware']): Promise<void> {
  if (firmware !== 'uefi') return;
  if ((await transport.exec(shellCommand(['test', '-r', OVMF_CODE, '-a', '-r', OVMF_VARS_TEMPLATE]))).code !== 0) {
    throw new FerryError('unsupported', `${transport.label} has no UEFI firmware (${OVMF_CODE})`, {
      hint: 'Install OVMF there (Debian and Ubuntu: `apt install ovmf`), or use BIOS firmware.',
    });
  }
}
