import { describe, expect, it } from 'vitest';
import { migrationInput } from '../../../src-main/core/api/contract.js';
import { migrationParameters, wantedCapabilities } from '../../../src-main/core/migration/capabilities.js';
import { availableModes } from '../../../src-main/core/migration/preflight.js';
import type { PlannedDisk } from '../../../src-main/core/migration/run-context.js';

const disk = (path: string, shared: boolean): PlannedDisk => ({
  shared,
  destinationPath: path,
  source: { index: 0, device: 'ferry-disk0', disk: { path, format: 'qcow2', cache: 'none' }, virtualSizeBytes: 1, allocatedBytes: 1, chainAllocatedBytes: 1, backing: [], isBlockDevice: false },
});

describe('availableModes', () => {
  it('offers live for a running VM on shared storage', () => {
    const modes = availableModes('running', [disk('/srv/shared/a.qcow2', true)]);
    expect(modes.find((mode) => mode.mode === 'live')).toMatchObject({ possible: true, recommended: true });
    expect(modes.find((mode) => mode.mode === 'block')).toMatchObject({ possible: true, recommended: false });
  });

  it('offers block, and names the local disk, when a disk is not shared', () => {
    const modes = availableModes('running', [disk('/var/lib/ferry/images/a.qcow2', false)]);
    expect(modes.find((mode) => mode.mode === 'live')).toMatchObject({ possible: false, reason: expect.stringContaining('a.qcow2') });
    expect(modes.find((mode) => mode.mode === 'block')).toMatchObject({ possible: true, recommended: true });
  });

  it('offers only offline for a stopped VM', () => {
    const modes = availableModes('shutoff', [disk('/x/a.qcow2', false)]);
    expect(modes.filter((mode) => mode.possible).map((mode) => mode.mode)).toEqual(['offline']);
    expect(modes.find((mode) => mode.mode === 'offline')?.recommended).toBe(true);
  });
});

describe('migration capabilities and parameters', () => {
  const options = (extra: Record<string, unknown> = {}) => migrationInput.parse({ vm: 'v', from: 'a', to: 'b', mode: 'block', ...extra });

  it('always asks for events and return-path, and pauses before switch-over only for a block copy', () => {
    expect(wantedCapabilities('source', options(), true)).toEqual(['events', 'return-path', 'pause-before-switchover']);
    expect(wantedCapabilities('source', options(), false)).toEqual(['events', 'return-path']);
    expect(wantedCapabilities('destination', options(), true)).toEqual(['events', 'return-path', 'late-block-activate']);
    expect(wantedCapabilities('source', options({ postcopy: true, multifd: 4, autoConverge: true }), false)).toEqual(['events', 'return-path', 'postcopy-ram', 'multifd', 'auto-converge']);
  });

  it('lifts QEMU\'s 128 MiB/s default unless a limit is given, and sets multifd and TLS on both sides', () => {
    // Ferry's 100 ms downtime limit unless the user gives one (QEMU's own 300 ms let guests pause for up to that).
    expect(migrationParameters('source', options(), null)).toEqual({ 'tls-creds': '', 'max-bandwidth': 0, 'downtime-limit': 100 });
    expect(migrationParameters('source', options({ bandwidthMiBps: 100, downtimeMs: 500 }), null)).toEqual({ 'tls-creds': '', 'max-bandwidth': 100 * 1024 * 1024, 'downtime-limit': 500 });
    expect(migrationParameters('destination', options({ multifd: 4 }), 'ferry-tls0')).toEqual({ 'multifd-channels': 4, 'tls-creds': 'ferry-tls0' });
    // A steeper throttle than QEMU's default, on the source only.
    expect(migrationParameters('source', options({ autoConverge: true }), null)).toEqual({ 'tls-creds': '', 'max-bandwidth': 0, 'downtime-limit': 100, 'cpu-throttle-initial': 40, 'cpu-throttle-increment': 20 });
    expect(migrationParameters('destination', options({ autoConverge: true }), null)).toEqual({ 'tls-creds': '' });
    // The user's limit holds in postcopy too, where QEMU has a limit of its own.
    expect(migrationParameters('source', options({ postcopy: true, bandwidthMiBps: 4 }), null)).toMatchObject({ 'max-bandwidth': 4 * 1024 * 1024, 'max-postcopy-bandwidth': 4 * 1024 * 1024 });
  });

  it('encrypts by default and never reuses destination images unless asked', () => {
    const parsed = migrationInput.parse({ vm: 'v', from: 'a', to: 'b', mode: 'block' });
    expect(parsed.transport).toBe('tls');
    expect(parsed.reuseImages).toBe(false);
  });

  it('validates migration input: names, probe and port', () => {
    expect(() => migrationInput.parse({ vm: '$(id)', from: 'a', to: 'b', mode: 'live' })).toThrow();
    expect(() => migrationInput.parse({ vm: 'v', from: 'a', to: 'b', mode: 'live', probe: 'tcp:x;rm:1' })).toThrow();
    expect(() => migrationInput.parse({ vm: 'v', from: 'a', to: 'b', mode: 'live', port: 80 })).toThrow();
    expect(migrationInput.parse({ vm: 'v', from: 'a', to: 'b', mode: 'live', probe: 'tcp:10.0.0.5:7000' }).probe).toBe('tcp:10.0.0.5:7000');
  });
});
