import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostRegistry } from '../../../src-main/core/host/registry.js';
import { shellCommand } from '../../../src-main/core/ssh/shell.js';
import type { HostTransport } from '../../../src-main/core/ssh/transport.js';
import { freePorts } from '../../../src-main/core/migration/ports.js';
import { startTestListener } from '../../../src-main/core/migration/test-listener.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { waitFor } from './guest.js';

// A full run once refused every port qemu-nbd was offered: pre-flight's test listener had left its
// connections in TIME_WAIT there, and Linux lets a new bind share a TIME_WAIT port only if both
// sockets set SO_REUSEADDR. The listener sets it now, and free ports skip every socket's port.
let le: LabEngine;
let transportB: HostTransport;
const FIRST_PORT = 49900;

beforeAll(async () => {
  le = await labEngine();
  transportB = await le.engine.connections.get(await savedHost('b'));
});

afterAll(async () => {
  await le.sh('b', '[ -f /tmp/ferry-ports-test.pid ] && kill $(cat /tmp/ferry-ports-test.pid); rm -f /tmp/ferry-ports-test.*; true');
  await le.engine.close();
});

async function savedHost(name: string) {
  const host = (await new HostRegistry(join(le.home, 'hosts.json')).list()).find((saved) => saved.name === name);
  if (!host) throw new Error(`no saved host ${name}`);
  return host;
}

describe('a port pre-flight tested', () => {
  it('is in TIME_WAIT on the destination afterwards, skipped by freePorts, and qemu-nbd can still bind it', async () => {
    const address = le.labHost('b').address;
    const listener = startTestListener(transportB, address, FIRST_PORT, 'c.sendall(token.encode())\nc.close()', 20);
    const port = await listener.port;
    expect(typeof port).toBe('number');
    const received = await le.sh('a', `exec 3<>/dev/tcp/${address}/${String(port)}; cat <&3`);
    expect(received).toBe(listener.token);
    await listener.exited;
    const hex = Number(port).toString(16).toUpperCase().padStart(4, '0');
    // The destination closed first: its end of the connection waits out TIME_WAIT (state 06).
    await waitFor(async () => (await le.sh('b', `grep -c ':${hex} [0-9A-F]*:[0-9A-F]* 06 ' /proc/net/tcp || true`)).trim() !== '0', 5_000, 'TIME_WAIT on the tested port');

    expect(await freePorts(transportB, Number(port), 1)).not.toContain(port);
    // And were it offered anyway (another host's listing, a race), the bind succeeds.
    const image = '/tmp/ferry-ports-test.raw';
    const served = await transportB.exec(`qemu-img create -q -f raw ${image} 1M && ${shellCommand(['qemu-nbd', '--fork', '--pid-file=/tmp/ferry-ports-test.pid', '-f', 'raw', '-x', 'ports-test', '-b', address, '-p', String(port), '--', image])}`);
    expect(served.stderr).toBe('');
    expect(served.code).toBe(0);
  });
});
