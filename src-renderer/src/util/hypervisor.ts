import type { HostSummary } from '../../../src-main/core/api/types';

export type HypervisorKind = HostSummary['hypervisor'];

/** The host's kind in one word, for the tree beside the host's name. */
export function hypervisorLabel(kind: HypervisorKind): string {
  return kind === 'libvirt' ? 'libvirt' : 'Ferry';
}

/** What the kind means for the user, in one sentence. */
export function hypervisorMeaning(kind: HypervisorKind): string {
  return kind === 'libvirt'
    ? 'libvirt host: libvirtd on the host runs its domains; Ferry reaches it with virsh over this SSH connection.'
    : 'Ferry-managed QEMU/KVM: Ferry starts and watches this host’s QEMU processes itself.';
}

/** Why an action Ferry leaves to libvirt is not offered, with the tool to use instead. */
export const LIBVIRT_INSTEAD = {
  newVm: 'libvirt host: define domains with virsh define or virt-manager on the host.',
  hardware: 'libvirt keeps this domain’s hardware: change it with virsh edit or virt-manager on the host.',
  console: 'Ferry opens no console for a libvirt domain: use virsh console (serial) or virt-viewer (display).',
  performance: 'Per-VM counters cover only Ferry’s own QEMU processes, not libvirt domains.',
  pools: 'libvirt manages these pools: define, start, stop and delete them with virsh pool-* or virt-manager.',
  deleteVolume: 'Delete libvirt volumes with virsh vol-delete on the host.',
} as const;
