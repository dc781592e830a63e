/**
 * Every error the engine raises on purpose is a FerryError with a stable code, so that the CLI,
 * the IPC layer and the web bridge can all turn it into the same message and the same JSON.
 * `hint` tells the user what to do about it.
 */
export type FerryErrorCode =
  | 'invalid-input'
  | 'not-found'
  | 'already-exists'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth-failed'
  | 'connection-failed'
  | 'connection-lost'
  | 'remote-command-failed'
  | 'output-too-large'
  | 'qmp-error'
  | 'qmp-timeout'
  | 'qmp-protocol'
  | 'qmp-disconnected'
  | 'no-space'
  | 'busy'
  | 'unsupported'
  | 'timeout'
  | 'preflight-failed'
  | 'cancelled'
  | 'migration-failed'
  | 'internal';

export class FerryError extends Error {
  readonly code: FerryErrorCode;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: FerryErrorCode, message: string, options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  toJSON(): { code: FerryErrorCode; message: string; hint?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details === undefined ? {} : { details: { ...this.details } }),
    };
  }
}

export function isFerryError(value: unknown, code?: FerryErrorCode): value is FerryError {
  return value instanceof FerryError && (code === undefined || value.code === code);
}

/** Wraps anything thrown into a FerryError without losing the original as `cause`. */
export function toFerryError(value: unknown): FerryError {
  if (value instanceof FerryError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new FerryError('internal', message, { cause: value });
}
