import { FerryError } from '../../src-main/core/errors.js';

/** Awaits a promise that must reject with a FerryError and returns that error for assertions. */
export async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error(`expected a FerryError, got ${JSON.stringify(value)}`);
}
