#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/main/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  console.error('ferry: the engine is not built yet. Run `npm run build` in the Ferry folder first.');
  process.exit(1);
}
await import(pathToFileURL(entry).href);
