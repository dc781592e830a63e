import { labDown, labStatus, labUp } from '../lab/lab.js';
import type { LabQemu } from '../lab/types.js';

/**
 * For the projects that run the migration tests on other QEMU pairs: brings the lab to `pair` (host
 * a, host b) before the files run, and back to what it was after. Run on their own (`vitest run
 * --project upgrade`), never next to the "lab" project, whose hosts this restarts.
 */
export function qemuLabSetup(pair: readonly [LabQemu, LabQemu]): { setup(): Promise<void>; teardown(): Promise<void> } {
  let restore: (() => Promise<unknown>) | undefined;
  const log = (line: string) => console.log(line);
  return {
    async setup() {
      if (process.getuid?.() !== 0) throw new Error(`The QEMU ${pair.join('→')} tests restart lab hosts with another QEMU, which needs root: run them as root (test/run-all.sh does).`);
      const before = labStatus();
      const previous = before?.hosts.map((host) => host.qemu);
      if (before && previous?.[0] === pair[0] && previous[1] === pair[1]) return;
      console.log(`The lab's hosts a and b run QEMU ${pair[0]} and ${pair[1]} for these tests.`);
      await labUp({ qemu: { 0: pair[0], 1: pair[1] }, log });
      restore = before ? () => labUp({ qemu: Object.fromEntries((previous ?? []).map((version, index) => [index, version])), log }) : () => labDown({ log });
    },
    async teardown() {
      await restore?.();
    },
  };
}
