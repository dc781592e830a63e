/**
 * `ferry host check` with the real binary (bin/ferry.js over dist/: run `npx tsc -p
 * tsconfig.main.json` first) against the lab hosts, from a fresh FERRY_HOME.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreQemuImg, withoutQemuImg } from '../../support/hidden-qemu-img.js';
import { runFerry, type CliResult } from '../../support/cli-runner.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
let scratch: string;
let env: NodeJS.ProcessEnv;
let admin: LabEngine;

function ferry(...args: string[]): Promise<CliResult> {
  return runFerry(env, args);
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'main', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.main.json` before the CLI tests');
  admin = await labEngine({ addHosts: false });
  scratch = mkdtempSync(join(tmpdir(), 'ferry-host-check-cli-'));
  env = { PATH: process.env['PATH'], HOME: join(scratch, 'home'), FERRY_HOME: join(scratch, 'ferry-home'), LANG: 'C.UTF-8' };
  for (const name of ['a', 'b']) {
    const host = admin.labHost(name);
    const added = await ferry('host', 'add', name, '--ssh', `root@${host.address}:${host.port}`, '--identity', host.identityFile, '--trust-fingerprint', host.hostKeyFingerprint);
    expect(added.code, added.stderr).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  if (admin) {
    await restoreQemuImg(admin, 'b');
    await admin.engine.close();
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('ferry host check', () => {
  it('exits 0 on lab host a with one ✓ line per requirement', async () => {
    const result = await ferry('host', 'check', 'a');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^✓ qemu-system-x86_64: QEMU 7\.2\.\d+/m);
    expect(result.stdout).toMatch(/^✓ qemu-img: qemu-img 7\.2\.\d+/m);
    expect(result.stdout).toMatch(/^✓ stream-local: /m);
    expect(result.stdout).not.toMatch(/^✗/m);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^a has what Ferry needs/);
  }, 60_000);

  it('exits 1 on lab host b with qemu-img hidden, with a ✗ line and the package to install', async () => {
    const result = await withoutQemuImg(admin, 'b', 'a', () => ferry('host', 'check', 'b'));
    expect(result.code, result.stdout).toBe(1);
    const lines = result.stdout.split('\n');
    const failed = lines.findIndex((line) => line.startsWith('✗ qemu-img: '));
    expect(failed, result.stdout).toBeGreaterThanOrEqual(0);
    expect(lines[failed + 1]).toMatch(/^ {4}.*apt install .*qemu-utils/);
    expect(lines.filter((line) => line.startsWith('✗'))).toHaveLength(1);
    expect(lines.at(-2)).toBe('b is missing what Ferry needs: 1 error');
  }, 60_000);

  it('prints the report as JSON with --json, and exits 2 for a bad host name', async () => {
    const json = await ferry('--json', 'host', 'check', 'a');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { host: string; ok: boolean; items: Array<{ check: string; level: string }> };
    expect(report).toMatchObject({ host: 'a', ok: true });
    expect(report.items.map((item) => item.check)).toContain('qemu-nbd');
    const bad = await ferry('host', 'check', 'no such host');
    expect(bad.code).toBe(2);
  }, 60_000);
});
