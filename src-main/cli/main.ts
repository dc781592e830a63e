import { Command } from 'commander';
import { FERRY_VERSION } from '../core/version.js';

const program = new Command();
program
  .name('ferry')
  .description('Manage KVM/QEMU hosts over SSH and move virtual machines between them.')
  .version(FERRY_VERSION, '-V, --version', 'print the Ferry version')
  .showHelpAfterError('(run `ferry --help` for the commands)');

await program.parseAsync(process.argv);
