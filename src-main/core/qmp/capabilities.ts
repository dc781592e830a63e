/**
 * Feature detection for one QEMU process, from query-version and query-qmp-schema. Migration code
 * asks this object ("does migrate take blk?", "is there block-export-add?") instead of comparing
 * version numbers, because distributions backport and upstream removes things (see the 7.2 vs
 * 9.1 matrix in the migration reference).
 */
import { FerryError } from '../errors.js';
import type { QmpClient } from './client.js';
import { isQmpVersionInfo } from './messages.js';
import { QmpSchema, type SchemaRoot } from './schema.js';

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  /** Distribution build string, e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3"; may be empty. */
  package: string;
}

/**
 * Where QAPI enum types that Ferry cares about can be found: the schema hides type names, so each
 * is located through a command or event that uses it.
 */
export const KNOWN_ENUMS: Readonly<Record<string, { root: SchemaRoot; path: readonly string[] }>> = {
  MigrationCapability: { root: { command: 'migrate-set-capabilities' }, path: ['capabilities', 'capability'] },
  MigrationStatus: { root: { event: 'MIGRATION' }, path: ['status'] },
  RunState: { root: { command: 'query-status', returns: true }, path: ['status'] },
  JobStatus: { root: { command: 'query-block-jobs', returns: true }, path: ['status'] },
  BlockExportType: { root: { command: 'block-export-add' }, path: ['type'] },
  MirrorSyncMode: { root: { command: 'blockdev-mirror' }, path: ['sync'] },
  MirrorCopyMode: { root: { command: 'blockdev-mirror' }, path: ['copy-mode'] },
  MultiFDCompression: { root: { command: 'query-migrate-parameters', returns: true }, path: ['multifd-compression'] },
};

export class QemuCapabilities {
  readonly version: QemuVersion;
  readonly commands: ReadonlySet<string>;
  readonly events: ReadonlySet<string>;
  readonly schema: QmpSchema;

  constructor(version: QemuVersion, schema: QmpSchema) {
    this.version = version;
    this.schema = schema;
    this.commands = new Set(schema.commandNames);
    this.events = new Set(schema.eventNames);
  }

  hasCommand(name: string): boolean {
    return this.commands.has(name);
  }

  hasEvent(name: string): boolean {
    return this.events.has(name);
  }

  /** True if this QEMU is at least major.minor.micro. Prefer the schema checks where one exists. */
  atLeast(major: number, minor = 0, micro = 0): boolean {
    const { version: v } = this;
    if (v.major !== major) return v.major > major;
    if (v.minor !== minor) return v.minor > minor;
    return v.micro >= micro;
  }

  /**
   * Argument names of a command (empty for an unknown command). For a union argument type such as
   * block-export-add, pass `variant` (e.g. 'nbd') to include that branch's arguments too.
   */
  commandArgs(name: string, variant?: string): Set<string> {
    const argType = this.schema.rootType({ command: name });
    if (argType === undefined) return new Set();
    return new Set((this.schema.objectMembers(argType, variant) ?? []).map((m) => m.name));
  }

  commandHasArg(name: string, arg: string, variant?: string): boolean {
    return this.commandArgs(name, variant).has(arg);
  }

  /** Member names of a command's return value (of its elements, if it returns a list). */
  commandReturns(name: string): Set<string> {
    const retType = this.schema.rootType({ command: name, returns: true });
    if (retType === undefined) return new Set();
    return new Set((this.schema.objectMembers(retType) ?? []).map((m) => m.name));
  }

  /** Member names of an event's data. */
  eventData(name: string): Set<string> {
    const argType = this.schema.rootType({ event: name });
    if (argType === undefined) return new Set();
    return new Set((this.schema.objectMembers(argType) ?? []).map((m) => m.name));
  }

  /**
   * Values of an enum by its QAPI name (e.g. 'MigrationCapability'), looked up through
   * KNOWN_ENUMS, or by its schema name; empty if this QEMU has no such enum, so
   * `enumValues('MigrationCapability').has('block')` is a complete feature test.
   */
  enumValues(typeName: string): Set<string> {
    const known = KNOWN_ENUMS[typeName];
    if (known !== undefined) return this.enumValuesAt(known.root, known.path);
    const entry = this.schema.type(typeName);
    return entry?.metaType === 'enum' ? new Set(entry.values) : new Set();
  }

  /**
   * Values of the enum reached from a command's arguments (or return value) or an event's data by
   * following member names, e.g. ({command: 'migrate-set-capabilities'}, ['capabilities', 'capability']);
   * empty if the path leads nowhere.
   */
  enumValuesAt(root: SchemaRoot, path: readonly string[]): Set<string> {
    const start = this.schema.rootType(root);
    if (start === undefined) return new Set();
    return new Set(this.schema.enumValuesAt(start, path) ?? []);
  }
}

export interface ProbeOptions {
  timeoutMs?: number;
  /**
   * Reuses the schema of an earlier probe of the same QEMU build: query-qmp-schema is ~1 MB of
   * JSON and costs a noticeable part of a migration's setup. The key is combined with the version
   * and package string, so give something naming the host (a QEMU build may differ between hosts).
   */
  cacheScope?: string;
}

const schemaCache = new Map<string, QmpSchema>();
const SCHEMA_CACHE_LIMIT = 32;

/** Runs query-version and query-qmp-schema on a negotiated client. */
export async function probeQemu(client: QmpClient, options: ProbeOptions = {}): Promise<QemuCapabilities> {
  const executeOptions = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  if (options.cacheScope !== undefined) {
    const version = await client.execute('query-version', undefined, { ...executeOptions, parse: parseVersion });
    const key = `${options.cacheScope}|${version.major}.${version.minor}.${version.micro}|${version.package}`;
    let schema = schemaCache.get(key);
    if (schema === undefined) {
      schema = await client.execute('query-qmp-schema', undefined, { ...executeOptions, parse: (raw) => new QmpSchema(raw) });
      if (schemaCache.size >= SCHEMA_CACHE_LIMIT) schemaCache.delete(schemaCache.keys().next().value ?? '');
      schemaCache.set(key, schema);
    }
    return new QemuCapabilities(version, schema);
  }
  const [version, schema] = await Promise.all([
    client.execute('query-version', undefined, { ...executeOptions, parse: parseVersion }),
    client.execute('query-qmp-schema', undefined, { ...executeOptions, parse: (raw) => new QmpSchema(raw) }),
  ]);
  return new QemuCapabilities(version, schema);
}

function parseVersion(raw: unknown): QemuVersion {
  if (!isQmpVersionInfo(raw)) {
    throw new FerryError('qmp-protocol', 'query-version returned an unexpected shape', { details: { command: 'query-version' } });
  }
  return { major: raw.qemu.major, minor: raw.qemu.minor, micro: raw.qemu.micro, package: raw.package.trim() };
}
