import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../../src-main/core/errors.js';
import { shellCommand, shellQuote } from '../../../src-main/core/ssh/shell.js';

/** Runs the quoted word through a real /bin/sh and returns what printf received. */
function echoThroughShell(arg: string): string {
  const result = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(arg)}`], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('shellQuote', () => {
  it('survives /bin/sh unchanged for arbitrary strings', () => {
    const noNul = fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(noNul, (arg) => {
        expect(echoThroughShell(arg)).toBe(arg);
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    'a;reboot',
    '$(id)',
    '`id`',
    "it's",
    '"double"',
    'line1\nline2',
    '*',
    '~',
    'a b\tc',
    '',
    '-n',
    'x=1',
    '\\',
    "'",
    "''\\''",
    '$HOME',
    'a|b&c>d<e',
  ])('keeps %j literal', (arg) => {
    expect(echoThroughShell(arg)).toBe(arg);
  });

  it('rejects NUL bytes with invalid-input', () => {
    expect(() => shellQuote('a\0b')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    try {
      shellQuote('\0');
    } catch (error) {
      expect(isFerryError(error, 'invalid-input')).toBe(true);
    }
  });

  it('leaves plain words bare for readable logs', () => {
    expect(shellQuote('/var/lib/ferry/vm-1.qcow2')).toBe('/var/lib/ferry/vm-1.qcow2');
  });
});

describe('shellCommand', () => {
  it('passes each argv element as exactly one argument', () => {
    fc.assert(
      fc.property(fc.array(fc.string().filter((s) => !s.includes('\0')), { maxLength: 5 }), (args) => {
        const command = shellCommand(['printf', '%s\\0', ...args]);
        const result = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
        const expected = args.map((a) => `${a}\0`).join('');
        // printf with no arguments still prints the format once.
        expect(result.stdout).toBe(args.length === 0 ? '\0' : expected);
      }),
      { numRuns: 60 },
    );
  });

  it('does not turn a leading `a=b` into an assignment', () => {
    const result = spawnSync('/bin/sh', ['-c', shellCommand(['x=1'])], { encoding: 'utf8' });
    expect(result.status).toBe(127);
  });

  it('refuses an empty argv', () => {
    expect(() => shellCommand([])).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});
