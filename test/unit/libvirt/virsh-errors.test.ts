import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { virshCommand, virshFailure } from '../../../src-main/core/libvirt/virsh.js';

/** stderr of real virsh failures in the lab (libvirt 9.0). */
const stderr = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('virsh failures as FerryErrors', () => {
  it('a libvirtd that does not answer: connection-failed, libvirt\'s words, and how to start or install it', () => {
    const error = virshFailure(['list', '--all'], { code: 1, stdout: '', stderr: stderr('error-no-libvirtd.txt') });
    expect(error.code).toBe('connection-failed');
    expect(error.message).toBe("libvirt: failed to connect to the hypervisor; Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory");
    expect(error.hint).toContain('systemctl start libvirtd');
    expect(error.hint).toContain('apt install libvirt-daemon-system');
    expect(error.details).toEqual({ command: 'virsh list --all', exitCode: 1 });
  });

  it('an unknown domain is not-found; starting a running one is busy', () => {
    expect(virshFailure(['start', '--domain', 'nosuch'], { code: 1, stdout: '', stderr: stderr('error-domain-not-found.txt') })).toMatchObject({ code: 'not-found', message: "libvirt: failed to get domain 'nosuch'" });
    expect(virshFailure(['start', '--domain', 'x'], { code: 1, stdout: '', stderr: stderr('error-already-active.txt') })).toMatchObject({ code: 'busy', message: 'libvirt: Domain is already active' });
  });

  it('no virsh on the host says which packages to install', () => {
    const error = virshFailure(['version'], { code: 127, stdout: '', stderr: 'sh: 1: virsh: not found\n' });
    expect(error.code).toBe('unsupported');
    expect(error.hint).toContain('apt install libvirt-clients');
  });

  it('anything else keeps libvirt\'s text as remote-command-failed', () => {
    const error = virshFailure(['vol-create-as'], { code: 1, stdout: '', stderr: 'error: Failed to create vol x\nerror: internal error: something odd\n' });
    expect(error).toMatchObject({ code: 'remote-command-failed', message: 'libvirt: Failed to create vol x; internal error: something odd' });
  });

  it('quotes every argument for the host shell and always names the system libvirtd', () => {
    expect(virshCommand(['dumpxml', '--domain', "it's $(x)"])).toBe("virsh -q -c qemu:///system dumpxml --domain 'it'\\''s $(x)'");
  });
});
