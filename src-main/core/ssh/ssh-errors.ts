import { FerryError } from '../errors.js';

/** ssh2 decorates its errors with `level` (where it failed) and Node adds `code` for sockets. */
export interface Ssh2Error extends Error {
  level?: string;
  code?: string | number;
  description?: string;
}

export interface ConnectTarget {
  label: string;
  host: string;
  port: number;
  username: string;
  /** Which auth methods were offered, for the auth-failed message. */
  methods: readonly string[];
}

/** Turns an error from connecting or authenticating into the FerryError the user sees. */
export function mapConnectError(error: Ssh2Error, target: ConnectTarget): FerryError {
  const where = `${target.host}:${target.port}`;
  const details = { host: target.host, port: target.port, reason: error.message };
  const options = (hint: string) => ({ hint, details, cause: error });

  if (error.level === 'client-authentication') {
    return new FerryError(
      'auth-failed',
      `${target.label}: authentication as ${target.username}@${where} failed (tried: ${target.methods.join(', ') || 'nothing'})`,
      options(`Check that the key's public half is in ~${target.username}/.ssh/authorized_keys on the host, that ssh-agent holds the key, or that the password is right. Try: ssh -p ${target.port} ${target.username}@${target.host}`),
    );
  }
  if (error.level === 'client-timeout') {
    return new FerryError('timeout', `${target.label}: ${where} did not complete the SSH handshake in time`, options('The host may be overloaded, or a firewall may be dropping packets.'));
  }
  switch (error.code) {
    case 'ECONNREFUSED':
      return new FerryError('connection-failed', `${target.label}: connection refused by ${where}`, options(`Nothing is listening on port ${target.port}: check that sshd is running there and that the port is right.`));
    case 'ETIMEDOUT':
      return new FerryError('connection-failed', `${target.label}: connecting to ${where} timed out`, options('The host is down, unreachable from this network, or a firewall drops SSH. Check the address and your VPN.'));
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new FerryError('connection-failed', `${target.label}: no route to ${where}`, options('Check the network connection and the host address.'));
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new FerryError('connection-failed', `${target.label}: cannot resolve host name ${target.host}`, options('Check the spelling of the host name, or use its IP address.'));
    case 'ECONNRESET':
      return new FerryError('connection-failed', `${target.label}: ${where} reset the connection`, options('sshd may be refusing this client (MaxStartups, tcp wrappers, fail2ban).'));
    default:
      break;
  }
  if (error.level === 'client-dns') {
    return new FerryError('connection-failed', `${target.label}: cannot resolve host name ${target.host}`, options('Check the spelling of the host name.'));
  }
  return new FerryError('connection-failed', `${target.label}: cannot connect to ${where}: ${error.message}`, options('Check that the host is reachable with: ssh -v ' + `-p ${target.port} ${target.username}@${target.host}`));
}
