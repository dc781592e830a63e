import type { VmDefinition, VmDetails } from '../api/types.js';
import { FerryError } from '../errors.js';
import { writeJsonFile } from '../remote/json-files.js';
import { shellCommand, shellQuote } from '../ssh/shell.js';
import { vmLayout } from './layout.js';
import { loadDefinition, vmDetails, type VmHost } from './lifecycle.js';
import { withMonitor } from './monitor.js';
import { remoteLayout } from '../paths.js';

/** The value following an option in a QEMU argv, e.g. optionAfter(argv, '-cpu'). */
function optionAfter(argv: string[], option: string): string | undefined {
  const index = argv.indexOf(option);
  return index === -1 ? undefined : argv[index + 1];
}

interface BlockDevice {
  inserted?: { file: string; drv: string };
}

/**
 * Takes over a QEMU started by hand: finds its process by the monitor socket on its command
 * line, records that command line (a migration must rebuild exactly it on the destination), and
 * writes a pid file so the VM is found like any other after a restart.
 */
export async function adoptVm(host: VmHost, name: string, qmpSocket: string): Promise<VmDetails> {
  if (await loadDefinition(host, name)) {
    throw new FerryError('already-exists', `A VM named "${name}" already exists on ${host.name}`, { hint: 'Adopt it under another name.' });
  }
  if ((await host.transport.exec(shellCommand(['test', '-S', qmpSocket]))).code !== 0) {
    throw new FerryError('not-found', `${qmpSocket} is not a UNIX socket on ${host.name}`, { hint: 'Give the path from the QEMU command line option -qmp unix:PATH,server=on,wait=off.' });
  }
  // Only QEMU executables count: the shell running this loop and its grep carry the socket path
  // on their own command lines too. (comm is no help: -name ...,process=X renames QEMU.)
  const finder = `for d in /proc/[0-9]*; do case "$(readlink "$d/exe" 2>/dev/null)" in */qemu-system-*|*/qemu-kvm*) ;; *) continue ;; esac; if tr '\\0' '\\n' < "$d/cmdline" 2>/dev/null | grep -q -F -- ${shellQuote(qmpSocket)}; then echo "\${d#/proc/}"; fi; done; true`;
  const pids = (await host.transport.run(finder)).split('\n').filter((line) => /^\d+$/.test(line));
  const pid = pids[0];
  if (pid === undefined || pids.length > 1) {
    throw new FerryError('not-found', `Could not tell which process serves ${qmpSocket} (${pids.length} candidates)`, { hint: 'Make sure exactly one QEMU was started with that monitor socket.' });
  }
  const argv = Buffer.from(await host.transport.run(`base64 -w0 /proc/${pid}/cmdline`), 'base64').toString('utf8').split('\0').filter((arg) => arg !== '');
  const facts = await withMonitor(host.transport, qmpSocket, async (qmp) => ({
    memory: await qmp.execute<{ 'base-memory': number }>('query-memory-size-summary'),
    cpus: await qmp.execute<unknown[]>('query-cpus-fast'),
    blocks: await qmp.execute<BlockDevice[]>('query-block'),
  }));
  const definition: VmDefinition = {
    name,
    memoryMiB: Math.round(facts.memory['base-memory'] / (1024 * 1024)),
    vcpus: facts.cpus.length,
    machineType: optionAfter(argv, '-machine') ?? optionAfter(argv, '-M') ?? 'unknown',
    cpuModel: optionAfter(argv, '-cpu') ?? 'qemu64',
    accel: argv.join(' ').includes('kvm') ? 'kvm' : 'tcg',
    disks: facts.blocks.flatMap((block) =>
      block.inserted && (block.inserted.drv === 'qcow2' || block.inserted.drv === 'raw') ? [{ path: block.inserted.file, format: block.inserted.drv, cache: 'none' as const }] : [],
    ),
    nic: null,
    createdAt: new Date().toISOString(),
    adopted: { argv, qmpSocket },
  };
  await host.transport.run(shellCommand(['mkdir', '-p', '-m', '0700', remoteLayout.runDir]));
  await host.transport.writeFile(vmLayout(name).pidFile, `${pid}\n`, 0o600);
  await writeJsonFile(host.transport, vmLayout(name).definition, definition);
  return vmDetails(host, name);
}
