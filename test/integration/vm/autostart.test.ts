import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTOSTART_RUN_ALL, autostartScriptPath } from '../../../src-main/core/vm/autostart.js';
import { QEMU_SANDBOX } from '../../../src-main/core/vm/qemu-argv.js';
import { labEngine, type LabEngine } from '../../support/lab-engine.js';
import { LOCAL_DIR, removeGuest, uniqueName } from '../migration/guest.js';

// Autostart and confinement on the real lab. The lab hosts run no systemd, so what boot would run
// (every boot script, AUTOSTART_RUN_ALL) is run by hand; details must say nothing runs it there.
let le: LabEngine;
const vm = uniqueName('hw-auto');
const diskPath = `${LOCAL_DIR}/${vm}.qcow2`;
const scriptExists = async () => (await le.sh('a', `[ -f ${autostartScriptPath(vm)} ] && echo yes || echo no`)).trim() === 'yes';

beforeAll(async () => {
  le = await labEngine();
  await le.sh('a', `mkdir -p ${LOCAL_DIR} && qemu-img create -q -f qcow2 ${diskPath} 64M`);
});

afterAll(async () => {
  await removeGuest(le, vm, [diskPath]);
  await le.sh('a', `rm -f ${autostartScriptPath(vm)}`);
  await le.engine.close();
});

describe('autostart', () => {
  it('writes a boot script that starts the VM, and details say what on the host would run it', async () => {
    const defined = await le.engine.call('vms.define', {
      host: 'a', name: vm, memoryMiB: 128, vcpus: 1, accel: 'tcg', disks: [{ path: diskPath }], autostart: true,
      kernel: le.lab.guest.kernel, initrd: le.lab.guest.initrd, append: 'console=ttyS0 quiet ferry.dirty_mib=0',
    });
    expect(defined.definition?.autostart).toBe(true);
    expect(defined.autostartFacts).toEqual({ script: true, bootService: 'no-systemd' });
    expect(defined.confinement).toEqual({ sandbox: QEMU_SANDBOX });

    await le.sh('a', AUTOSTART_RUN_ALL);
    const booted = await le.engine.call('vms.info', { host: 'a', name: vm });
    expect(booted.state).toBe('running');
    expect(booted.confinement).toMatchObject({ sandbox: QEMU_SANDBOX, seccompActive: true, user: 'root' });
    await le.engine.call('vms.destroy', { host: 'a', name: vm });
  });

  it('stops starting the VM once autostart is off, and once its definition is gone from the host', async () => {
    const off = await le.engine.call('vms.update', { host: 'a', name: vm, autostart: false });
    expect(off.autostartFacts?.script).toBe(false);
    expect(await scriptExists()).toBe(false);

    await le.engine.call('vms.update', { host: 'a', name: vm, autostart: true });
    expect(await scriptExists()).toBe(true);
    // As after a migration moved the definition away: the script left behind must do nothing.
    await le.sh('a', `mv /var/lib/ferry/vms/${vm}.json /tmp/${vm}.json`);
    try {
      await le.sh('a', AUTOSTART_RUN_ALL);
      expect(await le.engine.call('vms.list', { host: 'a' })).not.toContainEqual(expect.objectContaining({ name: vm }));
    } finally {
      await le.sh('a', `mv /tmp/${vm}.json /var/lib/ferry/vms/${vm}.json`);
    }
    await le.engine.call('vms.undefine', { host: 'a', name: vm });
    expect(await scriptExists()).toBe(false);
  });
});
