import type { VmDefinition } from '../api/types.js';

/**
 * QEMU before 9.0 under TCG can lose guest memory writes during a live migration: the dirty bitmap
 * sync skipped bringing the TCG TLB up to date (fixed by QEMU commit 03bfc2188f, "physmem: Fix
 * migration dirty bitmap coherency with TCG memory access", in 9.0; Debian 12's 7.2 does not have
 * it). The destination then runs with a few stale pages and the guest may crash right after the
 * switch-over. Ferry's lab measured it: page-by-page comparisons of guest memory at the switch-over
 * differed on 7.2 sources and never on 10.0 (test/bench/guest-crash-experiment.ts). A bug is not a
 * feature the QMP schema can show, so this one is told by the version.
 */
export const TCG_LOST_WRITES_FIXED_IN = { major: 9, minor: 0 } as const;

/** Whether a live or block move of this VM from a QEMU of `sourceQemuVersion` risks that bug. */
export function tcgLostWritesRisk(sourceQemuVersion: string, accel: VmDefinition['accel'], sourceKvmUsable: boolean): boolean {
  const runsTcg = accel === 'tcg' || (accel === 'auto' && !sourceKvmUsable);
  const [major = 0, minor = 0] = sourceQemuVersion.split('.').map(Number);
  const fixed = major > TCG_LOST_WRITES_FIXED_IN.major || (major === TCG_LOST_WRITES_FIXED_IN.major && minor >= TCG_LOST_WRITES_FIXED_IN.minor);
  return runsTcg && !fixed;
}
