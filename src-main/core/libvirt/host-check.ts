import type { HostCheckItem } from '../api/types.js';
import { FerryError, toFerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import { runVirsh } from './virsh.js';

const VIRSH_HINT = 'Install it: apt install libvirt-clients libvirt-daemon-system (Debian/Ubuntu), then systemctl enable --now libvirtd.';

/** The libvirt requirements of a libvirt host: virsh is there, and the system libvirtd answers it. */
export async function libvirtCheckItems(transport: HostTransport): Promise<HostCheckItem[]> {
  const found = await transport.exec('command -v virsh');
  const path = found.stdout.trim();
  if (found.code !== 0 || path === '') {
    return [
      { check: 'virsh', level: 'error', message: 'virsh is not installed; Ferry reaches libvirtd with it', hint: VIRSH_HINT },
      { check: 'libvirtd', level: 'error', message: 'libvirtd cannot be asked without virsh', hint: VIRSH_HINT },
    ];
  }
  const virsh: HostCheckItem = { check: 'virsh', level: 'ok', message: `virsh (${path})` };
  try {
    const version = await runVirsh(transport, ['version'], { timeoutMs: 30_000 });
    const hypervisor = /Running hypervisor:\s*(.+)/.exec(version)?.[1]?.trim();
    const library = /Using library:\s*(.+)/.exec(version)?.[1]?.trim();
    return [virsh, { check: 'libvirtd', level: 'ok', message: `libvirtd answers on qemu:///system (${[library, hypervisor].filter(Boolean).join(', ') || 'version not reported'})` }];
  } catch (error) {
    const failure = toFerryError(error);
    return [virsh, { check: 'libvirtd', level: 'error', message: `libvirtd does not answer on qemu:///system: ${failure.message}`, hint: failure.hint ?? 'Start it: systemctl start libvirtd.' }];
  }
}

/** Refuses a libvirt host whose virsh or libvirtd is missing, saying what to install or start. */
export async function assertLibvirtAnswers(hostName: string, transport: HostTransport): Promise<void> {
  const failed = (await libvirtCheckItems(transport)).find((item) => item.level === 'error');
  if (!failed) return;
  throw new FerryError(failed.check === 'virsh' ? 'unsupported' : 'connection-failed', `${hostName} is not usable as a libvirt host: ${failed.message}`, failed.hint === undefined ? {} : { hint: failed.hint });
}
