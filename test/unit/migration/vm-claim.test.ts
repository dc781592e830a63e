import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireScript, claimedError, claimLine, parseClaim, rewriteScript } from '../../../src-main/core/migration/vm-claim.js';

// The claim scripts run on a host's /bin/sh; here they run on this machine's, against a temp dir.
const sh = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
const owner = { pid: 4242, bootId: 'b00t', machine: 'desk one' };

describe('VM claims on a host', () => {
  it('the first claim wins; the second learns who holds it', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ferry-claims-'));
    expect(sh(acquireScript('web', 'm-1', owner, directory))).toMatchObject({ status: 0, stdout: 'claimed\n' });
    const second = sh(acquireScript('web', 'm-2', { ...owner, pid: 7 }, directory));
    expect(second.status).toBe(1);
    expect(parseClaim(second.stdout)).toEqual({ migration: 'm-1', machine: 'desk_one', pid: 4242, lease: 'live' });
    // Another VM's name is free.
    expect(sh(acquireScript('db', 'm-2', owner, directory)).status).toBe(0);
  });

  it('only the owner releases or holds it; a held claim never goes stale', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ferry-claims-'));
    const file = join(directory, 'web.lock');
    sh(acquireScript('web', 'm-1', owner, directory));
    expect(sh(rewriteScript('web', 'm-9', null, directory)).status).toBe(1);
    expect(readFileSync(file, 'utf8')).toContain('migration=m-1 ');
    expect(sh(rewriteScript('web', 'm-1', claimLine('m-1', owner, 'held'), directory)).status).toBe(0);
    const old = Date.now() / 1000 - 3600;
    utimesSync(file, old, old);
    const refused = sh(acquireScript('web', 'm-2', owner, directory));
    expect(parseClaim(refused.stdout)?.lease).toBe('held');
    expect(claimedError('a', 'web', parseClaim(refused.stdout)!).message).toContain('ended in doubt');
    expect(sh(rewriteScript('web', 'm-1', null, directory)).status).toBe(0);
    // A hold that arrives after the claim was released leaves nothing behind.
    expect(sh(rewriteScript('web', 'm-1', claimLine('m-1', owner, 'held'), directory)).status).toBe(1);
    expect(sh(acquireScript('web', 'm-2', owner, directory)).status).toBe(0);
  });

  it('a live lease nobody renewed for two minutes is taken over', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ferry-claims-'));
    const file = join(directory, 'web.lock');
    sh(acquireScript('web', 'm-dead', owner, directory));
    const recent = Date.now() / 1000 - 60;
    utimesSync(file, recent, recent);
    expect(sh(acquireScript('web', 'm-2', owner, directory)).status).toBe(1);
    const old = Date.now() / 1000 - 600;
    utimesSync(file, old, old);
    expect(sh(acquireScript('web', 'm-2', owner, directory)).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('migration=m-2 ');
  });

  it('claims racing from many processes: exactly one wins', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ferry-claims-'));
    const script = join(directory, 'race.sh');
    writeFileSync(script, Array.from({ length: 12 }, (_, index) => `( ${acquireScript('web', `m-${index}`, owner, directory)} ) >/dev/null 2>&1 && echo won &`).join('\n') + '\nwait\n');
    const output = execFileSync('/bin/sh', [script], { encoding: 'utf8' });
    expect(output.trim().split('\n')).toEqual(['won']);
  });
});
