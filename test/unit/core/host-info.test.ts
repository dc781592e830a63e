import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMachineTypes, probeScript, readHostInfo } from '../../../src-main/core/host/info.js';
import { LocalTransport } from '../../../src-main/core/ssh/local.js';
import type { ExecOptions } from '../../../src-main/core/ssh/transport.js';

// Captured verbatim from `qemu-system-x86_64 -machine help` of QEMU 7.2 (Debian 12), the lab's QEMU.
const help = readFileSync(new URL('./fixtures/qemu-7.2-machine-help.txt', import.meta.url), 'utf8').split('\n');

describe('parseMachineTypes on real QEMU 7.2 output', () => {
  const parsed = parseMachineTypes(help);

  it('takes the versioned type behind the q35 alias as the default', () => {
    expect(parsed.defaultType).toBe('pc-q35-7.2');
  });

  it('lists versioned types but not the aliases or the header', () => {
    expect(parsed.types).toEqual(expect.arrayContaining(['pc-q35-7.2', 'pc-q35-2.4', 'pc-i440fx-7.2', 'microvm', 'none', 'isapc']));
    expect(parsed.types).not.toContain('q35');
    expect(parsed.types).not.toContain('pc');
    expect(parsed.types).not.toContain('Supported');
    // Every non-empty line but the header and the two aliases is a type.
    expect(parsed.types).toHaveLength(help.filter((line) => line.trim() !== '').length - 3);
  });

  it('falls back to the (default) type when there is no q35, then to the first type', () => {
    const withoutQ35 = help.filter((line) => !line.startsWith('q35 '));
    expect(parseMachineTypes(withoutQ35).defaultType).toBe('pc-i440fx-7.2');
    expect(parseMachineTypes(['Supported machines are:', 'microvm              microvm (i386)']).defaultType).toBe('microvm');
    expect(parseMachineTypes([]).defaultType).toBe('q35');
  });
});

describe('readHostInfo through a real shell with the real QEMU binary', () => {
  /** Records what the host printed, to see whether QEMU itself was asked. */
  class RecordingTransport extends LocalTransport {
    readonly outputs: string[] = [];
    override async run(command: string, options?: ExecOptions): Promise<string> {
      const output = await super.run(command, options);
      this.outputs.push(output);
      return output;
    }
  }

  it('runs QEMU for its machine types once, then only when the binary changes', async () => {
    const transport = new RecordingTransport('unit');
    const first = await readHostInfo('here', transport);
    expect(first.machineTypes).toContain(first.defaultMachineType);
    expect(first.qemuVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(transport.outputs[0]).toContain('@@machines');
    const second = await readHostInfo('here', transport);
    expect(transport.outputs[1]).not.toContain('@@machines');
    expect(second).toEqual({ ...first, memoryAvailableBytes: second.memoryAvailableBytes });
    // A transport that has not seen this host yet asks QEMU again.
    const fresh = new RecordingTransport('unit');
    await readHostInfo('here', fresh);
    expect(fresh.outputs[0]).toContain('@@machines');
  });

  it('asks QEMU when the binary key differs from the one remembered', async () => {
    const transport = new LocalTransport('unit');
    const output = await transport.run(probeScript('0:0:0:0'));
    expect(output).toContain('@@machines');
    const key = /@@binarykey\n(.*)\n/.exec(output)?.[1] ?? '';
    expect(key).toMatch(/^\d+:\d+:\d+:\d+$/);
    expect(await transport.run(probeScript(key))).not.toContain('@@qemu');
  });
});
