import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// The deb/rpm scripts and the CLI launcher, run for real by bash in a scratch folder that stands in
// for / (its opt/Ferry is the installed app, its usr/bin the PATH folder). The Electron binary is the
// faked layer: a script that prints how it was started.
const root = join(import.meta.dirname, '../../..');
const macros = { executable: 'ferry', sanitizedProductName: 'Ferry' };
const bash = spawnSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

let fakeRoot: string;
let appDir: string;
let binDir: string;
let toolsPath: string;

/** What electron-builder does to the script (fills in its macros), then points / at the scratch folder. */
function renderScript(name: string): string {
  const template = readFileSync(join(root, 'assets/linux', name), 'utf8');
  const used = [...template.matchAll(/\$\{([a-zA-Z]+)\}/g)].map((match) => match[1]);
  for (const macro of used) expect(Object.keys(macros), `macro ${macro} in ${name}`).toContain(macro);
  const filled = template.replace(/\$\{([a-zA-Z]+)\}/g, (_whole, macro: 'executable' | 'sanitizedProductName') => macros[macro]);
  const script = join(fakeRoot, name);
  writeFileSync(script, filled.replaceAll("'/opt/", `'${fakeRoot}/opt/`).replaceAll('/usr/bin/', `${binDir}/`).replaceAll('/etc/apparmor.d/', `${fakeRoot}/apparmor.d/`));
  return script;
}

/**
 * A PATH with only the plain tools the scripts use: no desktop-database, icon-cache or AppArmor
 * tools, so the scripts' system-wide steps are skipped and the real system is never touched.
 */
function plainToolsPath(): string {
  const tools = join(fakeRoot, 'tools');
  mkdirSync(tools);
  for (const tool of ['ln', 'chmod', 'rm', 'cp', 'readlink', 'dirname', 'unshare']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(tools, tool));
  }
  return tools;
}

function runScript(name: string, arg: string): void {
  const result = spawnSync(bash, [renderScript(name), arg], { encoding: 'utf8', env: { PATH: toolsPath } });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
}

beforeEach(() => {
  fakeRoot = mkdtempSync(join(tmpdir(), 'ferry-pkg-'));
  appDir = join(fakeRoot, 'opt/Ferry');
  binDir = join(fakeRoot, 'usr/bin');
  mkdirSync(join(appDir, 'resources/bin'), { recursive: true });
  mkdirSync(binDir, { recursive: true });
  // What electron-builder lays out: the launcher from extraResources, the app's Electron binary.
  copyFileSync(join(root, 'assets/linux/ferry-cli.sh'), join(appDir, 'resources/bin/ferry'));
  chmodSync(join(appDir, 'resources/bin/ferry'), 0o644);
  writeFileSync(join(appDir, 'ferry'), '#!/bin/sh\necho "run-as-node=$ELECTRON_RUN_AS_NODE"\nfor arg in "$@"; do echo "arg=$arg"; done\n');
  chmodSync(join(appDir, 'ferry'), 0o755);
  writeFileSync(join(appDir, 'chrome-sandbox'), '');
  toolsPath = plainToolsPath();
});

afterEach(() => rmSync(fakeRoot, { recursive: true, force: true }));

describe('deb/rpm after-install', () => {
  it('puts the CLI on PATH as ferry and the desktop app as ferry-desktop', () => {
    runScript('after-install.sh', 'configure');
    expect(readlinkSync(join(binDir, 'ferry'))).toBe(join(appDir, 'resources/bin/ferry'));
    expect(readlinkSync(join(binDir, 'ferry-desktop'))).toBe(join(appDir, 'ferry'));
    expect(lstatSync(join(appDir, 'resources/bin/ferry')).mode & 0o777).toBe(0o755);
  });

  it('the ferry on PATH runs the bundled CLI with the app binary as Node, passing the arguments on', () => {
    runScript('after-install.sh', '1');
    const result = spawnSync(join(binDir, 'ferry'), ['vm', 'list', '--json', 'two words'], { encoding: 'utf8', env: { PATH: toolsPath } });
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'run-as-node=1',
      `arg=${appDir}/resources/app.asar/dist/main/cli/main.js`,
      'arg=vm',
      'arg=list',
      'arg=--json',
      'arg=two words',
    ]);
  });
});

describe('deb/rpm after-remove', () => {
  beforeEach(() => runScript('after-install.sh', 'configure'));

  it('keeps the links on an upgrade (dpkg "upgrade", rpm "1")', () => {
    for (const arg of ['upgrade', '1']) {
      runScript('after-remove.sh', arg);
      expect(existsSync(join(binDir, 'ferry')), arg).toBe(true);
      expect(existsSync(join(binDir, 'ferry-desktop')), arg).toBe(true);
    }
  });

  for (const arg of ['remove', 'purge', '0']) {
    it(`removes its links on a real removal ("${arg}")`, () => {
      runScript('after-remove.sh', arg);
      expect(existsSync(join(binDir, 'ferry'))).toBe(false);
      expect(existsSync(join(binDir, 'ferry-desktop'))).toBe(false);
    });
  }

  it('leaves a ferry that points elsewhere alone', () => {
    rmSync(join(binDir, 'ferry'));
    symlinkSync('/usr/local/lib/node_modules/ferry/bin/ferry.js', join(binDir, 'ferry'));
    runScript('after-remove.sh', 'remove');
    expect(readlinkSync(join(binDir, 'ferry'))).toBe('/usr/local/lib/node_modules/ferry/bin/ferry.js');
    expect(existsSync(join(binDir, 'ferry-desktop'))).toBe(false);
  });
});
