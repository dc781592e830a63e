import { describe, expect, it } from 'vitest';
import { parseJobInfo } from '../../bench/baselines/libvirt.js';

// As libvirt 9.0's `virsh domjobinfo --completed` printed it on the source of a lab block migration.
const COMPLETED = `Job type:         Completed
Operation:        Outgoing migration
Time elapsed:     3212         ms
Time elapsed w/o network: 3211         ms
Data processed:   1.090 GiB
Memory processed: 91.790 MiB
Memory remaining: 0.000 B
Iteration:        3
File processed:   1.000 GiB
Total downtime:   146          ms
Setup time:       1            ms
`;

describe('parseJobInfo', () => {
  const job = parseJobInfo(COMPLETED);

  it('reads times by their exact key, not a longer one that starts the same', () => {
    expect(job.number('Time elapsed')).toBe(3212);
    expect(job.number('Time elapsed w/o network')).toBe(3211);
    expect(job.number('Total downtime')).toBe(146);
    expect(job.number('Setup time')).toBe(1);
    expect(job.number('Iteration')).toBe(3);
  });

  it('turns binary units into bytes', () => {
    expect(job.bytes('File processed')).toBe(2 ** 30);
    expect(job.bytes('Memory processed')).toBe(Math.round(91.79 * 2 ** 20));
    expect(job.bytes('Memory remaining')).toBe(0);
  });

  it('gives null for what libvirt did not print or for a value without a size unit', () => {
    expect(job.number('Postcopy requests')).toBeNull();
    expect(job.bytes('Total downtime')).toBeNull();
    expect(job.bytes('Job type')).toBeNull();
  });
});
