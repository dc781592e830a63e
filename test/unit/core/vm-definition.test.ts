import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VmDefinition } from '../../../src-main/core/api/types.js';
import { damagedProblem, readJsonDirectory, readJsonFile } from '../../../src-main/core/remote/json-files.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import { vmDefinitionSchema } from '../../../src-main/core/vm/definition.js';
import { rejection } from '../../support/rejection.js';

const good: VmDefinition = {
  name: 'web',
  memoryMiB: 128,
  vcpus: 1,
  machineType: 'pc-q35-7.2',
  cpuModel: 'qemu64',
  accel: 'tcg',
  disks: [{ path: '/var/lib/ferry/images/web.qcow2', format: 'qcow2', cache: 'none' }],
  nic: null,
  kernel: { path: '/boot/vmlinuz', initrd: '/boot/initrd.img', append: 'console=ttyS0' },
  createdAt: '2026-01-01T00:00:00.000Z',
};
const withDisk = (path: string): VmDefinition => ({ ...good, disks: [{ path, format: 'raw', cache: 'none' }] });

function reason(value: unknown): string {
  const result = vmDefinitionSchema.safeParse(value);
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join(' | ') ?? '';
}

describe('vmDefinitionSchema re-validates what a host hands back', () => {
  it('accepts a definition Ferry writes', () => {
    expect(vmDefinitionSchema.parse(good)).toEqual(good);
  });

  it.each([
    ['../../etc/cron.d/x', 'absolute'],
    ['/var/lib/ferry/images/../../../../etc/cron.d/x', 'normalised'],
    ['/var/lib/ferry/images/a\nb', 'line breaks'],
    ['/var/lib/ferry/images/a\0b', 'NUL'],
    ['/etc/cron.d/ferry', 'inside /etc'],
    ['/root/.ssh/authorized_keys', '.ssh'],
    ['/dev/mem', 'never a disk'],
    ['/var/lib/ferry/vms/other/definition.json', "Ferry's VM definitions"],
    ['/run/ferry/other.qmp', "Ferry's VM sockets"],
    ['/usr/bin/qemu-system-x86_64', 'installed software'],
  ])('refuses the disk path %j', (path, why) => {
    const text = reason(withDisk(path));
    expect(text).toContain('disks.0.path');
    expect(text).toContain(why);
  });

  it('refuses kernel and initrd paths out of bounds', () => {
    expect(reason({ ...good, kernel: { path: 'vmlinuz' } })).toContain('kernel.path');
    expect(reason({ ...good, kernel: { path: '/boot/vmlinuz', initrd: '/etc/shadow' } })).toContain('kernel.initrd');
  });

  it('holds the name to the VM-name rule', () => {
    expect(reason({ ...good, name: '../x' })).toContain('VM names');
    expect(reason({ ...good, name: '-rf' })).toContain('VM names');
  });
});

describe('a hostile definition on a host shows as damaged, not used (real shell)', () => {
  const transport = new LocalTransport('unit');
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ferry-vm-definitions-'));
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'good.json'), JSON.stringify({ ...good, name: 'good' }));
    await writeFile(join(directory, 'evil.json'), JSON.stringify({ ...withDisk('/root/.ssh/authorized_keys'), name: 'evil' }));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('lists the good one and reports the bad one with its problem', async () => {
    const listed = await readJsonDirectory(transport, directory, vmDefinitionSchema);
    expect(listed.entries.map((entry) => entry.name)).toEqual(['good']);
    expect(listed.damaged).toHaveLength(1);
    const problem = damagedProblem(listed.damaged[0]!);
    expect(problem).toContain(join(directory, 'evil.json'));
    expect(problem).toContain('disks.0.path');
    expect(problem).toContain('/root/.ssh/authorized_keys cannot be a VM disk');
  });

  it('refuses to load it by name', async () => {
    const error = await rejection(readJsonFile(transport, join(directory, 'evil.json'), vmDefinitionSchema));
    expect(error.message).toContain('is damaged');
    expect(error.message).toContain('.ssh');
  });
});
