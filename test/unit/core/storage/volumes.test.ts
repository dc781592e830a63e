import { describe, expect, it } from 'vitest';
import { LocalTransport } from '../../../../src-main/core/ssh/local.js';
import type { ExecResult } from '../../../../src-main/core/ssh/transport.js';
import type { PoolFile } from '../../../../src-main/core/storage/pools.js';
import { createVolume, deleteVolume } from '../../../../src-main/core/storage/volumes.js';
import { rejection } from '../../../support/rejection.js';

/** Records commands and runs none: a refused change must not reach the host at all. */
class RecordingTransport extends LocalTransport {
  readonly commands: string[] = [];

  constructor() {
    super('recording');
  }

  override async exec(command: string): Promise<ExecResult> {
    this.commands.push(command);
    return { code: 0, stdout: '', stderr: '' };
  }

  override async run(command: string): Promise<string> {
    this.commands.push(command);
    return '';
  }
}

const diskPool: PoolFile = { name: 'devs', type: 'disk', path: '/dev', autostart: true, started: true };

describe('volumes of a disk pool', () => {
  it('are never created: Ferry does not partition disks', async () => {
    const transport = new RecordingTransport();
    const error = await rejection(createVolume(transport, diskPool, { host: 'a', pool: 'devs', name: 'new', format: 'raw', capacity: 1 << 20, preallocation: 'off' }));
    expect(error).toMatchObject({ code: 'invalid-input' });
    expect(String(error)).toMatch(/disk pool: Ferry does not create block devices/);
    expect(transport.commands).toEqual([]);
  });

  it('are never deleted', async () => {
    const transport = new RecordingTransport();
    const error = await rejection(deleteVolume(transport, 'a', diskPool, 'loop3'));
    expect(error).toMatchObject({ code: 'invalid-input', hint: expect.stringMatching(/leaves devices alone/) });
    expect(transport.commands).toEqual([]);
  });
});
