import { Ajv, type ValidateFunction } from 'ajv';
import { load } from 'js-yaml';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// The Electron binary cannot be downloaded on the project's machines, so `npm run dist` cannot run
// here; this checks electron-builder.yml the way electron-builder itself does before it builds
// (its scheme.json through ajv, with the options it uses) and for what the packages must hold.
const root = join(import.meta.dirname, '../../..');
// scheme.json of the app-builder-lib that this electron-builder itself loads.
const requireFromBuilder = createRequire(createRequire(import.meta.url).resolve('electron-builder'));

type Config = {
  productName: string;
  extraMetadata: { homepage: string; desktopName: string };
  files: string[];
  asar: boolean;
  electronFuses: Record<string, boolean>;
  linux: {
    target: string[];
    executableName: string;
    category: string;
    icon: string;
    maintainer: string;
    description: string;
    desktop: { entry: Record<string, string> };
    extraResources: { from: string; to: string }[];
  };
  deb: { afterInstall: string; afterRemove: string };
  rpm: { afterInstall: string; afterRemove: string };
};

let validate: ValidateFunction;
let raw: unknown;
let config: Config;

beforeAll(() => {
  const schema: object = JSON.parse(readFileSync(requireFromBuilder.resolve('app-builder-lib/scheme.json'), 'utf8'));
  validate = new Ajv({ allErrors: true, coerceTypes: true, strict: false }).compile(schema);
  raw = load(readFileSync(join(root, 'electron-builder.yml'), 'utf8'));
  config = raw as Config;
});

function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('electron-builder.yml', () => {
  it("is valid under electron-builder's own configuration schema", () => {
    const valid = validate(raw);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked by a schema that does catch mistakes', () => {
    const misspelt = { ...config, linux: { ...config.linux, maintainr: config.linux.maintainer } };
    expect(validate(misspelt)).toBe(false);
    expect(validate({ ...config, electronFuses: { runAsNode: 'sometimes' } })).toBe(false);
  });

  it('builds AppImage, deb and rpm with the package metadata deb and rpm require', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb', 'rpm']));
    expect(config.linux.maintainer).toMatch(/^.+ <[^@\s]+@[^@\s]+>$/);
    expect(config.extraMetadata.homepage).toMatch(/^https:\/\//);
    expect(config.linux.description.length).toBeGreaterThan(40);
    expect(config.linux.category).toBe('System');
  });

  it('describes the desktop entry, whose window class matches what Electron reports', () => {
    const entry = config.linux.desktop.entry;
    expect(entry.Name).toBe(config.productName);
    expect(entry.Comment).toBeTruthy();
    expect(entry.Categories).toBe('System;Emulator;');
    expect(entry.Exec).toBeUndefined(); // electron-builder refuses it; executableName sets it
    expect(entry.StartupWMClass).toBe(config.extraMetadata.desktopName.replace(/\.desktop$/, ''));
  });

  it('has an icon set with every size Linux desktops use, each the size its name says', () => {
    const iconDir = join(root, config.linux.icon);
    const names = readdirSync(iconDir);
    for (const size of [16, 24, 32, 48, 64, 128, 256, 512]) {
      const name = `${size}x${size}.png`;
      expect(names).toContain(name);
      expect(pngSize(join(iconDir, name))).toEqual({ width: size, height: size });
    }
  });

  it('flips the fuses: only RunAsNode (for the CLI launcher) is left permissive', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: true,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    const launcher = readFileSync(join(root, 'assets/linux/ferry-cli.sh'), 'utf8');
    expect(launcher).toContain('ELECTRON_RUN_AS_NODE=1');
  });

  it('packs the built app into app.asar, without sources, tests or source maps', () => {
    expect(config.asar).toBe(true);
    expect(config.files).toEqual(expect.arrayContaining(['dist/main/**', 'dist/preload/**', 'dist/renderer/**', 'package.json', '!**/*.map']));
    const included = config.files.filter((pattern) => !pattern.startsWith('!'));
    expect(included.some((pattern) => /src-|test|\*\*\/\*\.ts/.test(pattern))).toBe(false);
  });

  it('puts the CLI launcher in resources/bin and runs the CLI that the build emits', () => {
    expect(config.linux.extraResources).toContainEqual({ from: 'assets/linux/ferry-cli.sh', to: 'bin/ferry' });
    const launcher = readFileSync(join(root, 'assets/linux/ferry-cli.sh'), 'utf8');
    expect(launcher).toContain(`"$app_dir/${config.linux.executableName}"`);
    // tsconfig.main.json compiles src-main/ into dist/main/.
    const cliEntry = /app\.asar\/(dist\/main\/[\w/-]+)\.js/.exec(launcher)?.[1];
    expect(cliEntry).toBe('dist/main/cli/main');
    expect(existsSync(join(root, 'src-main/cli/main.ts'))).toBe(true);
  });

  it('is what `npm run dist` builds, for Linux, after building the app', () => {
    const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(packageJson.scripts.dist).toMatch(/^npm run build && electron-builder --linux --config electron-builder\.yml$/);
  });

  it('links the CLI onto PATH in both deb and rpm', () => {
    for (const target of [config.deb, config.rpm]) {
      expect(target.afterInstall).toBe('assets/linux/after-install.sh');
      expect(target.afterRemove).toBe('assets/linux/after-remove.sh');
    }
  });
});
