import { execFile } from 'node:child_process';

/** Runs `ssh` with the given arguments and resolves with its stdout; rejects with the reason it could not. */
export type SshGRunner = (args: readonly string[]) => Promise<string>;

export interface SshGQuery {
  configPath?: string | undefined;
  port?: number | undefined;
  user?: string | undefined;
}

/** `ssh -G` prints the configuration ssh would use for a destination and connects nowhere. */
export function sshGArguments(alias: string, query: SshGQuery): string[] {
  return [
    '-G',
    ...(query.configPath === undefined ? [] : ['-F', query.configPath]),
    ...(query.port === undefined ? [] : ['-p', String(query.port)]),
    ...(query.user === undefined ? [] : ['-l', query.user]),
    // Ends option parsing, so an alias can never be read as an option.
    '--',
    alias,
  ];
}

/**
 * The system's `ssh`, found on PATH, run without a shell. The timeout is short: `-G` only reads
 * files (and runs the config's own `Match exec` commands, exactly as `ssh <alias>` would).
 */
export function systemSshG(binary = 'ssh', timeoutMs = 5_000): SshGRunner {
  return (args) =>
    new Promise<string>((resolve, reject) => {
      execFile(binary, [...args], { timeout: timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8', windowsHide: true }, (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') reject(new Error(`${binary} is not installed (not found on PATH)`));
        else if (error.killed) reject(new Error(`${binary} -G did not answer within ${timeoutMs} ms`));
        else reject(new Error(`${binary} -G failed: ${firstMeaningfulLine(stderr) ?? error.message}`));
      });
    });
}

function firstMeaningfulLine(stderr: string): string | undefined {
  // ssh warns about the missing terminal even with -G; that is never the reason it failed.
  return stderr.split('\n').map((line) => line.trim()).find((line) => line !== '' && !line.startsWith('Pseudo-terminal'));
}

/**
 * `ssh -G` output: one `keyword value` per line, keywords in lower case. Repeatable keywords
 * (identityfile) come once per value, in the order ssh tries them; list-valued ones
 * (userknownhostsfile) come on one line, space separated.
 */
export function parseSshGOutput(text: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (match === null || match[1] === undefined || match[2] === undefined) continue;
    const keyword = match[1].toLowerCase();
    values.set(keyword, [...(values.get(keyword) ?? []), match[2]]);
  }
  return values;
}

const OPENSSH_DEFAULT_KEYS = new Set(['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa']);

/**
 * With no IdentityFile configured, ssh -G lists its built-in ~/.ssh/id_* names. They are not a
 * choice the user made: a missing one is no error, and Ferry keeps its own default order for them.
 */
export function isOpenSshDefaultIdentityList(files: readonly string[]): boolean {
  if (files.length < 5) return false;
  return files.every((file) => {
    const match = /^~\/\.ssh\/([a-z0-9_]+)$/.exec(file);
    return match !== null && OPENSSH_DEFAULT_KEYS.has(match[1] ?? '');
  });
}

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

/** ssh -G prints yes/no as true/false; the config file may say either. */
export function strictHostKeyCheckingOf(value: string | undefined): StrictHostKeyChecking {
  switch (value?.toLowerCase()) {
    case 'yes':
    case 'true':
      return 'yes';
    case 'no':
    case 'false':
    case 'off':
      return 'no';
    case 'accept-new':
      return 'accept-new';
    default:
      return 'ask';
  }
}
