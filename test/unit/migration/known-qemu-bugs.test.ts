import { describe, expect, it } from 'vitest';
import { tcgLostWritesRisk } from '../../../src-main/core/migration/known-qemu-bugs.js';

describe('tcgLostWritesRisk', () => {
  it('is the QEMUs before 9.0 that run the guest under TCG', () => {
    expect(tcgLostWritesRisk('7.2.22', 'tcg', true)).toBe(true);
    expect(tcgLostWritesRisk('8.2.2', 'auto', false)).toBe(true);
    expect(tcgLostWritesRisk('9.0.0', 'tcg', false)).toBe(false);
    expect(tcgLostWritesRisk('10.0.2', 'tcg', false)).toBe(false);
  });

  it('spares guests under KVM, where TCG code is not used', () => {
    expect(tcgLostWritesRisk('7.2.22', 'kvm', true)).toBe(false);
    expect(tcgLostWritesRisk('7.2.22', 'auto', true)).toBe(false);
  });
});
