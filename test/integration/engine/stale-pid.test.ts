/**
 * A pid file left behind by a QEMU that was killed may name another process once the kernel hands
 * its pid out again. Through the real engine and real QEMU on lab host a: such a pid file does
 * not make the VM look running, force-off and shutdown do not signal the unrelated process, and
 * the VM starts and is stopped as usual.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { uniqueName } from '../migration/guest.js';
import { rejection, waitFor } from './helpers.js';

let lab: LabEngine;
const VM = uniqueName('stale-pid');
const POOL = `${VM}-pool`;
const POOL_PATH = `/var/lib/ferry/${POOL}`;
const PID_FILE = `/run/ferry/${VM}.pid`;
/** Unrelated processes started for the test, killed at the end. */
const strangers: number[] = [];

async function onHost(command: string): Promise<string> {
  return lab.sh('a', command);
}

/** A process that has nothing to do with the VM, running on host a. */
async function startStranger(): Promise<number> {
  const pid = Number((await onHost('setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!')).trim());
  expect(pid).toBeGreaterThan(1);
  strangers.push(pid);
  return pid;
}

/** Running, or stopped; an exited process waiting to be reaped (a zombie) counts as gone. */
async function isAlive(pid: number): Promise<boolean> {
  const state = (await onHost(`ps -o stat= -p ${pid}; true`)).trim();
  return state !== '' && !state.startsWith('Z');
}

/** Pids of QEMU processes started for this VM, found by their command line, not by pid file. */
async function qemuPids(): Promise<string[]> {
  const output = await onHost(`for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline 2>/dev/null | grep -q "^qemu-system-x86_64 -name guest=${VM}," && echo \${d#/proc/}; done; true`);
  return output.split('\n').filter((line) => line !== '');
}

beforeAll(async () => {
  lab = await labEngine();
  await lab.engine.call('pools.define', { host: 'a', pool: POOL, type: 'dir', path: POOL_PATH });
  const disk = await lab.engine.call('volumes.create', { host: 'a', pool: POOL, name: `${VM}.qcow2`, capacity: '16M' });
  await lab.engine.call('vms.define', {
    host: 'a', name: VM, memoryMiB: 128, vcpus: 1, accel: 'tcg', disks: [{ path: disk.path }],
    kernel: lab.lab.guest.kernel, initrd: lab.lab.guest.initrd, append: 'console=ttyS0 quiet',
  });
});

afterAll(async () => {
  if (!lab) return;
  await lab.engine.call('vms.destroy', { host: 'a', name: VM }).catch(() => undefined);
  await lab.engine.call('vms.undefine', { host: 'a', name: VM }).catch(() => undefined);
  await lab.engine.call('pools.delete', { host: 'a', pool: POOL }).catch(() => undefined);
  await onHost(`kill ${strangers.join(' ')} 2>/dev/null; rm -rf ${POOL_PATH} ${PID_FILE} /var/lib/ferry/logs/${VM}.serial.log; true`);
  await lab.engine.close();
});

describe('a pid file naming an unrelated process', () => {
  it('leaves the VM shut off, and force-off and shutdown signal nothing', async () => {
    const stranger = await startStranger();
    await onHost(`mkdir -p /run/ferry && echo ${stranger} > ${PID_FILE}`);

    const info = await lab.engine.call('vms.info', { host: 'a', name: VM });
    expect(info).toMatchObject({ state: 'shutoff', defined: true });
    expect(info.pid).toBeUndefined();
    const listed = (await lab.engine.call('vms.list', { host: 'a' })).find((vm) => vm.name === VM);
    expect(listed).toMatchObject({ state: 'shutoff' });
    expect(listed?.pid).toBeUndefined();

    expect((await rejection(lab.engine.call('vms.destroy', { host: 'a', name: VM }))).code).toBe('busy');
    expect((await rejection(lab.engine.call('vms.shutdown', { host: 'a', name: VM, timeoutMs: 1_000 }))).code).toBe('busy');
    expect(await isAlive(stranger)).toBe(true);
  });

  it('does not keep the VM from starting; the new QEMU replaces the stale pid file', async () => {
    const [stranger] = strangers;
    const started = await lab.engine.call('vms.start', { host: 'a', name: VM });
    expect(started.state).toBe('running');
    expect(started.pid).toBeGreaterThan(0);
    expect(started.pid).not.toBe(stranger);
    expect(await qemuPids()).toEqual([String(started.pid)]);
    expect((await onHost(`cat ${PID_FILE}`)).trim()).toBe(String(started.pid));
    expect(await isAlive(stranger ?? 0)).toBe(true);
  });

  it('after QEMU is killed and its pid file left naming another process, force-off spares that process and the VM starts again', async () => {
    const running = await lab.engine.call('vms.info', { host: 'a', name: VM });
    const qemuPid = running.pid ?? 0;
    // SIGKILL: QEMU gets no chance to remove its pid file, as after an OOM kill or a crash.
    await onHost(`kill -9 ${qemuPid}`);
    await waitFor('QEMU to be gone', async () => ((await isAlive(qemuPid)) ? undefined : true), 10_000, 100);
    expect((await onHost(`cat ${PID_FILE}`)).trim()).toBe(String(qemuPid));
    // The kernel hands the pid out again; writing another process's pid stands for that.
    const stranger = await startStranger();
    await onHost(`echo ${stranger} > ${PID_FILE}`);

    expect((await lab.engine.call('vms.info', { host: 'a', name: VM })).state).toBe('shutoff');
    expect((await rejection(lab.engine.call('vms.destroy', { host: 'a', name: VM }))).code).toBe('busy');
    expect(await isAlive(stranger)).toBe(true);

    const again = await lab.engine.call('vms.start', { host: 'a', name: VM });
    expect(again.state).toBe('running');
    const destroyed = await lab.engine.call('vms.destroy', { host: 'a', name: VM });
    expect(destroyed.state).toBe('shutoff');
    expect(await isAlive(again.pid ?? 0)).toBe(false);
    expect(await qemuPids()).toEqual([]);
    expect(await onHost(`ls ${PID_FILE} 2>/dev/null; true`)).toBe('');
    for (const pid of strangers) expect(await isAlive(pid)).toBe(true);
  });
});
