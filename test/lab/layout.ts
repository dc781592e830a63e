import { join } from 'node:path';

// Fixed names and addresses of the lab. The subnet is picked to be unlikely to clash with anything
// real; nothing in the lab routes beyond it.
export const BRIDGE = 'ferrylab0';
export const GATEWAY = '10.231.77.1';
export const PREFIX_LEN = 24;
export const HOST_PREFIX = 'ferry-lab-';
/** Root-side veth names; kept short because Linux caps interface names at 15 characters. */
export const VETH_PREFIX = 'ferrylab-';
export const MAX_HOSTS = 26;

// Where things live as seen from inside a host's private mount namespace.
export const HOST_STATE_DIR = '/var/lib/ferry';
export const HOST_IMAGE_DIR = '/var/lib/ferry/images';
export const HOST_RUN_DIR = '/run/ferry';
export const HOST_SHARED_DIR = '/srv/ferry-shared';

export function labDir(): string {
  return process.env.FERRY_LAB_DIR ?? '/var/lib/ferry-lab';
}

export interface HostLayout {
  index: number;
  letter: string;
  name: string;
  address: string;
  veth: string;
  dir: string;
  ferryDir: string;
  hostKey: string;
  sshdConfig: string;
  sshdPidFile: string;
  sshdLog: string;
}

export function hostLayout(index: number, dir = labDir()): HostLayout {
  if (index < 0 || index >= MAX_HOSTS) throw new Error(`host index ${index} out of range`);
  const letter = String.fromCharCode(97 + index);
  const name = `${HOST_PREFIX}${letter}`;
  const hostDir = join(dir, 'hosts', name);
  return {
    index,
    letter,
    name,
    address: `10.231.77.${11 + index}`,
    veth: `${VETH_PREFIX}${letter}`,
    dir: hostDir,
    ferryDir: join(hostDir, 'ferry'),
    hostKey: join(hostDir, 'ssh_host_ed25519_key'),
    sshdConfig: join(hostDir, 'sshd_config'),
    sshdPidFile: join(hostDir, 'sshd.pid'),
    sshdLog: join(hostDir, 'sshd.log'),
  };
}

export const labPaths = (dir = labDir()) => ({
  clientKey: join(dir, 'id_ed25519'),
  authorizedKeys: join(dir, 'authorized_keys'),
  knownHosts: join(dir, 'known_hosts'),
  shared: join(dir, 'shared'),
  stateFile: join(dir, 'lab.json'),
  accelFile: join(dir, 'accel.json'),
  kernelCache: join(dir, 'kernel'),
  guestDir: join(dir, 'guest'),
  kernel: join(dir, 'guest', 'vmlinuz'),
  initrd: join(dir, 'guest', 'initrd.img'),
});
