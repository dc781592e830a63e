import { execFileSync } from 'node:child_process';
import type { LabEngine } from './lab-engine.js';

const QEMU_IMG = '/usr/bin/qemu-img';

/**
 * A lab host without qemu-utils' qemu-img: /dev/null bound over it inside that host's own mount
 * namespace (its sshd runs in a private one), so the other lab host and this machine keep theirs.
 * Callers keep the window short: other lab tests may use the host meanwhile.
 */
export async function withoutQemuImg<T>(lab: LabEngine, host: string, other: string, work: () => Promise<T>): Promise<T> {
  const ownNamespace = (await lab.sh(host, 'readlink /proc/self/ns/mnt')).trim();
  if (ownNamespace === (await lab.sh(other, 'readlink /proc/self/ns/mnt')).trim()) throw new Error(`lab hosts ${host} and ${other} share a mount namespace`);
  await lab.sh(host, `mount --bind /dev/null ${QEMU_IMG}`);
  try {
    // Hidden there, and only there.
    await lab.sh(host, `! ${QEMU_IMG} --version >/dev/null 2>&1`);
    await lab.sh(other, `${QEMU_IMG} --version >/dev/null`);
    execFileSync(QEMU_IMG, ['--version']);
    return await work();
  } finally {
    await restoreQemuImg(lab, host);
  }
}

/** Undoes withoutQemuImg; safe to call when nothing is hidden (for afterAll after a crash). */
export async function restoreQemuImg(lab: LabEngine, host: string): Promise<void> {
  await lab.sh(host, `while mountpoint -q ${QEMU_IMG} || findmnt -rn ${QEMU_IMG} >/dev/null; do umount ${QEMU_IMG} || exit 1; done`);
}
