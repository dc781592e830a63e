import { FerryError } from '../errors.js';
import { channels, type Channel, type ChannelArgs } from './contract.js';

/** Validates untrusted input for a channel; the error lists every problem with its field. */
export function parseChannelInput<C extends Channel>(channel: C, input: unknown): ChannelArgs<C> {
  const result = channels[channel].input.safeParse(input ?? {});
  if (result.success) return result.data as ChannelArgs<C>;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : 'input';
    return `${where}: ${issue.message}`;
  });
  throw new FerryError('invalid-input', `Invalid ${channel} request: ${problems.join('; ')}`, {
    hint: 'Correct the values named above and try again.',
    details: { channel, problems },
  });
}
