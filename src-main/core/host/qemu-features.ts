import type { QemuFeatures } from '../api/types.js';
import { QemuCapabilities } from '../qmp/capabilities.js';
import { QmpSchema } from '../qmp/schema.js';

/**
 * Shell: a throwaway QEMU (no machine, no devices) answers query-version and query-qmp-schema on
 * stdin/stdout and quits. What a host's QEMU allows is read from its schema, never from its version
 * number: distributions backport, and upstream removes (the `block` capability went in 9.1).
 */
export function schemaProbeScript(qemuBinary: string): string {
  const requests = ['{"execute":"qmp_capabilities"}', '{"execute":"query-version"}', '{"execute":"query-qmp-schema"}', '{"execute":"quit"}'];
  const timeout = 'command -v timeout >/dev/null 2>&1 && t="timeout 20" || t=';
  return `${timeout}; printf '%s\\n' ${requests.map((request) => `'${request}'`).join(' ')} | $t ${qemuBinary} -machine none -nodefaults -display none -qmp stdio 2>/dev/null`;
}

/** The answers of schemaProbeScript, one JSON object a line; null when QEMU did not give both. */
export function parseQemuFeatures(lines: readonly string[]): QemuFeatures | null {
  let version: { major: number; minor: number; micro: number } | undefined;
  let schema: QmpSchema | undefined;
  for (const line of lines) {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      continue;
    }
    const answer = (message as { return?: unknown }).return;
    if (Array.isArray(answer)) schema = new QmpSchema(answer);
    const qemu = (answer as { qemu?: { major?: unknown; minor?: unknown; micro?: unknown } } | undefined)?.qemu;
    if (typeof qemu?.major === 'number' && typeof qemu.minor === 'number' && typeof qemu.micro === 'number') version = { major: qemu.major, minor: qemu.minor, micro: qemu.micro };
  }
  if (version === undefined || schema === undefined) return null;
  const capabilities = new QemuCapabilities({ ...version, package: '' }, schema);
  const migrationCapabilities = capabilities.enumValues('MigrationCapability');
  return {
    postcopy: migrationCapabilities.has('postcopy-ram'),
    multifd: migrationCapabilities.has('multifd'),
    tls: capabilities.commandHasArg('migrate-set-parameters', 'tls-creds'),
    blockExport: capabilities.hasCommand('block-export-add'),
    blockMigrationCapability: migrationCapabilities.has('block'),
  };
}
