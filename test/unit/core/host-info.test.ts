import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMachineTypes } from '../../../src-main/core/host/info.js';

// Captured verbatim from `qemu-system-x86_64 -machine help` of QEMU 7.2 (Debian 12), the lab's QEMU.
const help = readFileSync(new URL('./fixtures/qemu-7.2-machine-help.txt', import.meta.url), 'utf8').split('\n');

describe('parseMachineTypes on real QEMU 7.2 output', () => {
  const parsed = parseMachineTypes(help);

  it('takes the versioned type behind the q35 alias as the default', () => {
    expect(parsed.defaultType).toBe('pc-q35-7.2');
  });

  it('lists versioned types but not the aliases or the header', () => {
    expect(parsed.types).toEqual(expect.arrayContaining(['pc-q35-7.2', 'pc-q35-2.4', 'pc-i440fx-7.2', 'microvm', 'none', 'isapc']));
    expect(parsed.types).not.toContain('q35');
    expect(parsed.types).not.toContain('pc');
    expect(parsed.types).not.toContain('Supported');
    // Every non-empty line but the header and the two aliases is a type.
    expect(parsed.types).toHaveLength(help.filter((line) => line.trim() !== '').length - 3);
  });

  it('falls back to the (default) type when there is no q35, then to the first type', () => {
    const withoutQ35 = help.filter((line) => !line.startsWith('q35 '));
    expect(parseMachineTypes(withoutQ35).defaultType).toBe('pc-i440fx-7.2');
    expect(parseMachineTypes(['Supported machines are:', 'microvm              microvm (i386)']).defaultType).toBe('microvm');
    expect(parseMachineTypes([]).defaultType).toBe('q35');
  });
});
