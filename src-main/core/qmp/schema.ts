/**
 * A navigable view of `query-qmp-schema` (qapi/introspect.json). QEMU hides the names of all
 * non-builtin types behind numbers ("150", "[142]"), so types can only be reached from a command,
 * an event or another type's member — never by their QAPI name.
 */
import { isRecord } from './messages.js';

export interface SchemaMember {
  name: string;
  type: string;
  optional: boolean;
}

export type SchemaEntry =
  | { metaType: 'command'; name: string; argType: string; retType: string; allowOob: boolean }
  | { metaType: 'event'; name: string; argType: string }
  | { metaType: 'object'; name: string; members: SchemaMember[]; variants: { case: string; type: string }[] }
  | { metaType: 'enum'; name: string; values: string[] }
  | { metaType: 'array'; name: string; elementType: string }
  | { metaType: 'alternate'; name: string; types: string[] }
  | { metaType: 'builtin'; name: string; jsonType: string };

/** Where a type is reached from: a command's arguments or return value, or an event's data. */
export type SchemaRoot = { command: string; returns?: boolean } | { event: string };

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function parseMembers(value: unknown): SchemaMember[] {
  if (!Array.isArray(value)) return [];
  const members: SchemaMember[] = [];
  for (const item of value) {
    if (!isRecord(item)) continue;
    const name = str(item.name);
    const type = str(item.type);
    // Optional members are marked by the presence of `default` (always null today).
    if (name !== undefined && type !== undefined) members.push({ name, type, optional: 'default' in item });
  }
  return members;
}

function parseEnumValues(entry: Record<string, unknown>): string[] {
  // `values` is the long-standing field; `members` (6.2+) carries the same names plus features.
  if (Array.isArray(entry.values)) return entry.values.filter((v): v is string => typeof v === 'string');
  if (Array.isArray(entry.members)) {
    return entry.members.flatMap((m) => (isRecord(m) && typeof m.name === 'string' ? [m.name] : []));
  }
  return [];
}

/** Unknown meta-types (from a newer QEMU) and malformed entries are skipped, not fatal. */
export function parseSchemaEntry(value: unknown): SchemaEntry | undefined {
  if (!isRecord(value)) return undefined;
  const name = str(value.name);
  if (name === undefined) return undefined;
  switch (value['meta-type']) {
    case 'command': {
      const argType = str(value['arg-type']);
      const retType = str(value['ret-type']);
      if (argType === undefined || retType === undefined) return undefined;
      return { metaType: 'command', name, argType, retType, allowOob: value['allow-oob'] === true };
    }
    case 'event': {
      const argType = str(value['arg-type']);
      return argType === undefined ? undefined : { metaType: 'event', name, argType };
    }
    case 'object': {
      const variants = Array.isArray(value.variants)
        ? value.variants.flatMap((v) => {
            if (!isRecord(v)) return [];
            const c = str(v.case);
            const t = str(v.type);
            return c === undefined || t === undefined ? [] : [{ case: c, type: t }];
          })
        : [];
      return { metaType: 'object', name, members: parseMembers(value.members), variants };
    }
    case 'enum':
      return { metaType: 'enum', name, values: parseEnumValues(value) };
    case 'array': {
      const elementType = str(value['element-type']);
      return elementType === undefined ? undefined : { metaType: 'array', name, elementType };
    }
    case 'alternate': {
      const types = Array.isArray(value.members)
        ? value.members.flatMap((m) => (isRecord(m) && typeof m.type === 'string' ? [m.type] : []))
        : [];
      return { metaType: 'alternate', name, types };
    }
    case 'builtin': {
      const jsonType = str(value['json-type']);
      return jsonType === undefined ? undefined : { metaType: 'builtin', name, jsonType };
    }
    default:
      return undefined;
  }
}

export class QmpSchema {
  private readonly types = new Map<string, SchemaEntry>();
  private readonly commandEntries = new Map<string, Extract<SchemaEntry, { metaType: 'command' }>>();
  private readonly eventEntries = new Map<string, Extract<SchemaEntry, { metaType: 'event' }>>();

  /** `raw` is the `return` of query-qmp-schema, unvalidated. */
  constructor(raw: unknown) {
    if (!Array.isArray(raw)) return;
    for (const item of raw) {
      const entry = parseSchemaEntry(item);
      if (entry === undefined) continue;
      // Commands, events and types live in separate namespaces in QAPI.
      if (entry.metaType === 'command') this.commandEntries.set(entry.name, entry);
      else if (entry.metaType === 'event') this.eventEntries.set(entry.name, entry);
      else this.types.set(entry.name, entry);
    }
  }

  get commandNames(): string[] {
    return [...this.commandEntries.keys()];
  }

  get eventNames(): string[] {
    return [...this.eventEntries.keys()];
  }

  type(name: string): SchemaEntry | undefined {
    return this.types.get(name);
  }

  command(name: string): Extract<SchemaEntry, { metaType: 'command' }> | undefined {
    return this.commandEntries.get(name);
  }

  event(name: string): Extract<SchemaEntry, { metaType: 'event' }> | undefined {
    return this.eventEntries.get(name);
  }

  /** The type name a root starts at, or undefined if the command/event does not exist. */
  rootType(root: SchemaRoot): string | undefined {
    if ('event' in root) return this.event(root.event)?.argType;
    const command = this.command(root.command);
    return root.returns === true ? command?.retType : command?.argType;
  }

  /**
   * Members of an object type: the common ones, plus those of the union branch `variant` if given.
   * Arrays are looked through, so a command returning a list reports its element's members.
   */
  objectMembers(typeName: string, variant?: string): SchemaMember[] | undefined {
    const entry = this.type(this.unwrapArrays(typeName));
    if (entry?.metaType !== 'object') return undefined;
    if (variant === undefined) return entry.members;
    const branch = entry.variants.find((v) => v.case === variant);
    if (branch === undefined) return entry.members;
    return [...entry.members, ...(this.objectMembers(branch.type) ?? [])];
  }

  /**
   * Follows member names from `typeName` through objects (including every union branch),
   * arrays and alternates; returns the type name reached.
   */
  resolvePath(typeName: string, path: readonly string[]): string | undefined {
    let current = [typeName];
    for (const step of path) {
      const next: string[] = [];
      for (const candidate of current.flatMap((t) => this.expand(t))) {
        const entry = this.type(candidate);
        if (entry?.metaType !== 'object') continue;
        const found = this.allMembers(entry).find((m) => m.name === step);
        if (found !== undefined) next.push(found.type);
      }
      if (next.length === 0) return undefined;
      current = next;
    }
    return current[0];
  }

  /** Enum values of the type at `path` below `typeName`, looking through arrays and alternates. */
  enumValuesAt(typeName: string, path: readonly string[] = []): string[] | undefined {
    const target = this.resolvePath(typeName, path);
    if (target === undefined) return undefined;
    for (const candidate of this.expand(target)) {
      const entry = this.type(candidate);
      if (entry?.metaType === 'enum') return entry.values;
    }
    return undefined;
  }

  private unwrapArrays(typeName: string): string {
    let name = typeName;
    // Bounded: a schema with a cyclic array definition would otherwise spin forever.
    for (let depth = 0; depth < 16; depth++) {
      const entry = this.type(name);
      if (entry?.metaType !== 'array') return name;
      name = entry.elementType;
    }
    return name;
  }

  /** The concrete types a name can stand for: itself, its array element, its alternate branches. */
  private expand(typeName: string): string[] {
    const name = this.unwrapArrays(typeName);
    const entry = this.type(name);
    if (entry?.metaType === 'alternate') return entry.types.map((t) => this.unwrapArrays(t));
    return [name];
  }

  private allMembers(entry: Extract<SchemaEntry, { metaType: 'object' }>): SchemaMember[] {
    const members = [...entry.members];
    const seen = new Set<string>();
    for (const variant of entry.variants) {
      if (seen.has(variant.type)) continue;
      seen.add(variant.type);
      const branch = this.type(variant.type);
      if (branch?.metaType === 'object') members.push(...branch.members);
    }
    return members;
  }
}
