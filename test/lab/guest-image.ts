import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';
import { labPaths } from './layout.js';

const META_PACKAGE = 'linux-image-cloud-amd64';
/** Roots only; their dependencies are read from each module's .modinfo at build time. */
const WANTED_MODULES = ['virtio_pci', 'virtio_blk'];
const INIT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'guest-init.sh');
// The image is rebuilt when the init script or this list changes, not on every `up`.
const BUILD_ID_INPUTS = () => [readFileSync(INIT_SCRIPT, 'utf8'), WANTED_MODULES.join(','), 'v1'];

export interface GuestImage {
  kernel: string;
  initrd: string;
  modules: string[];
}

/** Makes sure vmlinuz and initrd.img exist in the lab dir; downloads the kernel deb only once. */
export async function ensureGuestImage(dir: string, log: (l: string) => void): Promise<GuestImage> {
  const p = labPaths(dir);
  const stampFile = join(p.guestDir, 'build-id');
  const buildId = createHash('sha256').update(BUILD_ID_INPUTS().join('\0')).digest('hex');
  const modulesFile = join(p.guestDir, 'modules');
  if (existsSync(p.kernel) && existsSync(p.initrd) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === buildId) {
    return { kernel: p.kernel, initrd: p.initrd, modules: readFileSync(modulesFile, 'utf8').split('\n').filter(Boolean) };
  }
  const deb = await ensureKernelDeb(p.kernelCache, log);
  const extract = join(p.kernelCache, 'extract');
  rmSync(extract, { recursive: true, force: true });
  await run('dpkg-deb', ['-x', deb, extract]);
  try {
    const boot = join(extract, 'boot');
    const vmlinuz = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
    const config = readdirSync(boot).find((f) => f.startsWith('config-'));
    if (!vmlinuz || !config) throw new Error(`no vmlinuz/config in ${deb}`);
    const configText = readFileSync(join(boot, config), 'utf8');
    const moduleFiles = indexModules(join(extract, 'lib', 'modules'));
    const ordered = resolveModules(WANTED_MODULES, moduleFiles, configText);
    log(`guest: kernel ${vmlinuz}, modules ${ordered.join(' ') || '(all built in)'}`);

    const staging = join(p.guestDir, 'staging');
    rmSync(staging, { recursive: true, force: true });
    for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'lib/modules']) mkdirSync(join(staging, d), { recursive: true });
    copyFileSync('/bin/busybox', join(staging, 'bin', 'busybox'));
    chmodSync(join(staging, 'bin', 'busybox'), 0o755);
    copyFileSync(INIT_SCRIPT, join(staging, 'init'));
    chmodSync(join(staging, 'init'), 0o755);
    for (const m of ordered) {
      const file = moduleFiles.get(m);
      if (file) copyFileSync(file, join(staging, 'lib', 'modules', `${m}.ko`));
    }
    writeFileSync(join(staging, 'etc', 'ferry-modules'), ordered.join('\n') + '\n');
    // The kernel opens /dev/console for init before devtmpfs is mounted; without it init has no stdio.
    await run('mknod', ['-m', '600', join(staging, 'dev', 'console'), 'c', '5', '1']);

    mkdirSync(p.guestDir, { recursive: true });
    await run('sh', ['-c', `cd "${staging}" && find . | cpio --quiet -o -H newc -R 0:0 | gzip -6 > "${p.initrd}.tmp"`]);
    copyFileSync(join(boot, vmlinuz), `${p.kernel}.tmp`);
    await run('mv', [`${p.initrd}.tmp`, p.initrd]);
    await run('mv', [`${p.kernel}.tmp`, p.kernel]);
    writeFileSync(modulesFile, ordered.join('\n') + '\n');
    writeFileSync(stampFile, buildId);
    rmSync(staging, { recursive: true, force: true });
    return { kernel: p.kernel, initrd: p.initrd, modules: ordered };
  } finally {
    rmSync(extract, { recursive: true, force: true });
  }
}

async function ensureKernelDeb(cacheDir: string, log: (l: string) => void): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const cached = readdirSync(cacheDir).find((f) => /^linux-image-.*-cloud-amd64_.*\.deb$/.test(f));
  if (cached) return join(cacheDir, cached);
  const pkg = await resolveKernelPackage();
  log(`guest: downloading ${pkg}`);
  // Sandbox user root: the _apt user cannot write into the lab dir and apt would only warn about it.
  await run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', pkg], { cwd: cacheDir, timeoutMs: 300_000 });
  const got = readdirSync(cacheDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!got) throw new Error(`apt-get download ${pkg} produced no .deb`);
  return join(cacheDir, got);
}

/** The meta package only depends on the versioned image; that one holds vmlinuz. */
async function resolveKernelPackage(): Promise<string> {
  const find = async () => {
    const r = await run('apt-cache', ['depends', META_PACKAGE], { allowFail: true });
    return /Depends:\s*(linux-image-\S+-cloud-amd64)/.exec(r.stdout)?.[1];
  };
  let pkg = await find();
  if (!pkg) {
    // A fresh machine may have empty package lists.
    await run('apt-get', ['update'], { timeoutMs: 300_000 });
    pkg = await find();
  }
  if (!pkg) throw new Error(`cannot resolve the versioned package behind ${META_PACKAGE}`);
  return pkg;
}

function indexModules(root: string): Map<string, string> {
  const map = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ko')) map.set(e.name.slice(0, -3).replace(/-/g, '_'), full);
    }
  };
  if (existsSync(root)) walk(root);
  return map;
}

/** Reads `depends=` from the module's .modinfo strings; there is no modinfo/depmod on the machine. */
function moduleDepends(file: string): string[] {
  const text = readFileSync(file).toString('latin1');
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(',').filter(Boolean).map((s) => s.replace(/-/g, '_')) : [];
}

/** Dependency-first load order; modules missing from the deb must be built in, or boot would fail later. */
function resolveModules(roots: string[], files: Map<string, string>, config: string): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = files.get(name);
    if (!file) {
      const symbol = `CONFIG_${name.toUpperCase()}=y`;
      if (!config.includes(symbol)) throw new Error(`module ${name} is neither in the deb nor built in (${symbol})`);
      return;
    }
    for (const dep of moduleDepends(file)) visit(dep);
    order.push(name);
  };
  roots.forEach(visit);
  return order;
}
