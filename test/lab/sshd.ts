import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { run, sleep } from './exec.js';
import { HOST_RUN_DIR, HOST_SHARED_DIR, HOST_STATE_DIR, labPaths, type HostLayout } from './layout.js';
import type { QemuBind } from './qemu-versions.js';

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function ensureKey(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  await run('rm', ['-f', file, `${file}.pub`]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** "ssh-ed25519 AAAA..." without the comment. */
export function publicKey(file: string): string {
  const [type, blob] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  if (!type || !blob) throw new Error(`malformed public key ${file}.pub`);
  return `${type} ${blob}`;
}

/** Same value `ssh-keygen -lf` prints, computed here so status needs no subprocess. */
export function fingerprint(file: string): string {
  const blob = publicKey(file).split(' ')[1] ?? '';
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

export function writeSshdConfig(h: HostLayout, dir: string): void {
  const p = labPaths(dir);
  const lines = [
    `ListenAddress ${h.address}:22`,
    `HostKey ${h.hostKey}`,
    `PidFile ${h.sshdPidFile}`,
    `AuthorizedKeysFile ${p.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowStreamLocalForwarding yes',
    'AllowTcpForwarding yes',
    // Migrations open many channels at once (QMP, NBD, streams); defaults of 10 would throttle them.
    'MaxSessions 100',
    'MaxStartups 100',
    'PrintMotd no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    // Leftover unix sockets from a killed forward would otherwise block the next one.
    'StreamLocalBindUnlink yes',
  ];
  writeFileSync(h.sshdConfig, lines.join('\n') + '\n');
}

/**
 * Shell run inside the host's private mount namespace before exec'ing sshd. /var/lib and /srv get
 * a tmpfs that re-exposes their original entries, so /var/lib/ferry and /srv/ferry-shared can be
 * mount points without creating anything in the root namespace's /var/lib or /srv.
 */
export function mountScript(h: HostLayout, dir: string, qemuBinds: readonly QemuBind[] = []): string {
  const p = labPaths(dir);
  // Another QEMU for this host only: its files mounted over the system's, in this namespace.
  const qemu = qemuBinds.map((bind) => `mount --bind '${bind.source}' '${bind.target}'`).join('\n');
  return `set -e
mount --make-rprivate /
${qemu}
mount -t tmpfs -o mode=755 ferry-lab-run /run
mkdir -p /run/sshd /run/ferry /run/lock
chmod 755 /run/sshd
reexpose() {
  saved=/run/.ferry-lab-saved
  mkdir -p "$saved"
  mount --rbind "$1" "$saved"
  mount -t tmpfs -o mode=755 ferry-lab-overlay "$1"
  for e in "$saved"/* "$saved"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    n="$1/\${e##*/}"
    if [ -L "$e" ]; then cp -P "$e" "$n"
    elif [ -d "$e" ]; then mkdir "$n"; mount --rbind "$e" "$n"
    else touch "$n"; mount --bind "$e" "$n"; fi
  done
  umount -l "$saved"
  rmdir "$saved"
}
reexpose /var/lib
reexpose /srv
# A host of its own has its own root home; the machine's ~/.bashrc (pyenv here) would also cost
# every SSH command a second.
mount -t tmpfs -o mode=700 ferry-lab-home /root
mkdir -p ${HOST_STATE_DIR} ${HOST_SHARED_DIR}
mount --bind '${h.ferryDir}' ${HOST_STATE_DIR}
mount --bind '${p.shared}' ${HOST_SHARED_DIR}
test -d ${HOST_RUN_DIR}
exec /usr/sbin/sshd -D -f '${h.sshdConfig}' -E '${h.sshdLog}'
`;
}

/** The sshd recorded in the pid file, if that process is still an sshd (whatever namespace it is in). */
export function recordedSshdPid(h: HostLayout): number | undefined {
  if (!existsSync(h.sshdPidFile)) return undefined;
  const pid = Number(readFileSync(h.sshdPidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host's sshd only if it lives in the host's current network namespace: after a namespace
 * is deleted and recreated, an old sshd would be alive but unreachable.
 */
export function sshdPid(h: HostLayout): number | undefined {
  const pid = recordedSshdPid(h);
  if (pid === undefined) return undefined;
  try {
    const nsInode = statSync(`/run/netns/${h.name}`).ino;
    return readlinkSync(`/proc/${pid}/ns/net`) === `net:[${nsInode}]` ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startSshd(h: HostLayout, dir: string, qemuBinds: readonly QemuBind[] = []): Promise<number> {
  mkdirSync(`${h.ferryDir}/images`, { recursive: true });
  writeSshdConfig(h, dir);
  // Checked the way it will run: in a private /run, where sshd's privilege separation directory
  // is made fresh. The machine's own /run/sshd exists only where an sshd was started before.
  await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o mode=755 ferry-lab-check /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -t -f '${h.sshdConfig}'`]);
  const logFd = openSync(h.sshdLog, 'a');
  // detached + unref: sshd must outlive the CLI or test process that started it.
  const child = spawn(
    'ip',
    ['netns', 'exec', h.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', mountScript(h, dir, qemuBinds)],
    // A minimal environment: sessions should not see whatever the caller (CI, an editor) exported.
    { detached: true, stdio: ['ignore', logFd, logFd], env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' } },
  );
  child.unref();
  closeSync(logFd);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const pid = sshdPid(h);
    if (pid && (await sshBanner(h.address))) return pid;
    await sleep(100);
  }
  const tail = existsSync(h.sshdLog) ? readFileSync(h.sshdLog, 'utf8').split('\n').slice(-10).join('\n') : '';
  throw new Error(`sshd for ${h.name} did not come up (exit ${child.exitCode ?? 'none'}):\n${tail}`);
}

/** True once something on addr:22 greets with an SSH banner. */
export function sshBanner(address: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port: 22 });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
  });
}
