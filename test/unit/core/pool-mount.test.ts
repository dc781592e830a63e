import { describe, expect, it } from 'vitest';
import { definePool, startPool, stopPool, type PoolFile } from '../../../src-main/core/storage/pools.js';
import type { ExecResult } from '../../../src-main/core/ssh/transport.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import { rejection } from '../../support/rejection.js';

/**
 * The layer below pools.ts: a transport that records every command line and runs none of them
 * (they would mount and write under /var/lib/ferry on this machine). `mounted` answers mountpoint.
 */
class RecordingTransport extends LocalTransport {
  readonly commands: string[] = [];

  constructor(private readonly mounted: boolean) {
    super('recording');
  }

  override async exec(command: string): Promise<ExecResult> {
    this.commands.push(command);
    if (command.startsWith('mountpoint ')) return { code: this.mounted ? 0 : 1, stdout: '', stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  }
}

// As a pool file on a host could hold it: written before sources were checked, or by hand.
const pool: PoolFile = { name: 'nfs', type: 'netfs', path: '/mnt/vms', source: '-oremount:/x', autostart: true, started: false };

describe('netfs pools end mount and umount options with --', () => {
  it('mounts with -- before the source, so a source starting with "-" is not an option', async () => {
    const transport = new RecordingTransport(false);
    await startPool(transport, pool);
    expect(transport.commands).toContain('mount -t nfs -- -oremount:/x /mnt/vms');
  });

  it('unmounts with -- before the path', async () => {
    const transport = new RecordingTransport(true);
    await stopPool(transport, { ...pool, started: true });
    expect(transport.commands).toContain('umount -- /mnt/vms');
  });
});

describe('definePool', () => {
  it('refuses a sensitive path even when called without the input schema, naming the path and why', async () => {
    const transport = new RecordingTransport(false);
    const error = await rejection(definePool(transport, { host: 'a', pool: 'p', type: 'dir', path: '/home/alice/.ssh', autostart: true }));
    expect(error.code).toBe('invalid-input');
    expect(error.message).toContain('/home/alice/.ssh cannot hold a storage pool');
    expect(error.message).toContain('private keys');
    expect(transport.commands).toEqual([]);
  });
});
