import { describe, expect, it } from 'vitest';
import type { HostInventory } from '../../../src-main/core/api/types.js';
import { FerryError } from '../../../src-main/core/errors.js';
import { Inventory } from '../../../src-main/core/inventory/inventory.js';

// The transport below the inventory is faked: every read fails as a dropped host would.
function inventory(connected: string[]) {
  const published: Array<[string, HostInventory | null]> = [];
  let reads = 0;
  const subject = new Inventory({
    transport: async () => {
      reads += 1;
      throw new FerryError('connection-lost', 'the host went away');
    },
    connectedHosts: () => connected,
    publish: (host, value) => published.push([host, value]),
    intervals: { vmsMs: 20, poolsMs: 20, volumesMs: 20 },
  });
  return { subject, published, reads: () => reads };
}

describe('Inventory', () => {
  it('reads nothing until a front end subscribes (a CLI command costs the hosts nothing)', async () => {
    const { subject, reads } = inventory(['a']);
    subject.hostState('a', true);
    expect(await subject.refresh('a')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reads()).toBe(0);
    subject.close();
  });

  it('keeps lists null (loading) and reports the error when a read fails', async () => {
    const { subject, published } = inventory(['a']);
    const first = subject.subscribe();
    expect(first).toEqual([{ host: 'a', vms: null, pools: null, volumes: {}, error: null, refreshedAt: null }]);
    const after = await subject.refresh('a');
    expect(after?.vms).toBeNull();
    expect(after?.error).toEqual({ code: 'connection-lost', message: 'the host went away' });
    expect(published.some(([host, value]) => host === 'a' && value?.error?.code === 'connection-lost')).toBe(true);
    subject.close();
  });

  it('says a host is no longer watched (null) when its connection goes', () => {
    const { subject, published } = inventory(['a']);
    subject.subscribe();
    subject.hostState('a', false);
    expect(published.at(-1)).toEqual(['a', null]);
    subject.close();
  });
});
