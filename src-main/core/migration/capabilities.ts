import { DEFAULT_DOWNTIME_LIMIT_MS } from '../api/contract.js';
import { FerryError } from '../errors.js';
import { probeQemu, type QmpClient } from '../qmp/index.js';
import type { MigrationOptions } from './run-context.js';

export type Side = 'source' | 'destination';

const MANAGED_CAPABILITIES = ['events', 'return-path', 'pause-before-switchover', 'late-block-activate', 'postcopy-ram', 'multifd', 'auto-converge'];

/** Capabilities Ferry always wants, per side, before the user's choices are added. */
export function wantedCapabilities(side: Side, options: MigrationOptions, blockCopy: boolean): string[] {
  // Without return-path the source can report success while the destination died.
  const wanted = ['events', 'return-path'];
  if (side === 'source' && blockCopy) wanted.push('pause-before-switchover');
  if (side === 'destination') wanted.push('late-block-activate');
  if (options.postcopy) wanted.push('postcopy-ram');
  if (options.multifd !== undefined) wanted.push('multifd');
  if (side === 'source' && options.autoConverge) wanted.push('auto-converge');
  return wanted;
}

/** Sets capabilities this QEMU knows; a wanted one it lacks is an error only if the user asked for it. */
export async function applyCapabilities(qmp: QmpClient, side: Side, options: MigrationOptions, blockCopy: boolean, hostLabel: string): Promise<void> {
  const schema = await probeQemu(qmp, { cacheScope: hostLabel });
  const known = schema.enumValues('MigrationCapability') ?? new Set<string>();
  const wanted = wantedCapabilities(side, options, blockCopy);
  const missing = wanted.filter((capability) => !known.has(capability));
  const essential = missing.filter((capability) => ['postcopy-ram', 'multifd', 'auto-converge', 'pause-before-switchover'].includes(capability));
  if (essential.length > 0) {
    throw new FerryError('unsupported', `QEMU on the ${side} lacks migration capabilities: ${essential.join(', ')}`, { hint: 'Turn those options off or upgrade QEMU on that host.' });
  }
  // Capabilities stay set in a QEMU that once received a migration; a VM moved back must not
  // carry the last migration's choices, so every one Ferry manages is set either way.
  const capabilities = MANAGED_CAPABILITIES.filter((capability) => known.has(capability)).map((capability) => ({ capability, state: wanted.includes(capability) }));
  await qmp.execute('migrate-set-capabilities', { capabilities });
}

/** How hard auto-converge throttles the guest's vCPUs: first step and each further step, in %. */
export const AUTO_CONVERGE_THROTTLE = { 'cpu-throttle-initial': 40, 'cpu-throttle-increment': 20 } as const;

/** Parameters both sides must agree on, plus the source's speed settings. */
export function migrationParameters(side: Side, options: MigrationOptions, tlsCredsId: string | null): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  if (options.multifd !== undefined) parameters['multifd-channels'] = options.multifd;
  // An empty id turns TLS off; a QEMU that received a TLS migration keeps the old one otherwise.
  parameters['tls-creds'] = tlsCredsId ?? '';
  if (side === 'source') {
    // QEMU's default is 128 MiB/s, far below modern links; 0 means no limit.
    parameters['max-bandwidth'] = options.bandwidthMiBps === undefined ? 0 : Math.round(options.bandwidthMiBps * 1024 * 1024);
    // A bandwidth limit is the user's limit for the whole move: QEMU's postcopy phase has its own
    // (unlimited by default), which would otherwise ignore it.
    if (options.postcopy) parameters['max-postcopy-bandwidth'] = options.bandwidthMiBps === undefined ? 0 : Math.round(options.bandwidthMiBps * 1024 * 1024);
    // Always set: a QEMU that migrated before keeps the last limit it was given.
    parameters['downtime-limit'] = options.downtimeMs ?? DEFAULT_DOWNTIME_LIMIT_MS;
    // QEMU's 20 % start and 10 % steps took over 90 s to catch a guest rewriting 96 MiB on a
    // 16 MiB/s link in the benchmark; 40 % and 20 % steps caught it in about a minute.
    if (options.autoConverge) Object.assign(parameters, AUTO_CONVERGE_THROTTLE);
  }
  return parameters;
}

export async function applyParameters(qmp: QmpClient, side: Side, options: MigrationOptions, tlsCredsId: string | null): Promise<void> {
  const parameters = migrationParameters(side, options, tlsCredsId);
  if (Object.keys(parameters).length > 0) await qmp.execute('migrate-set-parameters', parameters);
}
