import { describe, expect, it } from 'vitest';
import { parseJobStats, sampleFromJob } from '../../../src-main/core/libvirt/migration-job.js';
import { liveMigrateArgs, offlineMigrateArgs } from '../../../src-main/core/libvirt/migration-plan.js';
import type { LibvirtMigrationOptions } from '../../../src-main/core/libvirt/migration-plan.js';

// As virsh 9.0 prints `domjobinfo --rawstats` during a block migration's memory phase.
const RUNNING = `Job type: 2

operation: 5
time_elapsed: 2266
data_total: 201326592
data_processed: 100663296
data_remaining: 100663296
memory_total: 134217728
memory_processed: 33554432
memory_remaining: 100663296
memory_dirty_rate: 250
memory_page_size: 4096
memory_iteration: 2
memory_postcopy_requests: 0
downtime: 310
disk_total: 67108864
disk_processed: 67108864
disk_remaining: 0
`;

const options = (overrides: Partial<LibvirtMigrationOptions> = {}): LibvirtMigrationOptions => ({
  vm: 'lv-one', from: 'la', to: 'lb', mode: 'block', incremental: false, keepState: false, noStart: false, shutdownTimeoutMs: 60_000, transport: 'tcp',
  reuseImages: false, autoConverge: false, postcopy: false, overwriteDevices: [], ...overrides,
});

describe('libvirt job statistics as Ferry migration samples', () => {
  it('reads the raw statistics virsh prints', () => {
    const stats = parseJobStats(RUNNING);
    expect(stats.jobType).toBe(2);
    expect(stats.memory).toEqual({ processed: 33554432, remaining: 100663296, total: 134217728 });
    expect(stats.disk).toEqual({ processed: 67108864, remaining: 0, total: 67108864 });
    expect(stats.iteration).toBe(2);
    expect(stats.downtimeMs).toBe(310);
    expect(stats.setupTimeMs).toBeNull();
  });

  it('maps memory, disk, dirty rate, expected downtime and throughput into one sample', () => {
    const stats = parseJobStats(RUNNING);
    const first = sampleFromJob({ ...stats, memory: { ...stats.memory, processed: 0 }, disk: { ...stats.disk, processed: 33554432, remaining: 33554432 } }, undefined, 1000, [{ device: 'vda', path: '/img/one.qcow2' }]);
    expect(first.phase).toBe('copying-disks');
    expect(first.throughputBps).toBe(0);
    const second = sampleFromJob(stats, first, 2000, [{ device: 'vda', path: '/img/one.qcow2' }]);
    expect(second.phase).toBe('memory');
    expect(second.pass).toBe(2);
    expect(second.ram).toEqual({ transferredBytes: 33554432, remainingBytes: 100663296, totalBytes: 134217728 });
    expect(second.disks).toEqual([{ device: 'vda', path: '/img/one.qcow2', transferredBytes: 67108864, remainingBytes: 0, totalBytes: 67108864 }]);
    expect(second.dirtyRateBps).toBe(250 * 4096);
    expect(second.expectedDowntimeMs).toBe(310);
    // 64 MiB more moved (32 MiB of disk, 32 MiB of memory) in one second.
    expect(second.throughputBps).toBe(67108864);
    expect(second.timeLeftMs).toBe(Math.round((100663296 / 67108864) * 1000));
  });

  it('keeps the disks copied when a later job has no disk counters (the destination\'s completed job)', () => {
    const stats = parseJobStats(RUNNING);
    const disks = [{ device: 'vda', path: '/img/one.qcow2' }];
    const copying = sampleFromJob({ ...stats, disk: { processed: 64 << 20, remaining: 0, total: 64 << 20 } }, undefined, 1000, disks);
    const completed = sampleFromJob({ ...stats, disk: { processed: 0, remaining: 0, total: 0 } }, copying, 2000, disks);
    expect(completed.disks).toEqual([{ device: 'vda', path: '/img/one.qcow2', transferredBytes: 64 << 20, remainingBytes: 0, totalBytes: 64 << 20 }]);
    expect(completed.throughputBps).toBeGreaterThanOrEqual(0);
  });

  it('splits libvirt\'s one disk counter over several disks without losing bytes', () => {
    const stats = parseJobStats(RUNNING);
    const sample = sampleFromJob({ ...stats, disk: { processed: 7, remaining: 2, total: 9 } }, undefined, 0, [{ device: 'vda', path: '/a' }, { device: 'vdb', path: '/b' }]);
    expect(sample.disks.reduce((sum, disk) => sum + disk.transferredBytes, 0)).toBe(7);
    expect(sample.disks.reduce((sum, disk) => sum + disk.totalBytes, 0)).toBe(9);
  });
});

describe('virsh migrate arguments', () => {
  const uri = 'qemu+unix:///system?socket=/run/ferry/libvirt-x.sock';
  it('block: p2p through the forwarded socket, disks copied, data straight to the destination address', () => {
    const args = liveMigrateArgs(options({ bandwidthMiBps: 2.4 }), uri, '10.0.0.2');
    expect(args).toEqual(['migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--verbose', '--copy-storage-all', '--bandwidth', '2', 'lv-one', uri, '--migrateuri', 'tcp://10.0.0.2', '--disks-uri', 'tcp://10.0.0.2']);
  });

  it('incremental copies the top layer; postcopy is allowed only when asked', () => {
    const args = liveMigrateArgs(options({ incremental: true, postcopy: true }), uri, 'fd00::2');
    expect(args).toContain('--copy-storage-inc');
    expect(args).toContain('--postcopy');
    expect(args).toContain('tcp://[fd00::2]');
  });

  it('live: --unsafe only when Ferry proved the disks are the same files on both hosts', () => {
    expect(liveMigrateArgs(options({ mode: 'live' }), uri, '10.0.0.2', true)).toContain('--unsafe');
    expect(liveMigrateArgs(options({ mode: 'live' }), uri, '10.0.0.2', false)).not.toContain('--unsafe');
    expect(liveMigrateArgs(options({ mode: 'block' }), uri, '10.0.0.2', true)).not.toContain('--unsafe');
  });

  it('offline moves only the definition', () => {
    expect(offlineMigrateArgs(options({ mode: 'offline' }), uri)).toEqual(['migrate', '--offline', '--p2p', '--persistent', '--undefinesource', 'lv-one', uri]);
  });
});
