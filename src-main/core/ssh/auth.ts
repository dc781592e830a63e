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
  passphrase?: string;
  password?: string;
}

export interface IdentityChoice {
  identity: ParsedKey | undefined;
  /** Why a default identity file was left out (it needs a passphrase), if it was. */
  skipped: FerryError | undefined;
}

/**
 * Reads and decrypts the identity file up front, because ssh2 silently skips a key it cannot
 * parse and the user would only see a generic "authentication failed".
 */
export async function chooseIdentity(auth: SshAuthOptions): Promise<IdentityChoice> {
  if (auth.identityFile === undefined) return { identity: undefined, skipped: undefined };
  const read = await readIdentity(auth.identityFile, auth.passphrase);
  if ('key' in read) return { identity: read.key, skipped: undefined };
  if (read.needsPassphrase && auth.identityFileIsDefault === true) return { identity: undefined, skipped: read.error };
  throw read.error;
}

type IdentityRead = { key: ParsedKey } | { error: FerryError; needsPassphrase: boolean };

async function readIdentity(path: string, passphrase: string | undefined): Promise<IdentityRead> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    return { error: new FerryError('auth-failed', `Cannot read identity file ${path}: ${(error as Error).message}`, { hint: 'Check the IdentityFile path.', cause: error }), needsPassphrase: false };
  }
  const parsed = ssh2.utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined) {
    const reason = key instanceof Error ? key.message : 'no key found';
    const encrypted = /encrypted|passphrase|decrypt|bad/i.test(reason);
    if (encrypted && passphrase === undefined) {
      const error = new FerryError('auth-failed', `Identity file ${path} is protected by a passphrase`, { hint: 'Enter the passphrase, or load the key into ssh-agent with ssh-add.', details: { identityFile: path } });
      return { error, needsPassphrase: true };
    }
    const error = new FerryError('auth-failed', `Cannot use identity file ${path}: ${encrypted ? 'wrong passphrase' : reason}`, { hint: encrypted ? 'Check the passphrase.' : 'The file must be an OpenSSH or PEM private key.', details: { identityFile: path } });
    return { error, needsPassphrase: false };
  }
  return { key };
}

/** The order `ssh` uses: agent, identity file, password, then keyboard-interactive. */
export function authMethods(username: string, auth: SshAuthOptions, identity: ParsedKey | undefined): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  if (auth.agent !== undefined && auth.agent !== '') methods.push({ type: 'agent', username, agent: auth.agent });
  if (identity !== undefined) methods.push({ type: 'publickey', username, key: identity });
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
