import { FerryError, type FerryErrorCode } from '../errors.js';
import { shellCommand } from '../ssh/shell.js';
import type { ExecResult, HostTransport } from '../ssh/transport.js';

/** The host's own system libvirtd; virsh runs on the host, so the URI never names a remote. */
export const LIBVIRT_URI = 'qemu:///system';

const START_LIBVIRTD = 'Start it on the host: systemctl start libvirtd (install it with: apt install libvirt-daemon-system).';
const INSTALL_VIRSH = 'Install it on the host: apt install libvirt-clients libvirt-daemon-system (Debian/Ubuntu), then systemctl start libvirtd.';

/** virsh against the host's system libvirtd, quiet (no table headers), as one quoted command line. */
export function virshCommand(args: readonly string[]): string {
  return shellCommand(['virsh', '-q', '-c', LIBVIRT_URI, ...args]);
}

/** Runs virsh on the host through its transport; its stdout, or a FerryError saying what libvirt refused and what to do. */
export async function runVirsh(transport: HostTransport, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const result = await transport.exec(virshCommand(args), options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  if (result.code !== 0) throw virshFailure(args, result);
  return result.stdout;
}

/** libvirt's own "error: ..." lines, without the prefix. */
export function virshErrorText(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const errors = lines.filter((line) => line.startsWith('error: ')).map((line) => line.slice('error: '.length));
  return (errors.length > 0 ? errors : lines).join('; ');
}

interface Classified {
  code: FerryErrorCode;
  hint: string;
}

function classify(text: string, exitCode: number): Classified {
  if (exitCode === 127 || /virsh: (command )?not found/.test(text)) return { code: 'unsupported', hint: `virsh is not installed on the host. ${INSTALL_VIRSH}` };
  if (/failed to connect to the hypervisor|Failed to connect socket/i.test(text)) return { code: 'connection-failed', hint: `libvirtd does not answer on the host. ${START_LIBVIRTD}` };
  if (/authentication (failed|unavailable)|access denied|Permission denied/i.test(text)) {
    return { code: 'auth-failed', hint: 'libvirt refused this user: connect as root, or as a user with passwordless sudo (Ferry then runs virsh under sudo), or add the user to the libvirt group.' };
  }
  if (/failed to get (domain|pool|vol)|not found: no (domain|storage pool|storage vol)|Storage (pool|volume) not found|Domain not found/i.test(text)) {
    return { code: 'not-found', hint: 'Check the name: `ferry vm list HOST` (or `virsh list --all`, `virsh pool-list --all`) shows what libvirt has.' };
  }
  if (/already exists|exists already/i.test(text)) return { code: 'already-exists', hint: 'Pick another name, or remove the old one first.' };
  if (/already active|is not running|not active|domain is not|Requested operation is not valid/i.test(text)) {
    return { code: 'busy', hint: 'The domain or pool is not in a state that allows this; `ferry vm info HOST NAME` shows its state.' };
  }
  return { code: 'remote-command-failed', hint: 'This is what libvirt answered; `virsh` on the host gives the same answer and libvirtd\'s log (journalctl -u libvirtd) says more.' };
}

/** The FerryError for a virsh command that failed: libvirt's own words, and what to do about them. */
export function virshFailure(args: readonly string[], result: Pick<ExecResult, 'code' | 'stderr' | 'stdout'>): FerryError {
  const text = virshErrorText(result.stderr) || virshErrorText(result.stdout) || `exit status ${result.code}`;
  const { code, hint } = classify(text, result.code);
  return new FerryError(code, `libvirt: ${text}`, { hint, details: { command: `virsh ${args.join(' ')}`, exitCode: result.code } });
}
