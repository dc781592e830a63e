import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { damagedProblem, readJsonDirectory, readJsonFile, writeJsonFile } from '../../../src-main/core/remote/json-files.js';
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
    const { entries, damaged } = await readJsonDirectory(transport, dir, schema);
    expect(damaged).toEqual([]);
    expect(entries.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'a', value: { name: 'a', size: 1 } },
      { name: 'b c', value: { name: 'b', size: 2 } },
    ]);
  });

  it('treats a missing or empty directory as empty', async () => {
    expect(await readJsonDirectory(transport, join(directory, 'missing'), schema)).toEqual({ entries: [], damaged: [] });
    await mkdir(join(directory, 'empty'));
    expect(await readJsonDirectory(transport, join(directory, 'empty'), schema)).toEqual({ entries: [], damaged: [] });
  });

  it('reports damaged files by name and reason without hiding the good ones', async () => {
    const dir = join(directory, 'damaged');
    await mkdir(dir);
    await writeFile(join(dir, 'ok.json'), JSON.stringify({ name: 'ok', size: 1 }));
    await writeFile(join(dir, 'bad.json'), '{"name": "bad", "si');
    await writeFile(join(dir, 'empty.json'), '');
    await writeFile(join(dir, 'shape.json'), JSON.stringify({ name: 'shape', size: 'big' }));
    // Names that awk would otherwise take for an option or a variable assignment.
    await writeFile(join(dir, '-v.json'), JSON.stringify({ name: 'dash', size: 2 }));
    await writeFile(join(dir, 'x=1.json'), JSON.stringify({ name: 'assign', size: 3 }));
    const { entries, damaged } = await readJsonDirectory(transport, dir, schema);
    expect(entries.map((entry) => entry.name).sort()).toEqual(['-v', 'ok', 'x=1']);
    expect(entries.find((entry) => entry.name === 'x=1')?.value).toEqual({ name: 'assign', size: 3 });
    const byName = new Map(damaged.map((file) => [file.name, file]));
    expect([...byName.keys()].sort()).toEqual(['bad', 'empty', 'shape']);
    expect(byName.get('bad')).toEqual({ name: 'bad', path: join(dir, 'bad.json'), reason: 'not valid JSON' });
    expect(byName.get('empty')?.reason).toBe('empty file');
    expect(byName.get('shape')?.reason).toMatch(/^size: /);
    expect(damagedProblem(byName.get('bad')!)).toBe(`${join(dir, 'bad.json')} is damaged (not valid JSON); repair or remove it on the host`);
  });

  it('names a damaged single file in the error', async () => {
    const file = join(directory, 'single-bad.json');
    await writeFile(file, '[1,');
    const error = await rejection(readJsonFile(transport, file, schema));
    expect(error.code).toBe('internal');
    expect(error.message).toContain(file);
  });

  it('writes atomically with mode 0600 and reads back; a missing file is null', async () => {
    const file = join(directory, 'written', 'deeper', 'x.json');
    await writeJsonFile(transport, file, { name: 'x', size: 9 });
    expect(await readJsonFile(transport, file, schema)).toEqual({ name: 'x', size: 9 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(directory, 'written', 'deeper'))).mode & 0o777).toBe(0o700);
    expect(await readJsonFile(transport, join(directory, 'nope.json'), schema)).toBeNull();
  });

  it('replaces an existing file (0600 afterwards, no temporary left) and fails cleanly where it cannot write', async () => {
    const dir = join(directory, 'replace');
    await mkdir(dir);
    const file = join(dir, 'r.json');
    await writeFile(file, 'old', { mode: 0o644 });
    await writeJsonFile(transport, file, { name: 'r', size: 2 });
    expect(await readJsonFile(transport, file, schema)).toEqual({ name: 'r', size: 2 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['r.json']);
    await writeFile(join(dir, 'not-a-dir'), '');
    const error = await rejection(writeJsonFile(transport, join(dir, 'not-a-dir', 'x.json'), { name: 'x', size: 1 }));
    expect(error.code).toBe('remote-command-failed');
    expect((await readdir(dir)).sort()).toEqual(['not-a-dir', 'r.json']);
  });
});
