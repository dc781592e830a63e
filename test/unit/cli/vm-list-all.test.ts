import { describe, expect, it } from 'vitest';
import { describeHostVms } from '../../../src-main/cli/commands/vm-list-all.js';

describe('ferry vm list across hosts', () => {
  it('puts every host in one table, and an unreachable host on a line of its own', () => {
    const text = describeHostVms([
      { host: 'a', vms: [{ name: 'web', host: 'a', state: 'running', memoryMiB: 512, vcpus: 2, defined: true }] },
      { host: 'b', vms: [] },
      { host: 'c', error: { code: 'unreachable', message: 'Could not connect to 192.0.2.1:22' } },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^HOST +NAME +STATE +MEMORY +VCPUS +NOTE$/);
    expect(lines[1]).toMatch(/^a +web +running +512 MiB +2$/);
    expect(lines[2]).toMatch(/^b +- +no VMs/);
    expect(lines[3]).toMatch(/^c +- +unreachable +- +- +Could not connect to 192\.0\.2\.1:22$/);
  });

  it('says how to add a host when there is none', () => {
    expect(describeHostVms([])).toContain('ferry host add');
  });
});
