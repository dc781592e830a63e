import type { ChannelArgs } from '../api/contract.js';
import type { MigrationPhase, MigrationSample, VmDefinition } from '../api/types.js';
import { FerryError } from '../errors.js';
import type { HostTransport } from '../ssh/transport.js';
import type { SourceDisk } from './disks.js';
import type { UndoStep } from './undo.js';
import type { LiveControls } from './live-controls.js';

export type MigrationOptions = ChannelArgs<'migrations.start'>;

/** A disk as it will exist on the destination. */
export interface PlannedDisk {
  source: SourceDisk;
  destinationPath: string;
  /** The destination already sees the same file (shared storage): nothing to copy. */
  shared: boolean;
  /** The target is a block device on the destination (it exists there, or is meant to under /dev): written raw, never created or removed. */
  destinationDevice?: boolean;
}

/** Everything one running migration needs; the runners get it and report through it. */
export interface RunContext {
  id: string;
  options: MigrationOptions;
  definition: VmDefinition;
  disks: PlannedDisk[];
  source: HostTransport;
  destination: HostTransport;
  /** The destination's address as the source host reaches it. */
  destinationAddress: string;
  kvmOnDestination: boolean;
  /** The guest was running (not paused by its user) when the migration started: undo resumes it only then. */
  sourceRunning: boolean;
  signal: AbortSignal;
  setPhase(phase: MigrationPhase): void;
  emitSample(sample: MigrationSample): void;
  /** Records an undo step in the journal before the change it undoes is made. */
  pushUndo(step: UndoStep): Promise<void>;
  /** From here on the destination owns the VM; a crash finishes forwards instead of undoing. */
  commit(): Promise<void>;
  /** What QEMU reported at the end, for the report. */
  result: { setupTimeMs: number | null; downtimeMs: number | null; ramBytes: number; diskBytes: Map<string, number> };
  startedAt: number;
  /** Destination images this migration created, so known to read as zeroes. */
  createdImages: Set<string>;
  /** Live controls: the runner lends them its source connection and asks them about postcopy. */
  controls: LiveControls;
}

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new FerryError('cancelled', 'The migration was cancelled', { hint: 'Ferry undoes what it made on the destination; the report says where the VM runs.' });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
