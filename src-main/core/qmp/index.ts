export {
  QmpClient,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_NEGOTIATION_TIMEOUT_MS,
  type ExecuteOptions,
  type QmpClientEvents,
  type QmpClientOptions,
  type QmpClientState,
} from './client.js';
export { QemuCapabilities, KNOWN_ENUMS, probeQemu, type ProbeOptions, type QemuVersion } from './capabilities.js';
export { type QmpEventFilter } from './event-stream.js';
export { QmpFramer, DEFAULT_MAX_LINE_BYTES, type QmpFrame, type QmpFramerOptions } from './framing.js';
export {
  classifyServerMessage,
  isQmpErrorResponse,
  isQmpGreeting,
  isQmpSuccess,
  isQmpVersionInfo,
  toQmpEvent,
  type QmpArguments,
  type QmpCommand,
  type QmpErrorBody,
  type QmpErrorResponse,
  type QmpEvent,
  type QmpGreeting,
  type QmpServerMessage,
  type QmpSuccess,
  type QmpTimestamp,
  type QmpVersionInfo,
  type QmpVersionTriple,
} from './messages.js';
export { QmpSchema, type SchemaEntry, type SchemaMember, type SchemaRoot } from './schema.js';
