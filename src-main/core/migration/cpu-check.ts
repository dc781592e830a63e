import type { HostInfo, PreflightItem, VmDefinition } from '../api/types.js';
import { DEFAULT_CPU_MODEL, HOST_PASSTHROUGH_CPU } from '../api/vm-hardware.js';

/**
 * Host passthrough gives the guest the source host's exact CPU, and a guest that found a CPU
 * feature at boot crashes when the destination lacks it. Ferry sees each host's CPU model name,
 * not its feature flags, so it asks for the same model name on both hosts and KVM on the
 * destination (QEMU has no "host" CPU without it). Named models need nothing here.
 */
export function cpuModelCheck(definition: VmDefinition, source: HostInfo, destination: HostInfo, hosts: { from: string; to: string }): PreflightItem[] {
  if (definition.cpuModel !== HOST_PASSTHROUGH_CPU) return [];
  const fallback = `Migrate only between hosts with the same CPU, or give the VM the named CPU model ${DEFAULT_CPU_MODEL} while it is off (Edit).`;
  if (!destination.kvmUsable) {
    return [{ level: 'error', check: 'cpu', message: `${definition.name} uses host passthrough, which needs KVM, and ${hosts.to} cannot use KVM.`, hint: fallback }];
  }
  if (source.cpuModel.trim() !== destination.cpuModel.trim()) {
    return [{ level: 'error', check: 'cpu', message: `${definition.name} uses host passthrough; ${hosts.from} has "${source.cpuModel}" and ${hosts.to} has "${destination.cpuModel}".`, hint: fallback }];
  }
  return [{ level: 'ok', check: 'cpu', message: `Both hosts have "${destination.cpuModel}", so host passthrough can migrate.` }];
}
