import { FerryError, toFerryError } from '../core/errors.js';

export interface OutputOptions {
  json: boolean;
}

export function printResult(value: unknown, options: OutputOptions, text: () => string): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  } else {
    const rendered = text();
    if (rendered !== '') process.stdout.write(rendered.endsWith('\n') ? rendered : `${rendered}\n`);
  }
}

/** Prints an error the same way for every command and sets the exit code (2 = bad input, 1 = failure). */
export function printError(error: unknown, options: OutputOptions): void {
  const ferryError = toFerryError(error);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: ferryError.toJSON() }, null, 2)}\n`);
  } else {
    process.stderr.write(`ferry: ${ferryError.message}\n`);
    if (ferryError.hint) process.stderr.write(`  ${ferryError.hint}\n`);
  }
  process.exitCode = ferryError.code === 'invalid-input' ? 2 : 1;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export { FerryError };
