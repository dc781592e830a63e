import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationMode, VmDefinition } from '../api/types.js';
import type { UndoStep } from './undo.js';
import { readJsonFiles, writeJsonAtomic } from '../local-json.js';
import { parseJournalEntry } from './stored-records.js';
import type { MigrationOwner } from './owner-lock.js';

/**
 * The journal is the write-ahead record of a migration in flight: what it is, how far it got, and
 * every step that must be undone if it does not finish. It is written before each change is made,
 * so a Ferry that dies mid-migration leaves enough behind for the next one to clean up.
 */
export interface JournalEntry {
  id: string;
  vm: string;
  from: string;
  to: string;
  mode: MigrationMode;
  startedAt: string;
  /**
   * running: before the commit point, a failure is undone. committed: the destination holds (or
   * may hold) the only whole copy of the guest, so it can only be finished forwards.
   */
  state: 'running' | 'committed';
  /** Set when the migration stopped and could not be settled (a host out of reach): why, in words. */
  doubt: string | null;
  /** The process running it; recovery leaves an entry alone while its owner's lock is held. */
  owner: MigrationOwner;
  /** The source QEMU's monitor, to ask whether the migration completed without us. */
  sourceQmpSocket: string | null;
  destinationQmpSocket: string | null;
  /** The destination's address as the source reaches it (for resuming a broken postcopy). */
  destinationAddress?: string;
  undo: UndoStep[];
  options: Record<string, unknown>;
  /** What to persist on the destination when finishing forwards after a crash. */
  destinationDefinition: VmDefinition;
}

export class Journal {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly directory: string) {}

  private file(id: string): string {
    return join(this.directory, `${id}.json`);
  }

  /**
   * Writes run one after another, each serialising the entry when its turn comes, so steps
   * recorded by work running side by side can never be overwritten by an older snapshot.
   */
  write(entry: JournalEntry): Promise<void> {
    const next = this.writing.then(() => writeJsonAtomic(this.file(entry.id), entry));
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** The OS lock its owner holds for as long as the migration runs. */
  lockFile(id: string): string {
    return join(this.directory, `${id}.lock`);
  }

  async remove(id: string): Promise<void> {
    await this.writing;
    await rm(this.file(id), { force: true });
    await rm(this.lockFile(id), { force: true });
  }

  /** One entry as it is on disk now, or null once it is gone (settled by another process). */
  async read(id: string): Promise<JournalEntry | null> {
    try {
      return parseJournalEntry(JSON.parse(await readFile(this.file(id), 'utf8')));
    } catch {
      return null;
    }
  }

  /** Entries whose shape recovery can rely on; a damaged file stays on disk for a person to look at. */
  async list(): Promise<JournalEntry[]> {
    return (await readJsonFiles(this.directory)).map(parseJournalEntry).filter((entry): entry is JournalEntry => entry !== null);
  }
}
