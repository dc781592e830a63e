import { FerryError } from '../errors.js';

/** The promise's result, or FerryError('timeout') once `ms` have passed (the work itself goes on). */
export function within<T>(ms: number, promise: Promise<T>, what = 'The host'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FerryError('timeout', `${what}: no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
