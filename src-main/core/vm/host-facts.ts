import type { VmConfinement, VmDefinition, VmAutostartFacts } from '../api/types.js';
import type { HostTransport } from '../ssh/transport.js';
import { autostartFactsScript, type BootService } from './autostart.js';
import { QEMU_SANDBOX } from './qemu-argv.js';

export interface VmHostFacts {
  confinement: VmConfinement;
  autostart: VmAutostartFacts;
}

/** Shell: the facts below, one "key=value" a line; only builtins and one stat per running VM. */
export function hostFactsScript(name: string, pid: number | undefined): string {
  const lines = [autostartFactsScript(name)];
  if (pid !== undefined) {
    const status = `/proc/${Math.trunc(pid)}/status`;
    lines.push(`sed -n 's/^Seccomp:[[:space:]]*/seccomp=/p' ${status} 2>/dev/null`, `echo "user=$(stat -c %U /proc/${Math.trunc(pid)} 2>/dev/null)"`);
  }
  return lines.join('\n');
}

export function parseHostFacts(output: string, definition: VmDefinition | null, running: boolean): VmHostFacts {
  const values = new Map(output.split('\n').map((line) => line.trim().split('=', 2) as [string, string | undefined]).filter(([key]) => key !== ''));
  const bootService = values.get('boot-service');
  const confinement: VmConfinement = { sandbox: definition && !definition.adopted ? QEMU_SANDBOX : null };
  if (running) {
    // Seccomp 2 is "filter mode": the sandbox is really in force, whatever the command line said.
    confinement.seccompActive = values.get('seccomp') === '2';
    const user = values.get('user');
    if (user) confinement.user = user;
  }
  return {
    confinement,
    autostart: {
      script: values.get('autostart-script') === 'yes',
      bootService: (['systemd-enabled', 'systemd-disabled', 'no-systemd'] as BootService[]).find((known) => known === bootService) ?? 'no-systemd',
    },
  };
}

/** What confines the VM's QEMU and whether the host will start it at boot, read in one round trip. */
export async function readHostFacts(transport: HostTransport, name: string, definition: VmDefinition | null, pid: number | undefined): Promise<VmHostFacts> {
  const result = await transport.exec(hostFactsScript(name, pid));
  return parseHostFacts(result.stdout, definition, pid !== undefined);
}
