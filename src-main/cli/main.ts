import { Command } from 'commander';
import { FERRY_VERSION } from '../core/version.js';
import { hostCommand } from './commands/host.js';
import { poolCommand } from './commands/pool.js';
import { vmCommand } from './commands/vm.js';
import { volCommand } from './commands/vol.js';
import { migrateCommand, migrationCommand } from './commands/migrate.js';
import { HostRegistry } from '../core/host/registry.js';
import { ferryHome, ferryHomeLayout } from '../core/paths.js';
import { resolveHostUrisInArgs } from './host-uri.js';
import { printError } from './output.js';
import { closeCliEngine } from './run.js';

const program = new Command();
program
  .name('ferry')
  .description('Manage KVM/QEMU hosts over SSH and move virtual machines between them.\nState is kept in $FERRY_HOME (default ~/.config/ferry).')
  .version(FERRY_VERSION, '-V, --version', 'print the Ferry version')
  .option('--json', 'print machine-readable JSON')
  .showHelpAfterError('(run `ferry --help` for the commands)');

program.addCommand(hostCommand());
program.addCommand(poolCommand());
program.addCommand(volCommand());
program.addCommand(vmCommand());
program.addCommand(migrateCommand());
program.addCommand(migrationCommand());

/** Host URIs in the arguments become saved host names; the host list is read only when one is there. */
async function argumentsWithHostNames(argv: string[]): Promise<string[]> {
  const args = argv.slice(2);
  if (!args.some((arg) => arg.includes('qemu+ssh://') || arg.includes('qemu://'))) return argv;
  const hosts = await new HostRegistry(ferryHomeLayout(ferryHome()).hosts).list();
  return [...argv.slice(0, 2), ...resolveHostUrisInArgs(args, hosts)];
}

try {
  let argv: string[] | undefined;
  try {
    argv = await argumentsWithHostNames(process.argv);
  } catch (error) {
    printError(error, { json: process.argv.includes('--json') });
  }
  // `from: 'node'`: argv is [node, script, ...args] even under Electron as Node (the packaged
  // /usr/bin/ferry), where commander would otherwise take the script path for a command.
  if (argv) await program.parseAsync(argv, { from: 'node' });
} finally {
  await closeCliEngine();
}
