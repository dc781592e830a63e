import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonDirectory, readJsonFile, writeJsonFile } from '../../../src-main/core/remote/json-files.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import { rejection } from '../../support/rejection.js';

const schema = z.object({ name: z.string(), size: z.number() });
const transport = new LocalTransport('unit');
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ferry json dir '));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});


describe('readJsonDirectory through a real shell (LocalTransport)', () => {
  it('reads every *.json file and nothing else, in one go', async () => {
    const dir = join(directory, 'good');
    await mkdir(join(dir, 'sub.json'), { recursive: true });
    await writeFile(join(dir, 'a.json'), JSON.stringify({ name: 'a', size: 1 }));
    // No trailing newline, pretty-printed, and a name with a space: all must parse.
    await writeFile(join(dir, 'b c.json'), `${JSON.stringify({ name: 'b', size: 2 }, null, 2)}\n`);
    await writeFile(join(dir, 'notes.txt'), 'not json');
    await writeFile(join(dir, '.hidden.json'), JSON.stringify({ name: 'h', size: 3 }));
    const entries = await readJsonDirectory(transport, dir, schema);
    expect(entries.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'a', value: { name: 'a', size: 1 } },
      { name: 'b c', value: { name: 'b', size: 2 } },
    ]);
  });

  it('treats a missing or empty directory as empty', async () => {
    expect(await readJsonDirectory(transport, join(directory, 'missing'), schema)).toEqual([]);
    await mkdir(join(directory, 'empty'));
    expect(await readJsonDirectory(transport, join(directory, 'empty'), schema)).toEqual([]);
  });

  it('names a damaged file', async () => {
    const dir = join(directory, 'damaged');
    await mkdir(dir);
    await writeFile(join(dir, 'ok.json'), JSON.stringify({ name: 'ok', size: 1 }));
    await writeFile(join(dir, 'bad.json'), '{"name": "bad", "si');
    const error = await rejection(readJsonDirectory(transport, dir, schema));
    expect(error.code).toBe('internal');
    expect(error.message).toContain(join(dir, 'bad.json'));
  });

  it('writes atomically with mode 0600 and reads back; a missing file is null', async () => {
    const file = join(directory, 'written', 'deeper', 'x.json');
    await writeJsonFile(transport, file, { name: 'x', size: 9 });
    expect(await readJsonFile(transport, file, schema)).toEqual({ name: 'x', size: 9 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(directory, 'written', 'deeper'))).mode & 0o777).toBe(0o700);
    expect(await readJsonFile(transport, join(directory, 'nope.json'), schema)).toBeNull();
  });
});
