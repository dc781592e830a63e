import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { EngineEventName, EngineEvents } from '../api/contract.js';
import type { MigrationRecord, MigrationSummary } from '../api/types.js';
import { toFerryError } from '../errors.js';
import { controlDirectory, controlRequestSchema, controlSocketPath, type ControlMessage, type TuneSettings } from './control-protocol.js';

/** What the socket may do to the migration it serves. */
export interface ControlledMigration {
  record(): MigrationRecord;
  cancel(): Promise<MigrationSummary>;
  tune(settings: TuneSettings): Promise<MigrationSummary>;
}

interface Served {
  server: Server;
  watchers: Set<Socket>;
}

const send = (socket: Socket, message: ControlMessage) => {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
};

/** A request line larger than this is not a control request; the connection is dropped. */
const MAX_REQUEST_BYTES = 4096;

/** The control sockets of this process's running migrations, one per migration. */
export class ControlSockets {
  private readonly served = new Map<string, Served>();

  constructor(private readonly home: string) {}

  /** Listens at $FERRY_HOME/run/migration-<id>.sock (only this user may connect). */
  async serve(id: string, migration: ControlledMigration): Promise<void> {
    const directory = controlDirectory(this.home);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const path = controlSocketPath(this.home, id);
    // A socket file left by a process that crashed has no listener; ids are never reused.
    await rm(path, { force: true });
    const served: Served = { server: createServer((socket) => this.accept(socket, migration, served)), watchers: new Set() };
    await new Promise<void>((resolve, reject) => {
      served.server.once('error', reject);
      served.server.listen(path, () => {
        served.server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o600);
    this.served.set(id, served);
  }

  /** Forwards the migration's events to its watchers; the final update (with the report) ends each watch. */
  publish<E extends EngineEventName>(name: E, payload: EngineEvents[E]): void {
    if (name === 'migration-sample') {
      const { id, sample } = payload as EngineEvents['migration-sample'];
      for (const watcher of this.served.get(id)?.watchers ?? []) send(watcher, { type: 'sample', sample });
    } else if (name === 'migration-update') {
      const summary = payload as EngineEvents['migration-update'];
      for (const watcher of this.served.get(summary.id)?.watchers ?? []) {
        send(watcher, { type: 'update', summary });
        if (summary.report !== null) watcher.end();
      }
    }
  }

  /** Stops serving the migration and removes its socket file. */
  async close(id: string): Promise<void> {
    const served = this.served.get(id);
    if (!served) return;
    this.served.delete(id);
    for (const watcher of served.watchers) watcher.end();
    await new Promise<void>((resolve) => served.server.close(() => resolve()));
    await rm(controlSocketPath(this.home, id), { force: true });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.served.keys()].map((id) => this.close(id)));
  }

  private accept(socket: Socket, migration: ControlledMigration, served: Served): void {
    socket.on('error', () => served.watchers.delete(socket));
    socket.on('close', () => served.watchers.delete(socket));
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_REQUEST_BYTES) socket.destroy();
    });
    const lines = createInterface({ input: socket });
    lines.on('error', () => undefined);
    lines.once('line', (line) => {
      lines.close();
      // Keep reading (and dropping) so a watcher that hangs up is noticed.
      socket.resume();
      void this.answer(socket, line, migration, served);
    });
  }

  private async answer(socket: Socket, line: string, migration: ControlledMigration, served: Served): Promise<void> {
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      const request = controlRequestSchema.safeParse(parsed);
      if (!request.success) {
        send(socket, { type: 'error', error: { code: 'invalid-input', message: `Not a control request: ${request.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ')}`, hint: 'Send one JSON line: {"op":"watch"}, {"op":"cancel"} or {"op":"tune",...}.' } });
        socket.end();
        return;
      }
      const { op, ...settings } = request.data;
      if (op === 'watch') {
        const record = migration.record();
        send(socket, { type: 'record', record });
        if (record.report !== null) socket.end();
        else served.watchers.add(socket);
        return;
      }
      const summary = op === 'cancel' ? await migration.cancel() : await migration.tune(settings);
      send(socket, { type: 'result', summary });
    } catch (error) {
      const { code, message, hint } = toFerryError(error);
      send(socket, { type: 'error', error: { code, message, ...(hint === undefined ? {} : { hint }) } });
    }
    socket.end();
  }
}
