import { FerryError } from '../errors.js';
import { remoteLayout } from '../paths.js';
import { shellQuote } from '../ssh/shell.js';
import type { HostTransport } from '../ssh/transport.js';
import type { MigrationOwner } from './owner-lock.js';

/*
 * A VM name claimed on a host for the whole of one migration, so that two Ferry processes — on
 * one desktop or on two — never move the same VM, or two VMs to the same name, at once. The
 * claim is a file on the host itself (the one place every Ferry sees), created exclusively. It is
 * a lease: its owner touches it while the migration runs, and one left by a Ferry that died is
 * taken over once it has not been touched for LEASE_STALE_S. A migration that ends in doubt turns
 * its lease into a hold that never goes stale: only settling that migration releases it.
 */

export const LEASE_RENEW_MS = 20_000;
const LEASE_STALE_S = 120;
const LOCK_DIR = `${remoteLayout.runDir}/locks`;

export interface ClaimHolder {
  migration: string;
  machine: string;
  pid: number;
  lease: 'live' | 'held';
}

const lockFile = (vm: string, directory = LOCK_DIR) => `${directory}/${vm}.lock`;

function line(migration: string, owner: MigrationOwner, lease: ClaimHolder['lease']): string {
  const machine = owner.machine.replace(/[^A-Za-z0-9.-]/g, '_');
  return `migration=${migration} machine=${machine} pid=${owner.pid} lease=${lease}`;
}

export function parseClaim(text: string): ClaimHolder | null {
  const fields = new Map(text.trim().split(/\s+/).map((pair) => pair.split('=') as [string, string]));
  const migration = fields.get('migration');
  const machine = fields.get('machine');
  const pid = Number(fields.get('pid'));
  const lease = fields.get('lease');
  if (!migration || !machine || !Number.isInteger(pid) || (lease !== 'live' && lease !== 'held')) return null;
  return { migration, machine, pid, lease };
}

/** Runs a script under the host's guard lock, so check-then-write steps never interleave. */
function guarded(script: string, directory = LOCK_DIR): string {
  const dir = shellQuote(directory);
  // `[ -d ]` is a builtin: mkdir only runs the first time (every process counts on a busy host).
  return `{ [ -d ${dir} ] || mkdir -p -m 0700 ${dir}; } && flock -w 10 ${dir}/.guard sh -c ${shellQuote(script)}`;
}

export function acquireScript(vm: string, migration: string, owner: MigrationOwner, directory = LOCK_DIR): string {
  const file = shellQuote(lockFile(vm, directory));
  return guarded(
    `f=${file}; ` +
      // A live lease nobody has renewed for long belongs to a Ferry that is gone.
      `if [ -f "$f" ] && grep -q ' lease=live' "$f" && [ $(( $(date +%s) - $(stat -c %Y "$f") )) -gt ${LEASE_STALE_S} ]; then rm -f "$f"; fi; ` +
      // noclobber: the file is created only if it is not there (this sh is the claim's own).
      `set -C; if { printf '%s\\n' ${shellQuote(line(migration, owner, 'live'))} > "$f"; } 2>/dev/null; then echo claimed; else cat "$f"; exit 1; fi`,
    directory,
  );
}

/** Rewrites the claim if it is still this migration's; exit 1 when it is not. */
export function rewriteScript(vm: string, migration: string, content: string | null, directory = LOCK_DIR): string {
  const file = shellQuote(lockFile(vm, directory));
  // A hold only turns this migration's live lease into a hold: one delayed until after recovery
  // released the claim (a host that came back late) finds no lease and leaves nothing behind.
  const mine = shellQuote(content === null ? `migration=${migration} ` : `migration=${migration} .* lease=live`);
  const action = content === null ? 'rm -f "$f"' : `printf '%s\\n' ${shellQuote(content)} > "$f.new" && mv -f "$f.new" "$f"`;
  return guarded(`f=${file}; grep -q ${mine} "$f" 2>/dev/null || exit 1; ${action}`, directory);
}

/** The line a claim file holds (exported for the hold step and tests). */
export const claimLine = line;

/** One host's claim on a VM name, held by this process for one migration. */
export class VmClaim {
  private renewTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly transport: HostTransport,
    private readonly hostName: string,
    private readonly vm: string,
    private readonly migration: string,
    private readonly owner: MigrationOwner,
  ) {}

  static async acquire(transport: HostTransport, hostName: string, vm: string, migration: string, owner: MigrationOwner): Promise<VmClaim> {
    const result = await transport.exec(acquireScript(vm, migration, owner), { timeoutMs: 30_000 });
    if (result.code !== 0) {
      const holder = parseClaim(result.stdout);
      if (!holder) {
        throw new FerryError('remote-command-failed', `Could not claim VM "${vm}" on ${hostName}: ${result.stderr.trim() || result.stdout.trim()}`, {
          hint: `Ferry keeps its claims in ${LOCK_DIR} on the host and needs flock (util-linux) there.`,
        });
      }
      throw claimedError(hostName, vm, holder);
    }
    const claim = new VmClaim(transport, hostName, vm, migration, owner);
    claim.renewTimer = setInterval(() => void claim.renew(), LEASE_RENEW_MS);
    claim.renewTimer.unref();
    return claim;
  }

  /** Touches the lease; a failed touch (a host briefly out of reach) is retried next time. */
  private async renew(): Promise<void> {
    const file = shellQuote(lockFile(this.vm));
    await this.transport.exec(guarded(`grep -q ${shellQuote(`migration=${this.migration} `)} ${file} && touch ${file}`), { timeoutMs: 15_000 }).catch(() => undefined);
  }

  /** The migration ended in doubt: keep the VM claimed until someone settles it. */
  async hold(): Promise<void> {
    this.stopRenewing();
    await this.transport.exec(rewriteScript(this.vm, this.migration, line(this.migration, this.owner, 'held')), { timeoutMs: 30_000 });
  }

  async release(): Promise<void> {
    this.stopRenewing();
    await this.transport.exec(rewriteScript(this.vm, this.migration, null), { timeoutMs: 30_000 });
  }

  private stopRenewing(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  get label(): string {
    return `${this.vm} on ${this.hostName}`;
  }
}

/** Releases a claim a migration left behind (recovery of a migration whose owner is gone). */
export async function releaseClaim(transport: HostTransport, vm: string, migration: string): Promise<void> {
  await transport.exec(rewriteScript(vm, migration, null), { timeoutMs: 30_000 });
}

export function claimedError(hostName: string, vm: string, holder: ClaimHolder): FerryError {
  const where = `Ferry on ${holder.machine} (process ${holder.pid}, migration ${holder.migration})`;
  return holder.lease === 'held'
    ? new FerryError('busy', `VM "${vm}" on ${hostName} belongs to a migration that ended in doubt (${where})`, {
        hint: `Settle that migration first: \`ferry migration recover\` on ${holder.machine}.`,
      })
    : new FerryError('busy', `VM "${vm}" on ${hostName} is being migrated by ${where}`, {
        hint: `Wait for that migration to end (\`ferry migration watch ${holder.migration}\` there), or cancel it.`,
      });
}
