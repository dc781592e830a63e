import { describe, expect, it } from 'vitest';
import { migrationInput } from '../../../src-main/core/api/contract.js';
import { parseDiskTargets } from '../../../src-main/cli/commands/migrate.js';
import { isFerryError } from '../../../src-main/core/errors.js';
import { deviceCheckScript, deviceItems, parseDeviceReports, signatureWords, type DeviceReport } from '../../../src-main/core/migration/device-checks.js';
import { parseConvertProgress } from '../../../src-main/core/migration/offline.js';
import { deviceIdentityScript, parseDeviceIdentity, sameDeviceEvidence, type DeviceIdentity } from '../../../src-main/core/migration/same-device.js';

const MIB = 1024 * 1024;

function report(overrides: Partial<DeviceReport> = {}): DeviceReport {
  return { path: '/dev/vg1/web', state: 'device', realPath: '/dev/dm-3', sizeBytes: 64 * MIB, mounts: [], holders: [], openBy: [], signature: {}, ...overrides };
}

const need = (over: Partial<DeviceReport> = {}, extra: { exactSize?: boolean; overwriteAllowed?: boolean; sourceBytes?: number } = {}) =>
  deviceItems({ report: report(over), host: 'hostb', sourceBytes: extra.sourceBytes ?? 64 * MIB, sourcePath: '/dev/vg0/web', exactSize: extra.exactSize ?? false, overwriteAllowed: extra.overwriteAllowed ?? false });

describe('destination device pre-flight', () => {
  it('reads the one script\'s output for several devices, in order', () => {
    const output = [
      '@@ferry-device 0', 'real /dev/loop4', 'size 67108864', 'holder dm-0', 'mount /mnt/data', 'mount /mnt/data', 'open 812 (qemu-nbd)', 'type ext4', 'usage filesystem',
      '@@ferry-device 1', 'state absent',
      '@@ferry-device 2', 'state not-a-device',
    ].join('\n');
    const [first, second, third] = parseDeviceReports(output, ['/run/d/a', '/dev/vg1/missing', '/srv/file']);
    expect(first).toEqual({ path: '/run/d/a', state: 'device', realPath: '/dev/loop4', sizeBytes: 64 * MIB, mounts: ['/mnt/data'], holders: ['dm-0'], openBy: ['812 (qemu-nbd)'], signature: { type: 'ext4', usage: 'filesystem' } });
    expect(second?.state).toBe('absent');
    expect(third?.state).toBe('not-a-device');
  });

  it('builds one script for all devices with every path quoted', () => {
    const script = deviceCheckScript(['/dev/vg1/web', "/run/x/it's"]);
    expect(script).toContain('@@ferry-device 0');
    expect(script).toContain('@@ferry-device 1');
    expect(script).toContain(`[ -b '/run/x/it'\\''s' ]`);
    expect(script).toContain('blkid -p -o export');
  });

  it('passes a free device that is large enough, naming the node behind the path', () => {
    const items = need({}, { sourceBytes: 32 * MIB });
    expect(items).toEqual([{ level: 'ok', check: 'device', message: '/dev/vg1/web on hostb (/dev/dm-3) is a free block device of 64 MiB for /dev/vg0/web.' }]);
  });

  it('refuses a missing device and says Ferry does not create one', () => {
    const [item] = need({ state: 'absent' });
    expect(item?.level).toBe('error');
    expect(item?.message).toMatch(/\/dev\/vg1\/web on hostb does not exist.*never creates or partitions/);
    expect(item?.hint).toMatch(/at least 64 MiB/);
  });

  it('refuses a device that is too small, mounted, stacked on or open, each with its own message', () => {
    const items = need({ sizeBytes: 16 * MIB, mounts: ['/srv/data', '[swap]'], holders: ['dm-1'], openBy: ['77 (qemu-system-x86)'] });
    const messages = items.filter((item) => item.level === 'error').map((item) => item.message);
    expect(messages).toEqual([
      '/dev/vg1/web on hostb (/dev/dm-3) has 16 MiB; /dev/vg0/web needs 64 MiB.',
      '/dev/vg1/web on hostb (/dev/dm-3) is mounted (/srv/data, [swap]).',
      '/dev/vg1/web on hostb (/dev/dm-3) is held by dm-1 (device-mapper or RAID on top of it).',
      '/dev/vg1/web on hostb (/dev/dm-3) is open by 77 (qemu-system-x86).',
    ]);
  });

  it('needs exactly the source size for a block copy, at least it for offline', () => {
    expect(need({ sizeBytes: 128 * MIB }, { exactSize: true }).some((item) => item.level === 'error' && /exactly the 67108864 bytes/.test(item.message))).toBe(true);
    expect(need({ sizeBytes: 128 * MIB }).every((item) => item.level === 'ok')).toBe(true);
  });

  it('refuses a signature unless that device may be overwritten, and says which flag allows it', () => {
    const [refused] = need({ signature: { type: 'ext4', usage: 'filesystem' } });
    expect(refused?.message).toBe('/dev/vg1/web on hostb (/dev/dm-3) carries a filesystem signature (ext4) (found by blkid -p).');
    expect(refused?.hint).toContain('--overwrite-device /dev/vg1/web');
    const allowed = need({ signature: { partitionTable: 'gpt' } }, { overwriteAllowed: true });
    expect(allowed.map((item) => item.level)).toEqual(['warning', 'ok']);
    expect(signatureWords({ type: 'LVM2_member', usage: 'raid' })).toBe('an LVM physical volume signature (LVM2_member)');
    expect(signatureWords({})).toBeNull();
  });
});

describe('proving a device is shared', () => {
  const identity = (over: Partial<DeviceIdentity>): DeviceIdentity => ({ sizeBytes: 64 * MIB, wwid: '', dmUuid: '', loopFile: '', ...over });

  it('accepts only an id that is unique by design, or a loop device\'s backing file (proven later)', () => {
    expect(sameDeviceEvidence(identity({ wwid: 'naa.5000c500a1' }), identity({ wwid: 'naa.5000c500a1' }))).toBe('wwid');
    expect(sameDeviceEvidence(identity({ dmUuid: 'LVM-abc' }), identity({ dmUuid: 'LVM-abc' }))).toBe('dm-uuid');
    expect(sameDeviceEvidence(identity({ loopFile: '/srv/shared/a.img' }), identity({ loopFile: '/srv/shared/a.img' }))).toBe('loop-file');
  });

  it('never takes two devices without ids, or of different sizes, for one', () => {
    expect(sameDeviceEvidence(identity({}), identity({}))).toBeNull();
    expect(sameDeviceEvidence(identity({ wwid: 'naa.1' }), identity({ wwid: 'naa.2' }))).toBeNull();
    expect(sameDeviceEvidence(identity({ wwid: 'naa.1' }), identity({ wwid: 'naa.1', sizeBytes: 32 * MIB }))).toBeNull();
  });

  it('reads the identity lines; a path that is no device has none', () => {
    expect(parseDeviceIdentity('size 1048576\nwwid naa.1\nwwid other\ndm LVM-x\nloop /srv/a b.img\n')).toEqual({ sizeBytes: MIB, wwid: 'naa.1', dmUuid: 'LVM-x', loopFile: '/srv/a b.img' });
    expect(parseDeviceIdentity('')).toBeNull();
    expect(deviceIdentityScript('/dev/vg0/web')).toContain('readlink -f -- /dev/vg0/web');
  });
});

describe('disk targets from the command line and the contract', () => {
  it('splits SOURCE=DESTINATION at the first "=/" and refuses anything else', () => {
    expect(parseDiskTargets(['/dev/vg0/web=/dev/vg1/web', '/srv/a=b.raw=/srv/c.raw'])).toEqual({ '/dev/vg0/web': '/dev/vg1/web', '/srv/a=b.raw': '/srv/c.raw' });
    const refused = (() => {
      try {
        parseDiskTargets(['web=/dev/vg1/web']);
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(isFerryError(refused, 'invalid-input')).toBe(true);
  });

  it('validates targets and devices with the disk path rules; overwriteDevices defaults to none', () => {
    const base = { vm: 'web', from: 'a', to: 'b', mode: 'offline' };
    const parsed = migrationInput.parse({ ...base, diskTargets: { '/srv/images/web.raw': '/dev/vg1/web' } });
    expect(parsed.diskTargets).toEqual({ '/srv/images/web.raw': '/dev/vg1/web' });
    expect(parsed.overwriteDevices).toEqual([]);
    expect(migrationInput.safeParse({ ...base, diskTargets: { '/srv/images/web.raw': '/dev/zero' } }).success).toBe(false);
    expect(migrationInput.safeParse({ ...base, overwriteDevices: ['/etc/passwd'] }).success).toBe(false);
  });
});

describe('device copy progress', () => {
  it('takes the last percentage qemu-img -p wrote', () => {
    expect(parseConvertProgress('    (0.00/100%)\r    (12.50/100%)\r    (37.01/100%)\r')).toBe(37.01);
    expect(parseConvertProgress('')).toBeNull();
  });
});
