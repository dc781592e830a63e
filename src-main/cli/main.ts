import { Command } from 'commander';
import { FERRY_VERSION } from '../core/version.js';
import { hostCommand } from './commands/host.js';
import { poolCommand } from './commands/pool.js';
import { vmCommand } from './commands/vm.js';
import { volCommand } from './commands/vol.js';
import { migrateCommand, migrationCommand } from './commands/migrate.js';
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

try {
  // `from: 'node'`: argv is [node, script, ...args] even under Electron as Node (the packaged
  // /usr/bin/ferry), where commander would otherwise take the script path for a command.
  await program.parseAsync(process.argv, { from: 'node' });
} finally {
  await closeCliEngine();
}
