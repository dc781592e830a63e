import type { Command } from 'commander';
import type { Channel, ChannelInput, ChannelOutput } from '../core/api/contract.js';
import { FerryEngine } from '../core/engine.js';
import { printError, printResult } from './output.js';

let engine: FerryEngine | undefined;
export function cliEngine(): FerryEngine {
  engine ??= new FerryEngine();
  return engine;
}

export async function closeCliEngine(): Promise<void> {
  await engine?.close();
}

export function jsonFlag(command: Command): boolean {
  return command.optsWithGlobals<{ json?: boolean }>().json === true;
}

/** Calls one channel and prints its result in the format the user asked for. */
export async function runChannel<C extends Channel>(command: Command, channel: C, input: ChannelInput<C>, text: (result: ChannelOutput<C>) => string): Promise<void> {
  const json = jsonFlag(command);
  try {
    const result = await cliEngine().call(channel, input);
    printResult(result, { json }, () => text(result));
  } catch (error) {
    printError(error, { json });
  }
}
