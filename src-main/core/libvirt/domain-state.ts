import type { VmRunState } from '../api/types.js';

/**
 * libvirt's domain states (virDomainState, as `virsh domstats` numbers them) in Ferry's words.
 * Idle and blocked are a running guest waiting on something; pmsuspended is a guest that
 * suspended itself (S3/S4) and is woken from outside.
 */
const BY_CODE: readonly VmRunState[] = ['unknown', 'running', 'running', 'paused', 'shutting-down', 'shutoff', 'crashed', 'suspended'];

const BY_TEXT: Readonly<Record<string, VmRunState>> = {
  'no state': 'unknown',
  running: 'running',
  idle: 'running',
  blocked: 'running',
  paused: 'paused',
  'in shutdown': 'shutting-down',
  'shut off': 'shutoff',
  crashed: 'crashed',
  pmsuspended: 'suspended',
};

export function runStateFromLibvirtCode(code: number): VmRunState {
  return BY_CODE[code] ?? 'unknown';
}

/** From `virsh domstate` (with or without --reason: "paused (user)"). */
export function runStateFromLibvirtText(text: string): VmRunState {
  const state = text.trim().replace(/\s*\(.*\)$/, '');
  return BY_TEXT[state] ?? 'unknown';
}
