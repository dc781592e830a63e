/**
 * Wire shapes of the QEMU Machine Protocol (docs/interop/qmp-spec.rst) and the narrowing functions
 * that turn a parsed JSON object into one of them. Everything arriving from QEMU passes through
 * these guards, so the rest of the client never trusts a shape it has not checked.
 * QEMU may add keys at any time; the guards ignore keys they do not know.
 */

export type QmpArguments = Record<string, unknown>;

export interface QmpVersionTriple {
  major: number;
  minor: number;
  micro: number;
}

export interface QmpVersionInfo {
  qemu: QmpVersionTriple;
  package: string;
}

export interface QmpGreeting {
  QMP: {
    version: QmpVersionInfo;
    capabilities: string[];
  };
}

export interface QmpCommand {
  execute: string;
  arguments?: QmpArguments;
  id?: string;
}

export interface QmpSuccess {
  return: unknown;
  /** Absent only if the command was sent without an id, which this client never does. */
  id?: unknown;
}

export interface QmpErrorBody {
  class: string;
  desc: string;
}

export interface QmpErrorResponse {
  error: QmpErrorBody;
  /** Absent when QEMU could not parse the request well enough to find its id. */
  id?: unknown;
}

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

export interface QmpEvent {
  event: string;
  /** QEMU omits `data` for events that carry none (STOP, RESUME); normalised to {}. */
  data: Record<string, unknown>;
  timestamp: QmpTimestamp;
}

export type QmpServerMessage =
  | { kind: 'greeting'; greeting: QmpGreeting }
  | { kind: 'success'; response: QmpSuccess }
  | { kind: 'error'; response: QmpErrorResponse }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'unknown'; message: Record<string, unknown> };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

export function isQmpVersionTriple(value: unknown): value is QmpVersionTriple {
  return isRecord(value) && isFiniteNumber(value.major) && isFiniteNumber(value.minor) && isFiniteNumber(value.micro);
}

export function isQmpVersionInfo(value: unknown): value is QmpVersionInfo {
  return isRecord(value) && isQmpVersionTriple(value.qemu) && typeof value.package === 'string';
}

export function isQmpGreeting(value: unknown): value is QmpGreeting {
  if (!isRecord(value) || !isRecord(value.QMP)) return false;
  return isQmpVersionInfo(value.QMP.version) && isStringArray(value.QMP.capabilities);
}

export function isQmpSuccess(value: unknown): value is QmpSuccess {
  return isRecord(value) && 'return' in value;
}

export function isQmpErrorBody(value: unknown): value is QmpErrorBody {
  return isRecord(value) && typeof value.class === 'string' && typeof value.desc === 'string';
}

export function isQmpErrorResponse(value: unknown): value is QmpErrorResponse {
  return isRecord(value) && isQmpErrorBody(value.error);
}

export function isQmpTimestamp(value: unknown): value is QmpTimestamp {
  return isRecord(value) && isFiniteNumber(value.seconds) && isFiniteNumber(value.microseconds);
}

/** Accepts an event whose `data` is missing; use toQmpEvent to get the normalised form. */
export function isQmpEventMessage(value: unknown): value is { event: string; data?: Record<string, unknown>; timestamp: QmpTimestamp } {
  return (
    isRecord(value) &&
    typeof value.event === 'string' &&
    isQmpTimestamp(value.timestamp) &&
    (value.data === undefined || isRecord(value.data))
  );
}

export function toQmpEvent(value: unknown): QmpEvent | undefined {
  if (!isQmpEventMessage(value)) return undefined;
  return { event: value.event, data: value.data ?? {}, timestamp: value.timestamp };
}

/** Sorts one message from QEMU into its kind; `unknown` is a well-formed object of no known shape. */
export function classifyServerMessage(message: Record<string, unknown>): QmpServerMessage {
  if (isQmpGreeting(message)) return { kind: 'greeting', greeting: message };
  if (isQmpErrorResponse(message)) return { kind: 'error', response: message };
  if (isQmpSuccess(message)) return { kind: 'success', response: message };
  const event = toQmpEvent(message);
  if (event !== undefined) return { kind: 'event', event };
  return { kind: 'unknown', message };
}
