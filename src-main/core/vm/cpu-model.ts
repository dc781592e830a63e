import type { VmDefinition } from '../api/types.js';
import { DEFAULT_CPU_MODEL, HOST_PASSTHROUGH_CPU } from '../api/vm-hardware.js';
import { FerryError } from '../errors.js';

/** QEMU has no "host" CPU under TCG: refused when the VM is defined or edited, not when it starts. */
export function requireCpuModelRuns(cpuModel: string, accel: VmDefinition['accel'], kvmUsable: boolean, hostName: string): void {
  if (cpuModel !== HOST_PASSTHROUGH_CPU) return;
  if (accel === 'tcg' || !kvmUsable) {
    throw new FerryError('unsupported', `The host CPU model (passthrough) needs KVM, and ${accel === 'tcg' ? 'this VM is set to TCG' : `${hostName} cannot use KVM`}`, {
      hint: `Use the named model ${DEFAULT_CPU_MODEL}, which runs with and without KVM${accel === 'tcg' ? ', or set acceleration to kvm or auto' : ''}.`,
    });
  }
}
