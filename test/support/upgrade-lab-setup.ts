import { qemuLabSetup } from './qemu-lab-setup.js';

// Project "upgrade": host a runs QEMU 7.2, host b QEMU 10.0 (a rolling upgrade's direction a → b).
export const { setup, teardown } = qemuLabSetup(['7.2', '10.0']);
