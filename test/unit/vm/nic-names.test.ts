import { describe, expect, it } from 'vitest';
import { tapDeviceName } from '../../../src-main/core/vm/nic-names.js';

describe('tapDeviceName', () => {
  it('fits the 15-byte interface name limit and is stable per VM and NIC', () => {
    const name = tapDeviceName('a-very-long-virtual-machine-name-indeed', 3);
    expect(name.length).toBeLessThanOrEqual(15);
    expect(name).toMatch(/^fy[0-9a-f]{10}[0-9a-z]$/);
    expect(tapDeviceName('a-very-long-virtual-machine-name-indeed', 3)).toBe(name);
  });

  it('differs between VMs and between NICs of one VM', () => {
    const names = new Set([tapDeviceName('web1', 0), tapDeviceName('web1', 1), tapDeviceName('web2', 0)]);
    expect(names.size).toBe(3);
  });
});
