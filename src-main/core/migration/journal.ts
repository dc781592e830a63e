import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationMode, VmDefinition } from '../api/types.js';
import type { UndoStep } from './undo.js';

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
  /** running: undo on failure; committing: the destination owns the VM, finish forwards. */
  state: 'running' | 'committing';
  /** The source QEMU's monitor, to ask whether the migration completed without us. */
  sourceQmpSocket: string | null;
  destinationQmpSocket: string | null;
  undo: UndoStep[];
  options: Record<string, unknown>;
  /** What to persist on the destination when finishing forwards after a crash. */
  destinationDefinition: VmDefinition;
}

export class Journal {
  constructor(private readonly directory: string) {}

  private file(id: string): string {
    return join(this.directory, `${id}.json`);
  }

  async write(entry: JournalEntry): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const temporary = `${this.file(entry.id)}.tmp`;
    await writeFile(temporary, JSON.stringify(entry, null, 2), { mode: 0o600 });
    await rename(temporary, this.file(entry.id));
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }

  async list(): Promise<JournalEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return [];
    }
    const entries: JournalEntry[] = [];
    for (const name of names.filter((file) => file.endsWith('.json'))) {
      try {
        entries.push(JSON.parse(await readFile(join(this.directory, name), 'utf8')) as JournalEntry);
      } catch {
        // A torn write leaves only the .tmp file; a damaged entry cannot be acted on safely.
      }
    }
    return entries;
  }
}
