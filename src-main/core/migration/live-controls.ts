import { DEFAULT_DOWNTIME_LIMIT_MS } from '../api/defaults.js';
import { FerryError } from '../errors.js';
import type { MigrationOptions } from './run-context.js';

/**
 * How far Ferry raises its own default downtime limit for a migration that is not converging:
 * QEMU's default, so Ferry never does worse than a plain QEMU would. Beyond it is the user's call
 * (the not-converging advice says so).
 */
export const RELAXED_DOWNTIME_LIMIT_MS = 300;

/** The one call live controls make on the source QEMU; the runner's monitor connection provides it. */
export interface ParameterSetter {
  repeatable<T>(command: string, args?: Record<string, unknown>): Promise<T>;
}

/**
 * What a user may change while a migration runs (bandwidth, downtime, the switch to postcopy),
 * between the migration's owner and its runner. QEMU serves one monitor client, so changes go
 * through the connection the runner lends here for as long as it talks to the source.
 */
export class LiveControls {
  private source: ParameterSetter | undefined;
  private postcopyWanted = false;
  private defaultDowntimeMs = DEFAULT_DOWNTIME_LIMIT_MS;
  private relaxedAtPass = 0;

  constructor(private readonly options: MigrationOptions) {}

  /** The runner lends its source connection; undefined when it stops talking to the source. */
  lend(source: ParameterSetter | undefined): void {
    this.source = source;
  }

  requestPostcopy(): void {
    if (!this.options.postcopy) throw new FerryError('invalid-input', 'This migration was started without postcopy', { hint: 'Start it with the postcopy option to be able to switch.' });
    this.postcopyWanted = true;
  }

  /** Postcopy starts when the user asks for it, never on its own. */
  get postcopyRequested(): boolean {
    return this.postcopyWanted;
  }

  /**
   * Ferry's 100 ms default keeps pauses short, but a capped or busy link may never get memory
   * under it where QEMU's 300 ms would: while memory is not converging, the default doubles once
   * per pass up to RELAXED_DOWNTIME_LIMIT_MS (as Proxmox raises its limit). A limit the user gave
   * is never touched. Returns the new limit, or null when nothing changed.
   */
  async relaxDefaultDowntime(pass: number): Promise<number | null> {
    if (this.options.downtimeMs !== undefined || pass <= this.relaxedAtPass || this.defaultDowntimeMs >= RELAXED_DOWNTIME_LIMIT_MS || !this.source) return null;
    const next = Math.min(RELAXED_DOWNTIME_LIMIT_MS, this.defaultDowntimeMs * 2);
    await this.source.repeatable('migrate-set-parameters', { 'downtime-limit': next });
    this.defaultDowntimeMs = next;
    this.relaxedAtPass = pass;
    return next;
  }

  async setSpeed(change: { bandwidthMiBps?: number | undefined; downtimeMs?: number | undefined }): Promise<void> {
    const parameters: Record<string, unknown> = {};
    if (change.bandwidthMiBps !== undefined) {
      parameters['max-bandwidth'] = Math.round(change.bandwidthMiBps * 1024 * 1024);
      // The user's limit holds in postcopy too, where QEMU has a limit of its own.
      if (this.options.postcopy) parameters['max-postcopy-bandwidth'] = parameters['max-bandwidth'];
    }
    if (change.downtimeMs !== undefined) parameters['downtime-limit'] = change.downtimeMs;
    if (Object.keys(parameters).length === 0) return;
    if (!this.source) throw new FerryError('busy', 'The migration is not at a stage where its speed can be changed', { hint: 'Try again once memory is being copied.' });
    await this.source.repeatable('migrate-set-parameters', parameters);
    if (change.bandwidthMiBps !== undefined) this.options.bandwidthMiBps = change.bandwidthMiBps;
    if (change.downtimeMs !== undefined) this.options.downtimeMs = change.downtimeMs;
  }
}
