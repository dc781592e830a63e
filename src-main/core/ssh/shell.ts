import { FerryError } from '../errors.js';

/**
 * The one way Ferry turns a value into a word for a POSIX shell. Single quotes disable every
 * expansion, so the only character needing care is the single quote itself, which is closed,
 * escaped and reopened. NUL cannot be passed through exec at all, so it is refused rather than
 * silently truncating the argument.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) {
    throw new FerryError('invalid-input', 'A shell argument cannot contain a NUL byte', {
      details: { argument: arg.replace(/\0/g, '\\0') },
    });
  }
  // Plain words stay bare so logged commands remain readable. '=' is not in the set because a
  // bare `a=b` in command position is an assignment, and '~' because it expands.
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one command line whose words reach the program exactly as given. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new FerryError('invalid-input', 'Cannot build a shell command from an empty argument list');
  return argv.map(shellQuote).join(' ');
}
