import type { ServerHostKeyAlgorithm } from 'ssh2';

/**
 * Which host-key algorithms to offer a server we already know. Offering only the algorithms of
 * the key types on record means a server that holds several host keys signs with one we can
 * check, and a known host never gets to present a new key type that accept-new would trust.
 */

/**
 * known_hosts key type → the signature algorithms that prove possession of such a key, in the
 * order of OpenSSH's default HostKeyAlgorithms (an RSA key can sign with SHA-2 or legacy SHA-1).
 */
const ALGORITHMS_BY_KEY_TYPE: readonly (readonly [keyType: string, algorithms: readonly ServerHostKeyAlgorithm[]])[] = [
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
  ['ssh-dss', ['ssh-dss']],
];

/**
 * The serverHostKey list for a host known by `knownKeyTypes`, or undefined when none of them is a
 * type ssh2 can verify (no types at all, or only e.g. security-key types): the full default list
 * is then offered and the host-key check refuses whatever type comes back.
 */
export function hostKeyAlgorithmsFor(knownKeyTypes: Iterable<string>): ServerHostKeyAlgorithm[] | undefined {
  const known = new Set(knownKeyTypes);
  const algorithms = ALGORITHMS_BY_KEY_TYPE.filter(([keyType]) => known.has(keyType)).flatMap(([, names]) => names);
  return algorithms.length === 0 ? undefined : algorithms;
}

/** ssh2's wording when the server offers none of the algorithms we asked for. */
export function isNoMatchingHostKeyFormat(error: Error & { level?: string }): boolean {
  return error.level === 'handshake' && /no matching host key format/i.test(error.message);
}
