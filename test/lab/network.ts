import { existsSync, readdirSync } from 'node:fs';
import { run } from './exec.js';
import { BRIDGE, GATEWAY, HOST_PREFIX, PREFIX_LEN, VETH_PREFIX, type HostLayout } from './layout.js';

const linkExists = (name: string) => existsSync(`/sys/class/net/${name}`);
export const netnsExists = (name: string) => existsSync(`/run/netns/${name}`);

/** Lab namespaces currently present, including ones left by an earlier, larger or crashed lab. */
export function labNamespaces(): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(HOST_PREFIX)).sort();
}

export function bridgeExists(): boolean {
  return linkExists(BRIDGE);
}

export async function ensureBridge(): Promise<void> {
  if (!linkExists(BRIDGE)) await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  // replace, not add: repeated `up` must not fail on an address that is already there.
  await run('ip', ['addr', 'replace', `${GATEWAY}/${PREFIX_LEN}`, 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
}

export async function ensureHostNetwork(h: HostLayout): Promise<void> {
  if (!netnsExists(h.name)) await run('ip', ['netns', 'add', h.name]);
  const inNs = (args: string[]) => run('ip', ['-n', h.name, ...args]);
  const inner = (await run('ip', ['-n', h.name, 'link', 'show', 'eth0'], { allowFail: true })).code === 0;
  if (!linkExists(h.veth) || !inner) {
    // Half-built: one end may survive (e.g. in a namespace deleted while a process held it).
    // A fresh pair is simpler than repairing it.
    await run('ip', ['link', 'del', h.veth], { allowFail: true });
    await run('ip', ['-n', h.name, 'link', 'del', 'eth0'], { allowFail: true });
    await run('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.name]);
  }
  await run('ip', ['link', 'set', h.veth, 'master', BRIDGE]);
  await run('ip', ['link', 'set', h.veth, 'up']);
  await inNs(['link', 'set', 'lo', 'up']);
  await inNs(['addr', 'replace', `${h.address}/${PREFIX_LEN}`, 'dev', 'eth0']);
  await inNs(['link', 'set', 'eth0', 'up']);
}

/** Every process whose network namespace is the host's: sshd, SSH sessions, QEMU started over SSH. */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => n > 0 && n !== process.pid);
}

export async function deleteNamespace(ns: string): Promise<void> {
  await run('ip', ['netns', 'del', ns], { allowFail: true });
}

export async function deleteLabLinks(): Promise<void> {
  if (existsSync('/sys/class/net')) {
    for (const l of readdirSync('/sys/class/net').filter((n) => n.startsWith(VETH_PREFIX))) {
      await run('ip', ['link', 'del', l], { allowFail: true });
    }
  }
  if (linkExists(BRIDGE)) await run('ip', ['link', 'del', BRIDGE], { allowFail: true });
}
