import type { HostSummary } from '../../../src-main/core/api/types';
import type { HypervisorKind } from '../util/hypervisor';

/** Why a host cannot take a VM from a source of this kind (null: it can). Ferry moves VMs only between hosts of one kind. */
export function destinationRefusal(sourceKind: HypervisorKind, destination: HostSummary): string | null {
  const kind = destination.hypervisor ?? 'ferry';
  if (kind === sourceKind) return null;
  return sourceKind === 'libvirt' ? 'Ferry-managed, and a libvirt domain moves only to a libvirt host' : 'a libvirt host, and a Ferry VM moves only to a Ferry-managed host';
}

/** The plain statement of who runs a libvirt domain's migration and what follows from it. */
export function libvirtInChargeText(source: string): string {
  return (
    `This domain is migrated by libvirt: the libvirtd on ${source} stays in charge of the move. ` +
    'Ferry starts it, shows libvirt’s job statistics, and passes on tuning and cancel; if Ferry stops, libvirt finishes or aborts the move on its own.'
  );
}
