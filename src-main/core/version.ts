import { readFileSync } from 'node:fs';

function readVersion(): string {
  // Works both from src-main (tsx) and from dist/main: package.json is two or three levels up.
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'ferry' && 'version' in parsed && typeof parsed.version === 'string') {
        return parsed.version;
      }
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

export const FERRY_VERSION = readVersion();
