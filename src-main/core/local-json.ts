import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Writes a JSON file under FERRY_HOME atomically (temp file + rename), readable only by the user. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Unique per write: two saves of one file at once (journal steps, history) must not share it.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, JSON.stringify(value), { mode: 0o600 });
  await rename(temporary, file);
}

/**
 * Every *.json file of a directory, parsed; a missing directory is empty. A file that does not
 * parse (a torn write from a crash) is skipped rather than hiding all the others.
 */
export async function readJsonFiles(directory: string): Promise<unknown[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const values: unknown[] = [];
  for (const name of names.filter((file) => file.endsWith('.json'))) {
    try {
      values.push(JSON.parse(await readFile(join(directory, name), 'utf8')));
    } catch {
      // skipped, see above
    }
  }
  return values;
}
