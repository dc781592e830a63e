import { posix } from 'node:path';
import type { ZodType } from 'zod';
import { FerryError } from '../errors.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import { tempSiblingPath } from '../ssh/temp-path.js';
import type { HostTransport } from '../ssh/transport.js';

const RECORD_MARK = '@@ferry-file ';

export interface DamagedJsonFile {
  /** File name without `.json`, which is the object's name. */
  name: string;
  path: string;
  reason: string;
}

export interface JsonDirectory<T> {
  entries: Array<{ name: string; value: T }>;
  /** Files that are not valid JSON or not of the expected shape; they never hide the others. */
  damaged: DamagedJsonFile[];
}

/**
 * Reads every *.json file of a remote directory in one round trip and one awk process (a `cat`
 * per file costs a fork each, which adds up to seconds with hundreds of VMs on a busy host).
 * A missing directory is empty.
 */
export async function readJsonDirectory<T>(transport: HostTransport, directory: string, schema: ZodType<T>): Promise<JsonDirectory<T>> {
  const script = [
    `cd ${shellQuote(directory)} 2>/dev/null || exit 0`,
    'set --',
    // "./" keeps awk from reading a name as an option or a var=value assignment.
    `for f in *.json; do [ -f "$f" ] || continue; if [ -s "$f" ]; then set -- "$@" "./$f"; else printf '\\n${RECORD_MARK}%s\\n' "$f"; fi; done`,
    `[ $# -eq 0 ] || awk 'FNR == 1 { printf "\\n${RECORD_MARK}%s\\n", substr(FILENAME, 3) } { print }' "$@"`,
  ].join('\n');
  const output = await transport.run(script);
  const result: JsonDirectory<T> = { entries: [], damaged: [] };
  for (const chunk of output.split(`\n${RECORD_MARK}`).slice(1)) {
    const newline = chunk.indexOf('\n');
    const file = newline < 0 ? chunk : chunk.slice(0, newline);
    const name = file.replace(/\.json$/, '');
    const parsed = parseJson(newline < 0 ? '' : chunk.slice(newline + 1), schema);
    if (parsed.ok) result.entries.push({ name, value: parsed.value });
    else result.damaged.push({ name, path: posix.join(directory, file), reason: parsed.reason });
  }
  return result;
}

/** What a listing shows for a damaged file: what is wrong and what to do. */
export function damagedProblem(file: DamagedJsonFile): string {
  return `${file.path} is damaged (${file.reason}); repair or remove it on the host`;
}

export async function readJsonFile<T>(transport: HostTransport, path: string, schema: ZodType<T>): Promise<T | null> {
  const result = await transport.exec(`cat -- ${shellQuote(path)}`);
  if (result.code !== 0) return null;
  const parsed = parseJson(result.stdout, schema);
  if (!parsed.ok) throw new FerryError('internal', `${path} on ${transport.label} is damaged (${parsed.reason})`, { hint: 'Repair or remove the file on the host.' });
  return parsed.value;
}

/**
 * Writes atomically with mode 0600, creating the directory (0700) first, in one round trip
 * (SFTP would take several): dd writes and fsyncs a temporary sibling, which is renamed over.
 */
export async function writeJsonFile(transport: HostTransport, path: string, value: unknown): Promise<void> {
  const temp = shellQuote(tempSiblingPath(path));
  const script = `umask 077 && ${shellCommand(['mkdir', '-p', '-m', '0700', posix.dirname(path)])} && dd of=${temp} conv=fsync status=none && mv -f -- ${temp} ${shellQuote(path)} || { rm -f -- ${temp}; exit 1; }`;
  await transport.run(script, { stdin: `${JSON.stringify(value, null, 2)}\n` });
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseJson<T>(text: string, schema: ZodType<T>): Parsed<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: text.trim() === '' ? 'empty file' : 'not valid JSON' };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, reason: issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'unexpected shape' };
}
