import { describe, expect, it } from 'vitest';
import { QmpClient, QmpSchema, QemuCapabilities, probeQemu } from '../../../src-main/core/qmp/index.js';
import { FakeQmpServer } from './fake-qmp-server.js';

/** A trimmed query-qmp-schema in QEMU 7.2's shape: type names are masked as numbers. */
const SCHEMA: unknown[] = [
  { name: 'migrate', 'meta-type': 'command', 'arg-type': '150', 'ret-type': '0' },
  { name: 'migrate-set-capabilities', 'meta-type': 'command', 'arg-type': '141', 'ret-type': '0' },
  { name: 'query-status', 'meta-type': 'command', 'arg-type': '0', 'ret-type': '200' },
  { name: 'block-export-add', 'meta-type': 'command', 'arg-type': '81', 'ret-type': '0' },
  { name: 'MIGRATION', 'meta-type': 'event', 'arg-type': '146' },
  { name: '0', 'meta-type': 'object', members: [] },
  {
    name: '150',
    'meta-type': 'object',
    members: [
      { name: 'uri', type: 'str' },
      { name: 'blk', type: 'bool', default: null },
    ],
  },
  { name: '141', 'meta-type': 'object', members: [{ name: 'capabilities', type: '[142]' }] },
  { name: '[142]', 'meta-type': 'array', 'element-type': '142' },
  { name: '142', 'meta-type': 'object', members: [{ name: 'capability', type: '407' }, { name: 'state', type: 'bool' }] },
  { name: '407', 'meta-type': 'enum', values: ['events', 'block', 'return-path'], members: [{ name: 'events' }, { name: 'block' }, { name: 'return-path' }] },
  { name: '146', 'meta-type': 'object', members: [{ name: 'status', type: '402' }] },
  { name: '402', 'meta-type': 'enum', members: [{ name: 'active' }, { name: 'completed' }] },
  { name: '200', 'meta-type': 'object', members: [{ name: 'status', type: '201' }] },
  { name: '201', 'meta-type': 'enum', values: ['prelaunch', 'running'] },
  {
    name: '81',
    'meta-type': 'object',
    tag: 'type',
    members: [{ name: 'type', type: '338' }, { name: 'id', type: 'str' }],
    variants: [{ case: 'nbd', type: '339' }],
  },
  { name: '338', 'meta-type': 'enum', values: ['nbd'] },
  { name: '339', 'meta-type': 'object', members: [{ name: 'name', type: '334', default: null }] },
  { name: '334', 'meta-type': 'alternate', members: [{ type: 'str' }, { type: 'null' }] },
  { name: 'str', 'meta-type': 'builtin', 'json-type': 'string' },
  // Malformed and future entries are skipped.
  { name: 'x-future', 'meta-type': 'hologram' },
  'junk',
  { 'meta-type': 'command' },
];

const VERSION = { major: 7, minor: 2, micro: 22, package: 'Debian' };

describe('QemuCapabilities', () => {
  const caps = new QemuCapabilities(VERSION, new QmpSchema(SCHEMA));

  it('lists commands and events, skipping malformed entries', () => {
    expect([...caps.commands].sort()).toEqual(['block-export-add', 'migrate', 'migrate-set-capabilities', 'query-status']);
    expect([...caps.events]).toEqual(['MIGRATION']);
    expect(caps.hasCommand('migrate')).toBe(true);
    expect(caps.hasCommand('blockdev-mirror')).toBe(false);
  });

  it('resolves argument names through the masked arg-type, including union branches', () => {
    expect(caps.commandArgs('migrate')).toEqual(new Set(['uri', 'blk']));
    expect(caps.commandHasArg('migrate', 'blk')).toBe(true);
    expect(caps.commandArgs('block-export-add')).toEqual(new Set(['type', 'id']));
    expect(caps.commandArgs('block-export-add', 'nbd')).toEqual(new Set(['type', 'id', 'name']));
    expect(caps.commandArgs('missing')).toEqual(new Set());
    expect(caps.eventData('MIGRATION')).toEqual(new Set(['status']));
    expect(caps.commandReturns('query-status')).toEqual(new Set(['status']));
  });

  it('finds well-known enums through arrays, from `values` or `members`', () => {
    expect(caps.enumValues('MigrationCapability')).toEqual(new Set(['events', 'block', 'return-path']));
    expect(caps.enumValues('MigrationStatus')).toEqual(new Set(['active', 'completed']));
    expect(caps.enumValues('RunState')).toEqual(new Set(['prelaunch', 'running']));
    expect(caps.enumValues('BlockExportType')).toEqual(new Set(['nbd']));
    expect(caps.enumValues('MirrorSyncMode')).toEqual(new Set());
    expect(caps.enumValues('407')).toEqual(new Set(['events', 'block', 'return-path']));
    expect(caps.enumValuesAt({ command: 'migrate-set-capabilities' }, ['capabilities', 'nope'])).toEqual(new Set());
  });

  it('compares versions', () => {
    expect(caps.atLeast(7, 2)).toBe(true);
    expect(caps.atLeast(7, 2, 23)).toBe(false);
    expect(caps.atLeast(9, 1)).toBe(false);
    expect(caps.atLeast(6)).toBe(true);
  });

  it('probeQemu runs query-version and query-qmp-schema over the client', async () => {
    const server = new FakeQmpServer();
    server.handler = (c) => {
      if (c.execute === 'query-version') return { return: { qemu: { major: 7, minor: 2, micro: 22 }, package: ' Debian ' }, id: c.id };
      if (c.execute === 'query-qmp-schema') return { return: SCHEMA, id: c.id };
      return { error: { class: 'CommandNotFound', desc: 'no' }, id: c.id };
    };
    const connecting = QmpClient.connect(server.client, { timeoutMs: 1_000 });
    server.greet();
    const client = await connecting;
    const probed = await probeQemu(client);
    expect(probed.version).toEqual(VERSION);
    expect(probed.enumValues('MigrationCapability').has('block')).toBe(true);
    await client.close();
  });

  it('probeQemu with a cache scope asks for the schema once per QEMU build and scope', async () => {
    const asked: string[] = [];
    let micro = 22;
    const open = async () => {
      const server = new FakeQmpServer();
      server.handler = (c) => {
        asked.push(c.execute);
        if (c.execute === 'query-version') return { return: { qemu: { major: 7, minor: 2, micro }, package: ' Debian ' }, id: c.id };
        if (c.execute === 'query-qmp-schema') return { return: SCHEMA, id: c.id };
        return { error: { class: 'CommandNotFound', desc: 'no' }, id: c.id };
      };
      const connecting = QmpClient.connect(server.client, { timeoutMs: 1_000 });
      server.greet();
      return connecting;
    };
    const probe = async (scope: string) => {
      const client = await open();
      try {
        return await probeQemu(client, { cacheScope: scope });
      } finally {
        await client.close();
      }
    };
    const scope = `unit-cache-${Math.random()}`;
    expect((await probe(scope)).enumValues('MigrationCapability').has('block')).toBe(true);
    const again = await probe(scope);
    expect(again.version).toEqual(VERSION);
    expect(again.enumValues('MigrationCapability').has('block')).toBe(true);
    expect(asked.filter((command) => command === 'query-qmp-schema')).toHaveLength(1);
    // Another host, or the same host after a QEMU upgrade, is probed afresh.
    await probe(`${scope}-other-host`);
    micro = 23;
    expect((await probe(scope)).version.micro).toBe(23);
    expect(asked.filter((command) => command === 'query-qmp-schema')).toHaveLength(3);
    expect(asked.filter((command) => command === 'query-version')).toHaveLength(4);
  });

  it('probeQemu rejects a malformed query-version with qmp-protocol', async () => {
    const server = new FakeQmpServer();
    server.handler = (c) => ({ return: c.execute === 'query-version' ? { qemu: 'seven' } : [], id: c.id });
    const connecting = QmpClient.connect(server.client, { timeoutMs: 1_000 });
    server.greet();
    const client = await connecting;
    await expect(probeQemu(client)).rejects.toMatchObject({ code: 'qmp-protocol' });
    await client.close();
  });
});
