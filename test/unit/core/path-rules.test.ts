import { describe, expect, it } from 'vitest';
import { hostAddressProblem, uriHost } from '../../../src-main/core/api/host-address.js';
import { parseChannelInput } from '../../../src-main/core/api/validate.js';
import { diskPathSchema, hostAddressSchema, kernelPathSchema, poolPathSchema, storedPathSchema } from '../../../src-main/core/api/names.js';
import { isNormalAbsolutePath, sensitivePathProblem } from '../../../src-main/core/api/path-rules.js';
import { FerryError } from '../../../src-main/core/errors.js';

function issue(result: { success: boolean; error?: { issues: Array<{ message: string }> } }): string {
  expect(result.success).toBe(false);
  return result.error?.issues.map((entry) => entry.message).join(' | ') ?? '';
}

describe('pool paths', () => {
  it.each([
    ['/', 'shared with everything'],
    ['/etc', "host's configuration"],
    ['/etc/ferry-pool', 'inside /etc'],
    ['/root/.ssh', '.ssh directory'],
    ['/home/alice/.ssh', '.ssh directory'],
    ['/home/alice/.gnupg/x', '.gnupg directory'],
    ['/srv/keys/.ssh/pool', '.ssh directory'],
    ['/proc/self', 'kernel interface'],
    ['/sys', 'kernel interface'],
    ['/dev/shm', "host's devices"],
    ['/boot', 'boot files'],
    ['/usr/local/pool', 'installed software'],
    ['/bin', 'installed software'],
    ['/sbin', 'installed software'],
    ['/lib', 'installed software'],
    ['/lib64', 'installed software'],
    ['/var/lib/ferry', 'shared with everything'],
    ['/var/lib/ferry/vms', "Ferry's VM definitions"],
    ['/var/lib/ferry/pools/x', "Ferry's pool definitions"],
    ['/run/ferry', "Ferry's VM sockets"],
    ['/run', 'shared with everything'],
    ['/home', 'shared with everything'],
    ['/root', 'shared with everything'],
  ])('refuses %j, naming the path and why', (path, why) => {
    const message = issue(poolPathSchema.safeParse(path));
    expect(message).toContain(`${path} cannot hold a storage pool`);
    expect(message).toContain(why);
    expect(message).toContain('/var/lib/ferry/images');
  });

  it.each(['/var/lib/ferry/images', '/var/lib/ferry/eng-st-dir', '/srv/vm-images', '/srv/ferry-shared/eng-storage', '/mnt/nfs/vms', '/home/alice/vms', '/run/media/alice/usb/vms', '/data/.sshfs-cache', '/opt/vms'])(
    'accepts %j',
    (path) => {
      expect(poolPathSchema.parse(path)).toBe(path);
    },
  );

  it('still requires an absolute, normalised path', () => {
    expect(issue(poolPathSchema.safeParse('srv/vms'))).toContain('absolute');
    expect(issue(poolPathSchema.safeParse('/srv/../etc'))).toContain('..');
    expect(issue(poolPathSchema.safeParse('/srv//vms'))).toContain('normalised');
  });

  it('is what pools.define validates, as a typed invalid-input error', () => {
    let error: unknown;
    try {
      parseChannelInput('pools.define', { host: 'a', pool: 'p', type: 'dir', path: '/root/.ssh' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('invalid-input');
    expect((error as FerryError).message).toContain('/root/.ssh cannot hold a storage pool');
  });
});

describe('NFS pool source', () => {
  it('refuses a source starting with "-" (it would be an option to mount)', () => {
    expect(() => parseChannelInput('pools.define', { host: 'a', pool: 'p', type: 'netfs', path: '/mnt/x', source: '-oremount:/x' })).toThrow(/must not start with "-"/);
    expect(() => parseChannelInput('pools.define', { host: 'a', pool: 'p', type: 'netfs', path: '/mnt/x', source: '--bind:/' })).toThrow(/must not start with "-"/);
  });

  it('accepts SERVER:/EXPORT', () => {
    expect(parseChannelInput('pools.define', { host: 'a', pool: 'p', type: 'netfs', path: '/mnt/x', source: 'nfs.example:/exports/vms' })).toMatchObject({ source: 'nfs.example:/exports/vms' });
  });
});

describe('VM disk and kernel paths on input', () => {
  it('refuses disks in system or private places and in Ferry state', () => {
    expect(issue(diskPathSchema.safeParse('/dev/mem'))).toContain('/dev/mem cannot be a VM disk');
    expect(issue(diskPathSchema.safeParse('/dev/shm/x.img'))).toContain('never a disk');
    // A host block device is a disk like any other (a partition, an LVM volume).
    expect(diskPathSchema.parse('/dev/VolGroup00/lv001')).toBe('/dev/VolGroup00/lv001');
    expect(diskPathSchema.parse('/dev/sdb1')).toBe('/dev/sdb1');
    expect(issue(diskPathSchema.safeParse('/etc/shadow'))).toContain('inside /etc');
    expect(issue(diskPathSchema.safeParse('/var/lib/ferry/vms/x/definition.json'))).toContain("Ferry's VM definitions");
    expect(issue(diskPathSchema.safeParse('/run/ferry/x.qmp'))).toContain("Ferry's VM sockets");
    expect(issue(diskPathSchema.safeParse('/home/bob/.ssh/id_rsa'))).toContain('.ssh directory');
    expect(diskPathSchema.parse('/var/lib/ferry/images/web.qcow2')).toBe('/var/lib/ferry/images/web.qcow2');
  });

  it('lets the kernel come from /boot (only read) but not from /etc', () => {
    expect(kernelPathSchema.parse('/boot/vmlinuz')).toBe('/boot/vmlinuz');
    expect(issue(kernelPathSchema.safeParse('/etc/shadow'))).toContain('cannot be a kernel or initrd');
    expect(() => parseChannelInput('vms.define', { host: 'a', name: 'v', memoryMiB: 64, vcpus: 1, disks: [{ path: '/dev/zero' }] })).toThrow(/disks\.0\.path.*\/dev\/zero cannot be a VM disk/);
  });
});

describe('stored paths (read back from a host)', () => {
  it.each([
    ['images/a.qcow2', 'absolute'],
    ['/var/lib/ferry/images/../../../etc/cron.d/x', 'normalised'],
    ['/var/lib/ferry/images/./a', 'normalised'],
    ['/var/lib/ferry/images/a\n/etc/x', 'line breaks'],
    ['/var/lib/ferry/images/a\0', 'NUL'],
    ['/root/.ssh/authorized_keys', '.ssh'],
    ['/var/lib/ferry/vms/other/definition.json', "Ferry's VM definitions"],
    ['/run/ferry/web.qmp', "Ferry's VM sockets"],
    ['/boot/grub/grub.cfg', 'boot files'],
  ])('refuses the disk %j', (path, why) => {
    expect(issue(storedPathSchema('disk').safeParse(path))).toContain(why);
  });

  it('accepts a path with characters typed input would refuse (an adopted disk), quoted wherever it is used', () => {
    expect(storedPathSchema('disk').parse('/srv/my images/a b.qcow2')).toBe('/srv/my images/a b.qcow2');
  });

  it('isNormalAbsolutePath', () => {
    expect(isNormalAbsolutePath('/')).toBe(true);
    expect(isNormalAbsolutePath('/a/b')).toBe(true);
    expect(isNormalAbsolutePath('/a/b/')).toBe(false);
    expect(isNormalAbsolutePath('/a//b')).toBe(false);
    expect(isNormalAbsolutePath('a/b')).toBe(false);
  });

  it('sensitivePathProblem is null for an ordinary place', () => {
    expect(sensitivePathProblem('/srv/vms/a.qcow2', 'disk')).toBeNull();
  });
});

describe('host addresses', () => {
  it.each(['-oProxyCommand=x', '-p', '.hidden', 'a b', 'a;b', '$(id)', '', 'h'.repeat(254), '[::1]'])('refuses %j', (address) => {
    expect(hostAddressProblem(address)).toContain('must be a host name or an IP address');
    expect(hostAddressSchema.safeParse(address).success).toBe(false);
  });

  it.each(['kvm1', '10.0.0.5', 'kvm1.lab.example', '::1', 'fd00::5', 'h'.repeat(253)])('accepts %j', (address) => {
    expect(hostAddressProblem(address)).toBeNull();
  });

  it('is the rule for hosts.add and for the migration --address alike', () => {
    expect(() => parseChannelInput('hosts.add', { transport: 'ssh', name: 'a', address: '-oProxyJump' })).toThrow(/address: must be a host name/);
    expect(() => parseChannelInput('migrations.check', { vm: 'v', from: 'a', to: 'b', mode: 'live', address: '-oProxyJump' })).toThrow(/address: must be a host name/);
  });

  it('brackets IPv6 addresses for URIs and leaves others alone', () => {
    expect(uriHost('fd00::5')).toBe('[fd00::5]');
    expect(uriHost('::1')).toBe('[::1]');
    expect(uriHost('[fd00::5]')).toBe('[fd00::5]');
    expect(uriHost('10.0.0.5')).toBe('10.0.0.5');
    expect(uriHost('kvm1.lab')).toBe('kvm1.lab');
  });
});
