import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../../src-main/core/errors.js';
import type { HostTransport } from '../../../src-main/core/ssh/transport.js';
import { tapDeviceName } from '../../../src-main/core/vm/nic-names.js';
import { parseHostStats, readHostStats, statsScript } from '../../../src-main/core/vm/stats.js';

const bridged = tapDeviceName('web', 1);

/** What the script prints on a host with one bridged VM (NIC 1) and one user-mode VM. */
const OUTPUT = [
  '@@uptime',
  '1000.50 1900.00',
  '@@clk',
  '100',
  '@@cpu',
  'cpu  700 10 290 8000 100 0 0 0 0 0',
  'cpu0 350 5 145 4000 50 0 0 0 0 0',
  'cpu1 350 5 145 4000 50 0 0 0 0 0',
  '@@meminfo',
  'MemTotal:        4000000 kB',
  'MemFree:         1000000 kB',
  'MemAvailable:    3000000 kB',
  '@@diskstats',
  '   8       0 sda 10 0 2048 0 20 0 4096 0 0 0 0 0 0 0 0 0 0',
  '   8       1 sda1 10 0 2048 0 20 0 4096 0 0 0 0 0 0 0 0 0 0',
  '   7       0 loop0 99 0 9999 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
  '@@netdev',
  'Inter-|   Receive                                                |  Transmit',
  ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
  '    lo:  500 5 0 0 0 0 0 0  500 5 0 0 0 0 0 0',
  '  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0',
  '   br0:  700 7 0 0 0 0 0 0  800 8 0 0 0 0 0 0',
  `${bridged}:  300 3 0 0 0 0 0 0  400 4 0 0 0 0 0 0`,
  '@@bridges',
  '/sys/class/net/br0',
  '@@vm web 4242',
  '4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 1 0 0 0 150 50 0 0 20 0 3 0 100 0 0',
  'Name:\tqemu-system-x86',
  'VmRSS:\t  204800 kB',
  '@@io',
  'rchar: 999',
  'read_bytes: 8192',
  'write_bytes: 4096',
  '@@vm slirp 77',
  '77 (qemu (x) 1) S 1 77 77 0 -1 4194560 1 0 0 0 10 5 0 0 20 0 3 0 100 0 0',
  'VmRSS:\t  1024 kB',
  '@@io',
  '',
].join('\n');

class FakeTransport extends EventEmitter {
  readonly label = 'fake';
  readonly state = 'connected';
  readonly commands: string[] = [];
  constructor(private readonly output: string) {
    super();
  }
  async run(command: string): Promise<string> {
    this.commands.push(command);
    return this.output;
  }
}

describe('host stats', () => {
  it('reads the host and every VM with one command', async () => {
    const transport = new FakeTransport(OUTPUT);
    const stats = await readHostStats(transport as unknown as HostTransport, 'lab-a');
    expect(transport.commands).toEqual([statsScript()]);
    expect(stats.host).toBe('lab-a');
    expect(stats.uptimeSeconds).toBe(1000.5);
    expect(stats.cpuCount).toBe(2);
    expect(stats.cpu).toEqual({ busyTicks: 1000, totalTicks: 9100 });
    expect(stats.memory).toEqual({ totalBytes: 4000000 * 1024, availableBytes: 3000000 * 1024 });
    // Only the whole disk counts; its partition and loop devices would count the same bytes again.
    expect(stats.disk).toEqual({ readBytes: 2048 * 512, writeBytes: 4096 * 512 });
    // Loopback, the bridge and the VM's tap carry no traffic of the host's own.
    expect(stats.network).toEqual({ rxBytes: 1000, txBytes: 2000 });
  });

  it('counts CPU, memory, disk and the bridged NIC of each VM, and says why a user-mode NIC has no counters', () => {
    const stats = parseHostStats(OUTPUT, 'lab-a', 5);
    const [slirp, web] = stats.vms;
    expect(web).toMatchObject({ name: 'web', pid: 4242, cpuTicks: 200, rssBytes: 204800 * 1024, disk: { readBytes: 8192, writeBytes: 4096 } });
    // The tap receives what the guest sends.
    expect(web?.network).toEqual({ rxBytes: 400, txBytes: 300, devices: [bridged] });
    expect(slirp).toMatchObject({ name: 'slirp', cpuTicks: 15, rssBytes: 1024 * 1024, disk: null, network: null });
    expect(slirp?.networkNote).toMatch(/user-mode/);
  });

  it('drops a VM that exited while it was being read', () => {
    const stats = parseHostStats(OUTPUT.replace('4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 1 0 0 0 150 50 0 0 20 0 3 0 100 0 0\n', ''), 'lab-a', 5);
    expect(stats.vms.map((vm) => vm.name)).toEqual(['slirp']);
  });

  it('refuses output without /proc counters, saying what is missing', () => {
    let caught: unknown;
    try {
      parseHostStats('@@uptime\n@@clk\n100\n', 'lab-a', 5);
    } catch (error) {
      caught = error;
    }
    expect(isFerryError(caught, 'remote-command-failed')).toBe(true);
    expect(String((caught as Error).message)).toMatch(/uptime/);
  });

  it('quotes the run directory it is given', () => {
    expect(statsScript("/run/fe rry's")).toContain(`'/run/fe rry'\\''s'/*.pid`);
  });
});
