import type { Channel, ChannelInput, ChannelOutput, EngineEvent, EngineEventName, EngineEvents } from '../../../src-main/core/api/contract';

export type { Channel, ChannelInput, ChannelOutput, EngineEvent, EngineEventName, EngineEvents };

export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

/** A FerryError as it arrives in the renderer (from IPC or the WebSocket). */
export class ApiError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    this.hint = info.hint;
    this.details = info.details;
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}), ...(this.details ? { details: this.details } : {}) };
  }
}

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof ApiError) return error.toInfo();
  if (error instanceof Error) return { code: 'internal', message: error.message };
  return { code: 'internal', message: String(error) };
}

/** Gets every engine event; narrowing on `event.name` gives the matching payload. */
export type EventListener = (event: EngineEvent) => void;

export interface CallOptions {
  /** hosts.add: keep the password/passphrase (Electron safeStorage only). */
  rememberSecrets?: boolean;
}

export type LinkState = 'connecting' | 'open' | 'closed';

/** What the UI needs from whatever shell hosts it (Electron preload, or the web bridge). */
export interface FerryApi {
  readonly kind: 'electron' | 'web' | 'fake';
  readonly canRememberSecrets: boolean;
  call<C extends Channel>(channel: C, input: ChannelInput<C>, options?: CallOptions): Promise<ChannelOutput<C>>;
  onEvent(listener: EventListener): () => void;
  /** Web only: the WebSocket's state (Electron is always "open"). */
  onLink?(listener: (state: LinkState) => void): () => void;
}

export type WireResult = { ok: true; value: unknown } | { ok: false; error: ErrorInfo };
