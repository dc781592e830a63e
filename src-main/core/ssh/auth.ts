import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, KeyboardInteractiveCallback, ParsedKey, Prompt } from 'ssh2';
import { FerryError } from '../errors.js';

export interface SshAuthOptions {
  /** Path of the ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string;
  identityFile?: string;
  /**
   * True when Ferry picked identityFile itself (ssh's default ~/.ssh/id_*), not the user. Such a
   * key that needs a passphrase nobody gave is skipped, as `ssh -o BatchMode=yes` does: the agent
   * often holds it decrypted. A key the user named fails instead, asking for the passphrase.
   */
  identityFileIsDefault?: boolean;
  /** Keys tried after identityFile, in order, until the server accepts one (ssh's IdentityFile list). */
  identityFiles?: readonly IdentityFile[];
  passphrase?: string;
  password?: string;
}

export interface IdentityFile {
  path: string;
  /**
   * One of ssh's default names, tried only because it might exist: missing, it is skipped without
   * a word. A file the user named (in ~/.ssh/config) that is missing is reported if nothing else works.
   */
  defaultName: boolean;
  /** Named for this host alone: needing a passphrase nobody gave is then an error, not a reason to skip it. */
  required: boolean;
}

export interface IdentityChoice {
  /** The first usable key. */
  identity: ParsedKey | undefined;
  /** Every usable key, in the order they are offered. */
  identities: ParsedKey[];
  /** Why keys were left out (passphrase needed, file missing), if any were; the first reason, naming all. */
  skipped: FerryError | undefined;
}

function identityFilesOf(auth: SshAuthOptions): IdentityFile[] {
  const named = auth.identityFile === undefined ? [] : [{ path: auth.identityFile, defaultName: false, required: auth.identityFileIsDefault !== true }];
  return [...named, ...(auth.identityFiles ?? [])];
}

/**
 * Reads and decrypts the identity files up front, because ssh2 silently skips a key it cannot
 * parse and the user would only see a generic "authentication failed". A key that cannot be
 * used is skipped when something else may still authenticate; with nothing left, its error is thrown.
 */
export async function chooseIdentity(auth: SshAuthOptions): Promise<IdentityChoice> {
  const identities: ParsedKey[] = [];
  const skips: FerryError[] = [];
  for (const file of identityFilesOf(auth)) {
    const read = await readIdentity(file.path, auth.passphrase);
    if ('key' in read) identities.push(read.key);
    else if (read.missing && file.defaultName) continue;
    else if (read.missing || (read.needsPassphrase && !file.required)) skips.push(read.error);
    else throw read.error;
  }
  const [identity] = identities;
  const skipped = skipSummary(skips);
  const otherWay = (auth.agent !== undefined && auth.agent !== '') || auth.password !== undefined;
  // A missing key the user named, with nothing else to try, is the answer itself.
  const onlyMissing = skips.find((error) => error.details?.['missing'] === true);
  if (identity === undefined && !otherWay && onlyMissing !== undefined && skips.length === 1) throw onlyMissing;
  return { identity, identities, skipped };
}

function skipSummary(skips: readonly FerryError[]): FerryError | undefined {
  const [firstSkip] = skips;
  if (firstSkip === undefined || skips.length === 1) return firstSkip;
  return new FerryError('auth-failed', `${skips.length} identity files were left out: ${skips.map((error) => error.message).join('; ')}`, {
    hint: firstSkip.hint ?? 'Check the IdentityFile lines.',
    details: { identityFiles: skips.map((error) => error.details?.['identityFile']) },
  });
}

type IdentityRead = { key: ParsedKey } | { error: FerryError; needsPassphrase: boolean; missing: boolean };

async function readIdentity(path: string, passphrase: string | undefined): Promise<IdentityRead> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const details = { identityFile: path, missing };
    return { error: new FerryError('auth-failed', `Cannot read identity file ${path}: ${(error as Error).message}`, { hint: 'Check the IdentityFile path.', details, cause: error }), needsPassphrase: false, missing };
  }
  const parsed = ssh2.utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined) {
    const reason = key instanceof Error ? key.message : 'no key found';
    const encrypted = /encrypted|passphrase|decrypt|bad/i.test(reason);
    if (encrypted && passphrase === undefined) {
      const error = new FerryError('auth-failed', `Identity file ${path} is protected by a passphrase`, { hint: 'Enter the passphrase, or load the key into ssh-agent with ssh-add.', details: { identityFile: path } });
      return { error, needsPassphrase: true, missing: false };
    }
    const error = new FerryError('auth-failed', `Cannot use identity file ${path}: ${encrypted ? 'wrong passphrase' : reason}`, { hint: encrypted ? 'Check the passphrase.' : 'The file must be an OpenSSH or PEM private key.', details: { identityFile: path } });
    return { error, needsPassphrase: false, missing: false };
  }
  return { key };
}

/** The order `ssh` uses: agent, identity files in order, password, then keyboard-interactive. */
export function authMethods(username: string, auth: SshAuthOptions, identities: readonly ParsedKey[]): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (auth.agent !== undefined && auth.agent !== '') methods.push({ type: 'agent', username, agent: auth.agent });
  for (const key of identities) methods.push({ type: 'publickey', username, key });
  const password = auth.password;
  if (password !== undefined) {
    methods.push({ type: 'password', username, password });
    methods.push({
      type: 'keyboard-interactive',
      username,
      // Hidden prompts are password prompts in practice (PAM's "Password:"); echoed ones are not.
      prompt: (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback) =>
        finish(prompts.map((prompt) => (prompt.echo === true ? '' : password))),
    });
  }
  return methods;
}

/** Skips methods the server says it will not accept, instead of wasting an attempt on each. */
export function authHandler(methods: readonly AnyAuthMethod[]): AuthHandlerMiddleware {
  let next = 0;
  return (authsLeft, _partialSuccess, callback) => {
    // On the first call ssh2 passes null: the server has not said anything yet.
    const allowed: readonly AuthenticationType[] | undefined = Array.isArray(authsLeft) ? authsLeft : undefined;
    while (next < methods.length) {
      const method = methods[next++];
      if (method === undefined) break;
      const wireName: AuthenticationType = method.type === 'agent' ? 'publickey' : method.type;
      if (allowed === undefined || allowed.includes(wireName)) {
        callback(method);
        return;
      }
    }
    // ssh2 documents `false` as "no methods left", but @types/ssh2 leaves it out of the signature.
    callback(false as unknown as AnyAuthMethod);
  };
}
