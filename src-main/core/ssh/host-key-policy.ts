import { FerryError } from '../errors.js';
import { addKnownHost, checkHostKey, keyTypeOfBlob, knownHostsName, type KnownHostsFile } from './known-hosts.js';

export interface UnknownHostKeyInfo {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** Non-empty when the host is known by a key of another type (not a change, but worth saying). */
  otherKnownKeyTypes: string[];
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
 * Resolves if the presented key may be used, rejects with the FerryError to show otherwise. An
 * unknown key is only ever trusted on an explicit yes from the user; a changed or revoked key is
 * never trusted from here at all.
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
    case 'unknown': {
      const info = { host, port, keyType, fingerprint: result.fingerprint, otherKnownKeyTypes: result.otherKnownKeyTypes };
      const details = { keyType, fingerprint: result.fingerprint, otherKnownKeyTypes: result.otherKnownKeyTypes };
      const also = result.otherKnownKeyTypes.length === 0 ? '' : ` (the host is known by a ${result.otherKnownKeyTypes.join('/')} key, but presented ${keyType})`;
      const hint = `Compare ${result.fingerprint} with the output of \`ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-|-.*$/g, '')}_key.pub\` on the host, then accept it.`;
      if (policy.onUnknownHostKey === undefined) {
        throw new FerryError('host-key-unknown', `${label}: the ${keyType} host key of ${name} is not known${also}; its fingerprint is ${result.fingerprint}`, { hint, details });
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
