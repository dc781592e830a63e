import { posix } from 'node:path';
import { remoteLayout } from '../paths.js';

/** Where one VM's files live on its host. */
export function vmLayout(name: string) {
  return {
    definition: posix.join(remoteLayout.vms, `${name}.json`),
    qmpSocket: posix.join(remoteLayout.runDir, `${name}.qmp`),
    pidFile: posix.join(remoteLayout.runDir, `${name}.pid`),
    vncSocket: posix.join(remoteLayout.runDir, `${name}.vnc`),
    /** The serial line as a socket for an interactive console; QEMU also copies it to serialLog. */
    serialSocket: posix.join(remoteLayout.runDir, `${name}.serial`),
    serialLog: posix.join(remoteLayout.logs, `${name}.serial.log`),
  };
}
export type VmLayout = ReturnType<typeof vmLayout>;

/** What a VM's QEMU leaves in the run directory, removed once that QEMU is gone. */
export function vmRunFiles(name: string): string[] {
  const layout = vmLayout(name);
  return [layout.pidFile, layout.qmpSocket, layout.vncSocket, layout.serialSocket];
}
