/**
 * A VM's whole life on a lab host through the real engine and real QEMU: define, start, serial
 * heartbeats, pause, resume, a client restart, a dropped SSH connection, shutdown, destroy,
 * undefine, and adopting a QEMU started by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvents } from '../../../src-main/core/api/contract.js';
import { FerryEngine } from '../../../src-main/core/engine.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { run } from '../../lab/exec.js';
import { heartbeats, rejection, sleep, waitFor } from './helpers.js';

const VM = 'eng-vm';
const HAND = 'eng-hand';
const HAND_SOCKET = '/run/eng-hand.qmp';
const HAND_PID = '/run/eng-hand.pid';
const POOL = 'eng-vm-pool';
const POOL_PATH = '/var/lib/ferry/eng-vm-pool';
let lab: LabEngine;
let diskPath: string;
let pid: number;

/** A shell command on host a over the engine's own (already open) SSH connection. */
async function onHost(command: string): Promise<string> {
  return (await lab.engine.transport('a')).run(command);
}

async function serialBeats(engine: FerryEngine = lab.engine): Promise<number[]> {
  return heartbeats((await engine.call('vms.serial', { host: 'a', name: VM, tailBytes: 4096 })).text);
}

/** Waits until the guest prints a heartbeat above `above`; returns the newest one. */
async function beatAbove(above: number, timeoutMs = 90_000): Promise<number> {
  return waitFor(`a heartbeat above ${above}`, async () => {
    const last = (await serialBeats()).at(-1);
    return last !== undefined && last > above ? last : undefined;
  }, timeoutMs, 300);
}

async function qemuProcesses(name: string): Promise<string> {
  return onHost(`for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline 2>/dev/null | grep -q "^qemu-system-x86_64 -name guest=${name}," && echo \${d#/proc/}; done; true`);
}

async function cleanup(): Promise<void> {
  for (const name of [VM, HAND]) {
    await lab.engine.call('vms.destroy', { host: 'a', name }).catch(() => undefined);
    await lab.engine.call('vms.undefine', { host: 'a', name }).catch(() => undefined);
  }
  await lab.engine.call('pools.delete', { host: 'a', pool: POOL }).catch(() => undefined);
  await onHost(`if [ -s ${HAND_PID} ]; then kill -9 $(cat ${HAND_PID}) 2>/dev/null; fi; rm -rf ${HAND_PID} ${HAND_SOCKET} /var/lib/ferry/vms/${HAND}.json /run/ferry/${HAND}.pid /var/lib/ferry/logs/${VM}.serial.log ${POOL_PATH}; true`);
}

beforeAll(async () => {
  lab = await labEngine();
  await cleanup();
  await lab.engine.call('pools.define', { host: 'a', pool: POOL, type: 'dir', path: POOL_PATH });
  diskPath = (await lab.engine.call('volumes.create', { host: 'a', pool: POOL, name: `${VM}.qcow2`, capacity: '16M' })).path;
});

afterAll(async () => {
  if (lab) {
    await cleanup();
    await lab.engine.close();
  }
});

/** `gone` once the process has exited: reaped, or a zombie init has yet to collect (it holds nothing but its pid). */
function processState(pid: number): string {
  return `if [ -e /proc/${pid} ] && ! grep -q ') Z ' /proc/${pid}/stat 2>/dev/null; then echo alive; else echo gone; fi`;
}

describe('VM lifecycle', () => {
  it('defines a VM: shut off, definition stored 0600 with the versioned machine type', async () => {
    const defined = await lab.engine.call('vms.define', {
      host: 'a', name: VM, memoryMiB: 128, vcpus: 1, accel: 'tcg', disks: [{ path: diskPath }],
      kernel: lab.lab.guest.kernel, initrd: lab.lab.guest.initrd, append: 'console=ttyS0 quiet',
    });
    expect(defined).toMatchObject({ name: VM, host: 'a', state: 'shutoff', defined: true, memoryMiB: 128, vcpus: 1 });
    expect(defined.pid).toBeUndefined();
    expect(defined.definition).toMatchObject({ machineType: 'pc-q35-7.2', accel: 'tcg', cpuModel: 'Nehalem-v1', disks: [{ path: diskPath, format: 'qcow2', cache: 'none' }], kernel: { path: lab.lab.guest.kernel, initrd: lab.lab.guest.initrd } });
    expect(await lab.engine.call('vms.info', { host: 'a', name: VM })).toEqual(defined);
    expect(defined.diskUsage).toEqual([{ path: diskPath, virtualSizeBytes: 16 * 1024 * 1024, allocationBytes: expect.any(Number), backingFile: null }]);
    expect(await onHost(`stat -c '%a %U' /var/lib/ferry/vms/${VM}.json`)).toBe('600 root\n');
    expect((await lab.engine.call('vms.list', { host: 'a' })).find((vm) => vm.name === VM)).toMatchObject({ state: 'shutoff', defined: true });
    expect((await rejection(lab.engine.call('vms.define', { host: 'a', name: VM, memoryMiB: 64, vcpus: 1 }))).code).toBe('already-exists');
    expect((await rejection(lab.engine.call('vms.define', { host: 'a', name: 'eng-vm-nodisk', memoryMiB: 64, vcpus: 1, disks: [{ path: `${POOL_PATH}/missing.qcow2` }] }))).code).toBe('not-found');
    expect((await rejection(lab.engine.call('vms.define', { host: 'a', name: 'eng-vm-fmt', memoryMiB: 64, vcpus: 1, disks: [{ path: diskPath, format: 'raw' }] }))).code).toBe('invalid-input');
    expect((await rejection(lab.engine.call('vms.pause', { host: 'a', name: VM }))).code).toBe('busy');
  });

  it('starts it: running, and the serial console shows increasing heartbeats', async () => {
    const started = await lab.engine.call('vms.start', { host: 'a', name: VM });
    expect(started.state).toBe('running');
    expect(started.qemuStatus).toBe('running');
    // Read while QEMU holds the image locked.
    expect(started.diskUsage[0]?.virtualSizeBytes).toBe(16 * 1024 * 1024);
    pid = started.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    expect((await qemuProcesses(VM)).trim()).toBe(String(pid));
    const first = await beatAbove(0);
    const later = await beatAbove(first + 2);
    expect(later).toBeGreaterThan(first);
    const beats = await serialBeats();
    expect(beats.every((beat, index) => index === 0 || beat === (beats[index - 1] ?? 0) + 1)).toBe(true);
    expect((await rejection(lab.engine.call('vms.start', { host: 'a', name: VM }))).code).toBe('busy');
  });

  it('pauses it: heartbeats stop; a restarted client finds it paused by its QMP socket', async () => {
    const paused = await lab.engine.call('vms.pause', { host: 'a', name: VM });
    expect(paused).toMatchObject({ state: 'paused', qemuStatus: 'paused', pid });
    await sleep(500);
    const frozen = (await serialBeats()).at(-1);
    await sleep(2_000);
    expect((await serialBeats()).at(-1)).toBe(frozen);

    // A new client with a new FERRY_HOME and its own connection: nothing in memory is shared.
    const restarted = await labEngine();
    try {
      expect(await restarted.engine.call('vms.info', { host: 'a', name: VM })).toMatchObject({ state: 'paused', qemuStatus: 'paused', pid, defined: true, qmpSocket: `/run/ferry/${VM}.qmp` });
      expect((await restarted.engine.call('vms.list', { host: 'a' })).find((vm) => vm.name === VM)).toMatchObject({ state: 'paused', pid });
      expect((await serialBeats(restarted.engine)).at(-1)).toBe(frozen);
    } finally {
      await restarted.engine.close();
    }
  });

  it('resumes it: heartbeats go on from where they stopped', async () => {
    const frozen = (await serialBeats()).at(-1) ?? 0;
    expect(await lab.engine.call('vms.resume', { host: 'a', name: VM })).toMatchObject({ state: 'running', pid });
    const next = await beatAbove(frozen, 30_000);
    expect(next).toBeGreaterThan(frozen);
    const beats = await serialBeats();
    expect(beats).toContain(frozen + 1);
  });

  it('refuses to undefine a running VM', async () => {
    const error = await rejection(lab.engine.call('vms.undefine', { host: 'a', name: VM }));
    expect(error.code).toBe('busy');
    expect(await onHost(`test -f /var/lib/ferry/vms/${VM}.json && echo kept`)).toBe('kept\n');
  });

  it('keeps QMP working after the SSH connection drops', async () => {
    const events: Array<EngineEvents['host-state']> = [];
    const stop = lab.engine.onEvent((event) => {
      if (event.name === 'host-state' && event.payload.host === 'a') events.push(event.payload);
    });
    try {
      await onHost('true');
      const host = lab.labHost('a');
      // This test process's connection to host a, seen from the root namespace...
      const mine = await run('ss', ['-Htnp', 'state', 'established', 'dst', `${host.address}:22`]);
      const ports = mine.stdout.split('\n').filter((line) => line.includes(`pid=${process.pid},`)).map((line) => Number(/:(\d+)\s+\S+:22\b/.exec(line)?.[1]));
      expect(ports).toHaveLength(1);
      // ...and the sshd processes serving exactly that connection inside the host's namespace.
      const served = await run('ip', ['netns', 'exec', host.netns, 'ss', '-Htnp', 'state', 'established', 'sport', '22', 'dport', String(ports[0])]);
      const sshdPids = [...new Set([...served.stdout.matchAll(/"sshd",pid=(\d+)/g)].map((match) => Number(match[1])))];
      const inNamespace = (await run('ip', ['netns', 'pids', host.netns])).stdout.split(/\s+/).map(Number);
      expect(sshdPids.length).toBeGreaterThan(0);
      for (const sshd of sshdPids) {
        expect(sshd).not.toBe(host.sshdPid);
        expect(inNamespace).toContain(sshd);
      }
      await run('kill', ['-9', ...sshdPids.map(String)]);

      await waitFor('the engine to reconnect', async () => (events.some((event) => event.state === 'lost') && events.at(-1)?.state === 'connected' ? true : undefined), 30_000, 100);
      const states = events.map((event) => event.state);
      expect(states.slice(states.indexOf('lost'))).toEqual(['lost', 'connecting', 'connected']);
      expect(events.find((event) => event.state === 'lost')?.reason).toMatch(/closed unexpectedly/);

      expect(await lab.engine.call('vms.info', { host: 'a', name: VM })).toMatchObject({ state: 'running', pid });
      expect(await lab.engine.call('vms.pause', { host: 'a', name: VM })).toMatchObject({ state: 'paused', pid });
      expect(await lab.engine.call('vms.resume', { host: 'a', name: VM })).toMatchObject({ state: 'running', pid });
      const after = await run('ss', ['-Htnp', 'state', 'established', 'dst', `${host.address}:22`]);
      const newPorts = after.stdout.split('\n').filter((line) => line.includes(`pid=${process.pid},`)).map((line) => Number(/:(\d+)\s+\S+:22\b/.exec(line)?.[1]));
      expect(newPorts).toHaveLength(1);
      expect(newPorts[0]).not.toBe(ports[0]);
      expect((await lab.engine.call('hosts.list', {})).find((entry) => entry.name === 'a')?.state).toBe('connected');
    } finally {
      stop();
    }
  });

  it('shuts it down: the guest ignores ACPI, so it is forced off after the timeout; no QEMU is left', async () => {
    const started = Date.now();
    const off = await lab.engine.call('vms.shutdown', { host: 'a', name: VM, timeoutMs: 1_500 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(off).toMatchObject({ state: 'shutoff', defined: true });
    expect(off.pid).toBeUndefined();
    expect(await onHost(processState(pid))).toBe('gone\n');
    expect(await qemuProcesses(VM)).toBe('');
    expect(await onHost(`ls /run/ferry/${VM}.pid /run/ferry/${VM}.qmp 2>/dev/null; true`)).toBe('');
    expect((await rejection(lab.engine.call('vms.shutdown', { host: 'a', name: VM, timeoutMs: 1_000 }))).code).toBe('busy');
  });

  it('starts again, is destroyed, then undefined', async () => {
    const again = await lab.engine.call('vms.start', { host: 'a', name: VM });
    expect(again.state).toBe('running');
    const destroyed = await lab.engine.call('vms.destroy', { host: 'a', name: VM });
    expect(destroyed.state).toBe('shutoff');
    expect(await onHost(processState(again.pid ?? 0))).toBe('gone\n');
    expect(await qemuProcesses(VM)).toBe('');
    // Nothing of that QEMU is left in the run directory (pid file, monitor, VNC and serial sockets).
    expect(await onHost(`ls /run/ferry/ | grep -F ${VM}. ; true`)).toBe('');
    expect(await lab.engine.call('vms.undefine', { host: 'a', name: VM })).toEqual({ undefined: VM });
    expect(await onHost(`ls /var/lib/ferry/vms/${VM}.json 2>/dev/null; true`)).toBe('');
    expect((await rejection(lab.engine.call('vms.info', { host: 'a', name: VM }))).code).toBe('not-found');
    // The disk was kept.
    expect((await lab.engine.call('volumes.info', { host: 'a', pool: POOL, name: `${VM}.qcow2` })).path).toBe(diskPath);
  });
});

describe('adopting a QEMU started by hand', () => {
  it('finds it by its QMP socket and lists it as running', async () => {
    await lab.sh('a', `qemu-system-x86_64 -machine none -nodefaults -display none -qmp unix:${HAND_SOCKET},server=on,wait=off -pidfile ${HAND_PID} -daemonize`);
    const handPid = Number((await onHost(`cat ${HAND_PID}`)).trim());
    const adopted = await lab.engine.call('vms.adopt', { host: 'a', name: HAND, qmpSocket: HAND_SOCKET });
    expect(adopted).toMatchObject({ name: HAND, state: 'running', pid: handPid, defined: true, qmpSocket: HAND_SOCKET });
    expect(adopted.definition?.adopted?.qmpSocket).toBe(HAND_SOCKET);
    expect(adopted.definition?.adopted?.argv.slice(0, 3)).toEqual(['qemu-system-x86_64', '-machine', 'none']);
    expect(adopted.definition?.machineType).toBe('none');
    // -machine none has no RAM and no CPUs; the stored definition must still be readable.
    expect(adopted).toMatchObject({ memoryMiB: 0, vcpus: 0 });
    expect(await onHost(`stat -c %a /var/lib/ferry/vms/${HAND}.json`)).toBe('600\n');
    expect((await lab.engine.call('vms.list', { host: 'a' })).find((vm) => vm.name === HAND)).toMatchObject({ state: 'running', pid: handPid, defined: true });

    // Found again by a restarted client, paused and resumed through its own socket.
    const restarted = await labEngine();
    try {
      expect(await restarted.engine.call('vms.pause', { host: 'a', name: HAND })).toMatchObject({ state: 'paused', pid: handPid });
    } finally {
      await restarted.engine.close();
    }
    expect(await lab.engine.call('vms.resume', { host: 'a', name: HAND })).toMatchObject({ state: 'running' });
    expect((await rejection(lab.engine.call('vms.start', { host: 'a', name: HAND }))).code).toBe('busy');
    expect((await rejection(lab.engine.call('vms.adopt', { host: 'a', name: HAND, qmpSocket: HAND_SOCKET }))).code).toBe('already-exists');
    expect((await rejection(lab.engine.call('vms.adopt', { host: 'a', name: 'eng-hand2', qmpSocket: '/run/eng-no-such.qmp' }))).code).toBe('not-found');

    expect((await lab.engine.call('vms.destroy', { host: 'a', name: HAND })).state).toBe('shutoff');
    expect(await onHost(processState(handPid))).toBe('gone\n');
    expect(await lab.engine.call('vms.undefine', { host: 'a', name: HAND })).toEqual({ undefined: HAND });
  });
});

describe('a damaged definition file on the host', () => {
  const DAMAGED = 'eng-damaged';
  const DAMAGED_POOL = 'eng-damaged-pool';
  const files = [`/var/lib/ferry/vms/${DAMAGED}.json`, `/var/lib/ferry/pools/${DAMAGED_POOL}.json`];

  it('is listed with what is wrong, and hides neither the other VMs nor the other pools', async () => {
    const healthy = 'eng-healthy';
    try {
      await lab.engine.call('vms.define', { host: 'a', name: healthy, memoryMiB: 32, vcpus: 1, disks: [{ path: diskPath }] });
      await onHost(`mkdir -p /var/lib/ferry/pools && printf '{"name": "${DAMAGED}", "memoryMiB": ' > ${files[0]} && printf '{"name": "${DAMAGED_POOL}", "type": "tape"}' > ${files[1]}`);
      const vms = await lab.engine.call('vms.list', { host: 'a' });
      expect(vms.find((vm) => vm.name === healthy)).toMatchObject({ defined: true, state: 'shutoff', memoryMiB: 32 });
      expect(vms.find((vm) => vm.name === DAMAGED)).toMatchObject({ state: 'shutoff', defined: false, problem: `${files[0]} is damaged (not valid JSON); repair or remove it on the host` });
      const pools = await lab.engine.call('pools.list', { host: 'a' });
      expect(pools.find((pool) => pool.name === POOL)).toMatchObject({ active: true });
      const damagedPool = pools.find((pool) => pool.name === DAMAGED_POOL);
      expect(damagedPool).toMatchObject({ active: false });
      expect(damagedPool?.problem).toContain(`${files[1]} is damaged (type:`);
      // Using it directly names the file rather than guessing.
      const error = await rejection(lab.engine.call('pools.start', { host: 'a', pool: DAMAGED_POOL }));
      expect(error.message).toContain(files[1]);
    } finally {
      await onHost(`rm -f ${files.join(' ')}`);
      await lab.engine.call('vms.undefine', { host: 'a', name: healthy }).catch(() => undefined);
    }
  });
});
