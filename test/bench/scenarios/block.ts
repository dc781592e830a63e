import { articleRun } from '../baselines/article.js';
import type { BytesNeeded, LinkResult } from '../baselines/link.js';
import { libvirtRun } from '../baselines/libvirt.js';
import { tunedRun } from '../baselines/tuned.js';
import { STANDARD_GUEST } from '../guest-setup.js';
import type { BenchContext, ScenarioResult } from '../types.js';
import { repeatInterleaved, scenarioResult } from './common.js';
import { ferryRun } from './ferry-run.js';

/** 1. Live block migration: 256 MiB guest, 1 GiB qcow2 with 200 MiB written, guest writing to it. */
export async function blockScenario(ctx: BenchContext, needed: BytesNeeded, link: LinkResult): Promise<ScenarioResult> {
  const spec = STANDARD_GUEST;
  const runs = await repeatInterleaved(ctx, 'block', [
    ['ferry', () => ferryRun(ctx, { variant: 'ferry', kind: 'blk', spec, mode: 'block', options: { transport: 'tcp' } })],
    ['ferry-tls', () => ferryRun(ctx, { variant: 'ferry-tls', kind: 'blk', spec, mode: 'block', options: { transport: 'tls' } })],
    ['article', () => articleRun(ctx, { kind: 'blk', spec, mode: 'block' })],
    ['tuned', () => tunedRun(ctx, { kind: 'blk', spec, mode: 'block' })],
    ['libvirt', () => libvirtRun(ctx, { kind: 'blk', spec, mode: 'block' })],
  ]);
  return scenarioResult('block', 'live with block copy, local disks (1 GiB qcow2, 200 MiB written, guest writing)', runs, { needed, link, ram: true, disk: true }, [
    'article = legacy `migrate blk:true` (7.2 `block` capability, named -drive), 128 MiB/s and 300 ms defaults; it copies the whole virtual size.',
    'libvirt = libvirt 9.0 `virsh migrate --live --copy-storage-all` between per-host libvirtds (TCP, defaults), destination image made first.',
  ]);
}
