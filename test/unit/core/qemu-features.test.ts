import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseQemuFeatures, schemaProbeScript } from '../../../src-main/core/host/qemu-features.js';

/** A trimmed query-qmp-schema (type names masked as numbers, as QEMU does) with these migration capabilities. */
function schemaWith(capabilities: string[], commands: string[]): unknown[] {
  return [
    { name: 'migrate-set-capabilities', 'meta-type': 'command', 'arg-type': '141', 'ret-type': '0' },
    { name: 'migrate-set-parameters', 'meta-type': 'command', 'arg-type': '143', 'ret-type': '0' },
    ...commands.map((name) => ({ name, 'meta-type': 'command', 'arg-type': '0', 'ret-type': '0' })),
    { name: '0', 'meta-type': 'object', members: [] },
    { name: '141', 'meta-type': 'object', members: [{ name: 'capabilities', type: '[142]' }] },
    { name: '[142]', 'meta-type': 'array', 'element-type': '142' },
    { name: '142', 'meta-type': 'object', members: [{ name: 'capability', type: '407' }, { name: 'state', type: 'bool' }] },
    { name: '407', 'meta-type': 'enum', values: capabilities },
    { name: '143', 'meta-type': 'object', members: [{ name: 'tls-creds', type: 'str', default: null }, { name: 'max-bandwidth', type: 'int', default: null }] },
  ];
}

/** What QEMU prints for schemaProbeScript: the greeting, then one answer a line. */
function answers(version: [number, number, number], schema: unknown[]): string[] {
  return [
    JSON.stringify({ QMP: { version: { qemu: { major: version[0], minor: version[1], micro: version[2] }, package: '' }, capabilities: [] } }),
    JSON.stringify({ return: {} }),
    JSON.stringify({ return: { qemu: { major: version[0], minor: version[1], micro: version[2] }, package: 'Debian' } }),
    JSON.stringify({ return: schema }),
    JSON.stringify({ return: {} }),
    JSON.stringify({ timestamp: { seconds: 1, microseconds: 0 }, event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } }),
  ];
}

describe('parseQemuFeatures', () => {
  it('reads a 7.2-like QEMU: everything, including the old block capability', () => {
    expect(parseQemuFeatures(answers([7, 2, 22], schemaWith(['events', 'block', 'postcopy-ram', 'multifd'], ['block-export-add'])))).toEqual({
      postcopy: true,
      multifd: true,
      tls: true,
      blockExport: true,
      blockMigrationCapability: true,
    });
  });

  it('reads a 10.0-like QEMU without the block capability, and judges by the schema, not the number', () => {
    expect(parseQemuFeatures(answers([10, 0, 2], schemaWith(['events', 'postcopy-ram', 'multifd'], ['block-export-add'])))?.blockMigrationCapability).toBe(false);
    // A "new" version number with an old schema is what its schema says.
    expect(parseQemuFeatures(answers([11, 0, 0], schemaWith(['events'], [])))).toEqual({ postcopy: false, multifd: false, tls: true, blockExport: false, blockMigrationCapability: false });
  });

  it('says nothing rather than guessing when QEMU did not answer', () => {
    expect(parseQemuFeatures([])).toBeNull();
    expect(parseQemuFeatures(['qemu-system-x86_64: -qmp stdio: not allowed', '{"return": {}}'])).toBeNull();
  });
});

describe('schemaProbeScript', () => {
  it('feeds the requests one a line and bounds the run with timeout where there is one', () => {
    // Run it with a stand-in "QEMU" that echoes its stdin, to see exactly what QEMU would read.
    const fake = 'cat; true';
    const script = schemaProbeScript(`sh -c ${JSON.stringify(fake)}`);
    const seen = execFileSync('sh', ['-c', script]).toString().trim().split('\n');
    expect(seen).toEqual(['{"execute":"qmp_capabilities"}', '{"execute":"query-version"}', '{"execute":"query-qmp-schema"}', '{"execute":"quit"}']);
    expect(script).toContain('timeout 20');
  });
});
