import type { ChannelArgs, ChannelOutput } from '../api/contract.js';
import { FerryError } from '../errors.js';

// Placeholder until the migration engine lands in this folder; every call says so plainly.
const notYet = (): never => {
  throw new FerryError('unsupported', 'Migration is not built yet', { hint: 'Update Ferry.' });
};

export class MigrationService {
  modes(_args: ChannelArgs<'migrations.modes'>): Promise<ChannelOutput<'migrations.modes'>> {
    return notYet();
  }
  check(_args: ChannelArgs<'migrations.check'>): Promise<ChannelOutput<'migrations.check'>> {
    return notYet();
  }
  start(_args: ChannelArgs<'migrations.start'>): Promise<ChannelOutput<'migrations.start'>> {
    return notYet();
  }
  cancel(_args: ChannelArgs<'migrations.cancel'>): Promise<ChannelOutput<'migrations.cancel'>> {
    return notYet();
  }
  tune(_args: ChannelArgs<'migrations.tune'>): Promise<ChannelOutput<'migrations.tune'>> {
    return notYet();
  }
  list(): Promise<ChannelOutput<'migrations.list'>> {
    return notYet();
  }
  get(_args: ChannelArgs<'migrations.get'>): Promise<ChannelOutput<'migrations.get'>> {
    return notYet();
  }
  export(_args: ChannelArgs<'migrations.export'>): Promise<ChannelOutput<'migrations.export'>> {
    return notYet();
  }
}
