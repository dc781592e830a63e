import { posix } from 'node:path';
import type { ZodType } from 'zod';
import { FerryError } from '../errors.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';

const RECORD_MARK = '@@ferry-file ';

/** Reads every *.json file of a remote directory in one round trip; a missing directory is empty. */
export async function readJsonDirectory<T>(transport: HostTransport, directory: string, schema: ZodType<T>): Promise<Array<{ name: string; value: T }>> {
  const script = `cd ${shellQuote(directory)} 2>/dev/null || exit 0; for f in *.json; do [ -f "$f" ] || continue; printf '\\n${RECORD_MARK}%s\\n' "$f"; cat -- "$f"; done`;
  const output = await transport.run(script);
  const results: Array<{ name: string; value: T }> = [];
  for (const chunk of output.split(`\n${RECORD_MARK}`).slice(1)) {
    const newline = chunk.indexOf('\n');
    const file = chunk.slice(0, newline);
    const parsed = schema.safeParse(safeJson(chunk.slice(newline + 1)));
    // A damaged definition must not hide the others; it is reported by name instead.
    if (!parsed.success) throw new FerryError('internal', `${posix.join(directory, file)} on ${transport.label} is damaged`, { hint: 'Repair or remove the file on the host.' });
    results.push({ name: file.replace(/\.json$/, ''), value: parsed.data });
  }
  return results;
}

export async function readJsonFile<T>(transport: HostTransport, path: string, schema: ZodType<T>): Promise<T | null> {
  const result = await transport.exec(`cat -- ${shellQuote(path)}`);
  if (result.code !== 0) return null;
  const parsed = schema.safeParse(safeJson(result.stdout));
  if (!parsed.success) throw new FerryError('internal', `${path} on ${transport.label} is damaged`, { hint: 'Repair or remove the file on the host.' });
  return parsed.data;
}

/** Writes atomically with mode 0600, creating the directory (0700) first. */
export async function writeJsonFile(transport: HostTransport, path: string, value: unknown): Promise<void> {
  await transport.run(shellCommand(['mkdir', '-p', '-m', '0700', posix.dirname(path)]));
  await transport.writeFile(path, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
