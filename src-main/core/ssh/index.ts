export type { ExecOptions, ExecResult, HostTransport, TransportState } from './transport.js';
export { shellCommand, shellQuote } from './shell.js';
export {
  addKnownHost,
  checkHostKey,
  fingerprintSha256,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostsName,
  parseKnownHosts,
  type HostKey,
  type HostKeyCheck,
  type KnownHostEntry,
  type KnownHostsFile,
} from './known-hosts.js';
export { parseProxyJump, resolveSshConfig, type JumpHost, type ResolvedSshConfig, type ResolveSshConfigOptions } from './config.js';
export { verifyHostKey, type HostKeyPolicy, type UnknownHostKeyInfo, type UnknownHostKeyPrompt } from './host-key-policy.js';
export type { SshAuthOptions } from './auth.js';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
export { SshTransport, type SshTransportOptions } from './connection.js';
export { LocalTransport } from './local.js';
