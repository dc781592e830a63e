import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStateFromLibvirtCode, runStateFromLibvirtText } from '../../../src-main/core/libvirt/domain-state.js';
import { parseColonTable, parseDomblkinfo, summariesFromDomstats } from '../../../src-main/core/libvirt/domains.js';

describe('libvirt domain states in Ferry\'s words', () => {
  it('maps virsh domstate text, with or without a reason', () => {
    const cases: Array<[string, string]> = [
      ['running', 'running'],
      ['running (booted)', 'running'],
      ['idle', 'running'],
      ['blocked', 'running'],
      ['paused (user)', 'paused'],
      ['in shutdown', 'shutting-down'],
      ['shut off (destroyed)', 'shutoff'],
      ['shut off', 'shutoff'],
      ['crashed (panicked)', 'crashed'],
      ['pmsuspended', 'suspended'],
      ['no state', 'unknown'],
      ['something new', 'unknown'],
    ];
    for (const [text, state] of cases) expect(runStateFromLibvirtText(`${text}\n`), text).toBe(state);
  });

  it('maps domstats state codes (virDomainState) 0-7 and anything beyond to unknown', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, -1].map(runStateFromLibvirtCode)).toEqual(['unknown', 'running', 'running', 'paused', 'shutting-down', 'shutoff', 'crashed', 'suspended', 'unknown', 'unknown']);
  });

  it('lists every domain of one `virsh domstats --raw --state --vcpu --balloon` with state, memory and vCPUs', () => {
    const output = readFileSync(join(import.meta.dirname, 'fixtures', 'domstats-two-domains.txt'), 'utf8');
    expect(summariesFromDomstats('a', output)).toEqual([
      { name: 'lv-core-fix1', host: 'a', state: 'running', memoryMiB: 128, vcpus: 1, defined: true, managedBy: 'libvirt' },
      { name: 'lv-core-fix2', host: 'a', state: 'shutoff', memoryMiB: 256, vcpus: 2, defined: true, managedBy: 'libvirt' },
    ]);
    expect(summariesFromDomstats('a', '')).toEqual([]);
  });

  it('reads dominfo and pool-info tables and domblkinfo sizes', () => {
    const table = parseColonTable('Id:             1\nName:           lv-core-fix1\nPersistent:     yes\nAutostart:      disable\n');
    expect([table.get('Persistent'), table.get('Autostart'), table.get('Name')]).toEqual(['yes', 'disable', 'lv-core-fix1']);
    const sizes = parseDomblkinfo(' vda   67108864   200704   196616\n sda   -   -   -\n');
    expect(sizes.get('vda')).toEqual({ capacity: 67108864, allocation: 200704 });
    expect(sizes.get('sda')).toEqual({ capacity: null, allocation: null });
  });
});
