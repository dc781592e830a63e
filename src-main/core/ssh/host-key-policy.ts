import { FerryError } from '../errors.js';
import { addKnownHost, checkHostKey, keyTypeOfBlob, knownHostsName, type KnownHostsFile } from './known-hosts.js';

export interface UnknownHostKeyInfo {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
}

export type UnknownHostKeyPrompt = (info: UnknownHostKeyInfo) => Promise<boolean>;

export interface HostKeyPolicy {
  label: string;
  host: string;
  port: number;
  knownHostsFiles: readonly KnownHostsFile[];
  onUnknownHostKey: UnknownHostKeyPrompt | undefined;
}

/**
 * Resolves if the presented key may be used, rejects with the FerryError to show otherwise. A key
 * of a host with nothing on record is only ever trusted on an explicit yes from the user; a changed
 * or revoked key, or a key of a new type for a known host, is never trusted from here at all.
 */
export async function verifyHostKey(key: Buffer, policy: HostKeyPolicy): Promise<void> {
  const keyType = keyTypeOfBlob(key);
  const { host, port, label } = policy;
  const name = knownHostsName(host, port);
  const result = await checkHostKey({ host, port, keyType, key }, policy.knownHostsFiles);

  switch (result.status) {
    case 'known':
      return;
    case 'revoked':
      throw new FerryError(
        'host-key-changed',
        `${label}: the ${keyType} host key presented by ${name} (${result.fingerprint}) is marked @revoked in ${result.file}:${result.line}. Refusing to connect.`,
        { hint: 'The key was revoked on purpose. Ask the host administrator for the new key.', details: { revoked: true, keyType, fingerprint: result.fingerprint, file: result.file, line: result.line } },
      );
    case 'changed':
      throw new FerryError(
        'host-key-changed',
        `${label}: WARNING: the ${keyType} host key for ${name} has changed. The host now presents ${result.fingerprint}, but ${result.file}:${result.line} records ${result.knownFingerprints.join(', ')}. Someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled.`,
        {
          hint: `If you know why the key changed, remove the old entry with: ssh-keygen -R '${name}' -f '${result.file}' and connect again to review the new key.`,
          details: { keyType, fingerprint: result.fingerprint, knownFingerprints: result.knownFingerprints, file: result.file, line: result.line },
        },
      );
    case 'other-type':
      throw newKeyTypeRefusal(label, name, { keyType, fingerprint: result.fingerprint, knownKeyTypes: result.knownKeyTypes, files: result.files });
    case 'unknown': {
      const info = { host, port, keyType, fingerprint: result.fingerprint };
      const details = { keyType, fingerprint: result.fingerprint };
      const hint = `Compare ${result.fingerprint} with the output of \`ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-|-.*$/g, '')}_key.pub\` on the host, then accept it.`;
      if (policy.onUnknownHostKey === undefined) {
        throw new FerryError('host-key-unknown', `${label}: the ${keyType} host key of ${name} is not known; its fingerprint is ${result.fingerprint}`, { hint, details });
      }
      let accepted: boolean;
      try {
        accepted = await policy.onUnknownHostKey(info);
      } catch (error) {
        throw new FerryError('host-key-unknown', `${label}: could not confirm the host key of ${name}: ${(error as Error).message}`, { hint, details, cause: error });
      }
      if (accepted !== true) {
        throw new FerryError('host-key-unknown', `${label}: the host key of ${name} (${result.fingerprint}) was not accepted`, { hint, details });
      }
      const target = policy.knownHostsFiles.find((file) => file.writable);
      // With no writable file the key is trusted for this connection only; the user said yes.
      if (target !== undefined) await addKnownHost(target.path, host, port, keyType, key);
      return;
    }
  }
}

export interface NewKeyType {
  /** What the host presented; undefined when it offered none of the known types and could not be asked. */
  keyType: string | undefined;
  fingerprint: string | undefined;
  knownKeyTypes: readonly string[];
  /** The known_hosts files holding the keys on record. */
  files: readonly string[];
}

/**
 * A known host presenting a key type it is not known by gets no prompt: under accept-new that
 * would trust an attacker's key of a type the real host never had.
 */
export function newKeyTypeRefusal(label: string, name: string, found: NewKeyType): FerryError {
  const known = found.knownKeyTypes.join(', ');
  const presented = found.keyType === undefined ? 'offered none of them' : `presented a ${found.keyType} host key (${found.fingerprint ?? 'fingerprint unknown'})`;
  const removal = found.files.map((file) => `ssh-keygen -R '${name}' -f '${file}'`).join(' and ');
  return new FerryError(
    'host-key-changed',
    `${label}: ${name} is known only by its ${known} host key, but ${presented}. Refusing to trust a new key type for a known host: someone may be intercepting the connection, or the host's keys were replaced.`,
    {
      hint: `If the host really changed its keys, remove its old entry with: ${removal} and connect again to review the new key.`,
      details: { keyType: found.keyType, fingerprint: found.fingerprint, knownKeyTypes: [...found.knownKeyTypes], files: [...found.files] },
    },
  );
}
