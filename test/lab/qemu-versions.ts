import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './exec.js';
import { labDir } from './layout.js';

/**
 * QEMU 10.0 for one lab host, next to Debian's 7.2: the bookworm-backports packages are downloaded
 * (never installed) and unpacked into the lab dir; a host then bind-mounts the returned paths over
 * the system ones inside its own mount namespace, so one host runs 10.0 and the other 7.2.
 */
export const QEMU_10 = {
  version: '10.0.2',
  debianVersion: '1:10.0.2+ds-2+deb13u1~bpo12+1',
  suite: 'bookworm-backports',
  packages: ['qemu-system-x86', 'qemu-system-common', 'qemu-system-data', 'qemu-utils', 'qemu-block-extra'],
} as const;

/** A file or directory of the unpacked tree and the system path it is mounted over. */
export interface QemuBind {
  source: string;
  target: string;
}

export interface QemuTree {
  version: string;
  root: string;
  binds: QemuBind[];
}

const SOURCES_FILE = '/etc/apt/sources.list.d/ferry-lab-bookworm-backports.sources';
/** The programs Ferry and the lab tests run; the packages hold more, nothing else calls them. */
const PROGRAMS = ['qemu-system-x86_64', 'qemu-img', 'qemu-io', 'qemu-nbd'];
const MODULE_DIR = 'usr/lib/x86_64-linux-gnu/qemu';
const DATA_DIR = 'usr/share/qemu';
/** Unpacked data plus what other Debian packages (ovmf, seabios links) put into /usr/share/qemu. */
const MERGED_DATA_DIR = 'share-qemu-merged';

export function qemu10Root(dir = labDir()): string {
  return join(dir, 'qemu-10.0');
}

/**
 * Makes sure the unpacked QEMU 10.0 tree exists and runs, fetching it if not (idempotent: a tree
 * whose stamp and binary version match is used as it is), and returns the bind mounts a host needs.
 */
export async function ensureQemu10(log: (line: string) => void, dir = labDir()): Promise<QemuTree> {
  const root = qemu10Root(dir);
  const stamp = join(root, 'extracted');
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === QEMU_10.debianVersion && (await binaryVersion(root)) === QEMU_10.version)) {
    await unpack(root, log);
    rmSync(join(root, MERGED_DATA_DIR), { recursive: true, force: true });
    const found = await binaryVersion(root);
    if (found !== QEMU_10.version) throw new Error(`the unpacked QEMU in ${root} reports version ${found ?? '(none)'}, not ${QEMU_10.version}`);
    writeFileSync(stamp, QEMU_10.debianVersion);
  }
  mergeDataDir(root);
  return { version: QEMU_10.version, root, binds: bindsFor(root) };
}

function bindsFor(root: string): QemuBind[] {
  const binds: QemuBind[] = PROGRAMS.map((program) => ({ source: join(root, 'usr/bin', program), target: `/usr/bin/${program}` }));
  // Modules must come from the same build as the binary: QEMU refuses modules of another version.
  binds.push({ source: join(root, MODULE_DIR), target: `/${MODULE_DIR}` });
  binds.push({ source: join(root, MERGED_DATA_DIR), target: `/${DATA_DIR}` });
  for (const bind of binds) {
    if (!existsSync(bind.source)) throw new Error(`the QEMU ${QEMU_10.version} tree has no ${bind.source} (to mount over ${bind.target})`);
  }
  return binds;
}

async function binaryVersion(root: string): Promise<string | null> {
  const binary = join(root, 'usr/bin/qemu-system-x86_64');
  if (!existsSync(binary)) return null;
  const result = await run(binary, ['--version'], { allowFail: true, timeoutMs: 20_000 });
  return /QEMU emulator version (\S+)/.exec(result.stdout)?.[1] ?? null;
}

async function unpack(root: string, log: (line: string) => void): Promise<void> {
  const debs = join(root, 'debs');
  mkdirSync(debs, { recursive: true });
  if (!debsPresent(debs)) {
    await ensureSuite(log);
    log(`qemu ${QEMU_10.version}: downloading ${QEMU_10.packages.join(' ')}`);
    const wanted = QEMU_10.packages.map((pkg) => `${pkg}=${QEMU_10.debianVersion}`);
    // Sandbox user root: the _apt user cannot write into the lab dir.
    await run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', ...wanted], { cwd: debs, timeoutMs: 300_000 }).catch((error: unknown) => {
      throw new Error(`apt-get download of QEMU ${QEMU_10.debianVersion} from ${QEMU_10.suite} failed: ${String(error)}`);
    });
  }
  for (const pkg of QEMU_10.packages) {
    const deb = debFile(debs, pkg);
    if (!deb) throw new Error(`no .deb of ${pkg} ${QEMU_10.debianVersion} in ${debs}`);
    await run('dpkg-deb', ['-x', join(debs, deb), root]).catch((error: unknown) => {
      throw new Error(`unpacking ${deb} into ${root} failed: ${String(error)}`);
    });
  }
}

const debFile = (debs: string, pkg: string) =>
  readdirSync(debs).find((file) => file.startsWith(`${pkg}_`) && file.includes(QEMU_10.debianVersion.replace(':', '%3a')) && file.endsWith('.deb'));

function debsPresent(debs: string): boolean {
  return QEMU_10.packages.every((pkg) => debFile(debs, pkg) !== undefined);
}

/** Adds the backports suite (same mirror as the system's sources) so apt can download from it. */
async function ensureSuite(log: (line: string) => void): Promise<void> {
  const policy = async () => (await run('apt-cache', ['policy', 'qemu-system-x86'], { allowFail: true })).stdout;
  if ((await policy()).includes(QEMU_10.debianVersion)) return;
  const mirror = systemMirror();
  if (!existsSync(SOURCES_FILE)) {
    log(`qemu ${QEMU_10.version}: adding ${QEMU_10.suite} from ${mirror} to apt's sources`);
    writeFileSync(SOURCES_FILE, `Types: deb\nURIs: ${mirror}\nSuites: ${QEMU_10.suite}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`);
  }
  await run('apt-get', ['update'], { timeoutMs: 300_000 }).catch((error: unknown) => {
    throw new Error(`apt-get update after adding ${QEMU_10.suite} failed: ${String(error)}`);
  });
  if (!(await policy()).includes(QEMU_10.debianVersion)) {
    throw new Error(`apt knows no qemu-system-x86 ${QEMU_10.debianVersion} even with ${SOURCES_FILE}; the mirror ${mirror} may lack ${QEMU_10.suite}`);
  }
}

function systemMirror(): string {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  const text = existsSync(deb822) ? readFileSync(deb822, 'utf8') : existsSync('/etc/apt/sources.list') ? readFileSync('/etc/apt/sources.list', 'utf8') : '';
  const uri = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s+bookworm\b/m.exec(text)?.[1];
  if (!uri) throw new Error('cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list');
  return uri;
}

/**
 * Mounted over /usr/share/qemu, the package's data dir alone would hide what other packages put
 * there (the OVMF links and firmware descriptors). Links are recreated as they are, so relative
 * ones resolve against /usr/share/qemu after the mount; files are copied, because a link into
 * /usr/share/qemu would point at the mount itself.
 */
function mergeDataDir(root: string): void {
  const final = join(root, MERGED_DATA_DIR);
  // Never rebuilt in place: a running host may have it mounted, and would see it emptied.
  if (existsSync(final)) return;
  const merged = `${final}.tmp`;
  rmSync(merged, { recursive: true, force: true });
  cpSync(join(root, DATA_DIR), merged, { recursive: true, verbatimSymlinks: true });
  const system = `/${DATA_DIR}`;
  if (!existsSync(system)) return;
  for (const entry of readdirSync(system)) {
    const target = join(merged, entry);
    if (existsSync(target) || isLink(target)) continue;
    const from = join(system, entry);
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), target);
    else cpSync(from, target, { recursive: true, verbatimSymlinks: true });
  }
  renameSync(merged, final);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
