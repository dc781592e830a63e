import { qemuLabSetup } from './qemu-lab-setup.js';

// Project "qemu10": both hosts run QEMU 10.0.
export const { setup, teardown } = qemuLabSetup(['10.0', '10.0']);
