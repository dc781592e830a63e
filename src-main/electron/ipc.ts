import { channelNames, type Channel } from '../core/api/contract.js';
import type { CallContext, FerryEngine } from '../core/engine.js';
import { FerryError, toFerryError } from '../core/errors.js';
import type { SecretStore } from './secrets.js';

export type IpcResult = { ok: true; value: unknown } | { ok: false; error: ReturnType<FerryError['toJSON']> };

/** The slice of an IpcMainInvokeEvent this module uses; `sender` is the calling window's WebContents. */
export interface IpcEventLike {
  senderFrame: { url: string } | null;
  sender?: { id: number; on(event: 'destroyed' | 'did-start-loading', listener: () => void): unknown };
}

/** The slice of ipcMain / IpcMainInvokeEvent this module uses, so it can be tested without Electron. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<IpcResult>): void;
  removeHandler(channel: string): void;
}

export interface IpcOptions {
  engine: FerryEngine;
  /** Decides from the sending frame's URL whether a message is from our renderer. */
  isTrustedSender(url: string | undefined): boolean;
  secrets?: SecretStore;
}

/** Registers one ipcMain.handle per contract channel. Every result crosses as {ok,value} | {ok,error}. */
export function registerIpc(ipcMain: IpcMainLike, options: IpcOptions): () => void {
  const watched = new Set<number>();
  // A window's consoles close when it is destroyed or reloads (a reloaded page never closes them itself).
  const callerOf = (event: IpcEventLike): CallContext => {
    const sender = event.sender;
    if (!sender) return { owner: 'window' };
    const owner = `window-${sender.id}`;
    if (!watched.has(sender.id)) {
      watched.add(sender.id);
      sender.on('destroyed', () => {
        watched.delete(sender.id);
        options.engine.consoles.closeOwner(owner);
      });
      sender.on('did-start-loading', () => options.engine.consoles.closeOwner(owner));
    }
    return { owner };
  };
  for (const channel of channelNames) {
    ipcMain.handle(channel, async (event, input, extra) => {
      try {
        if (!options.isTrustedSender(event.senderFrame?.url)) {
          throw new FerryError('invalid-input', 'IPC refused: the request did not come from the Ferry window');
        }
        return { ok: true, value: await dispatch(options, channel, input, extra, callerOf(event)) };
      } catch (error) {
        return { ok: false, error: toFerryError(error).toJSON() };
      }
    });
  }
  return () => {
    for (const channel of channelNames) ipcMain.removeHandler(channel);
  };
}

async function dispatch(options: IpcOptions, channel: Channel, input: unknown, extra: unknown, caller: CallContext): Promise<unknown> {
  const { engine, secrets } = options;
  const remember = typeof extra === 'object' && extra !== null && (extra as { rememberSecrets?: unknown }).rememberSecrets === true;
  if (secrets && channel === 'hosts.connect' && typeof input === 'object' && input !== null) {
    const name = (input as { name?: unknown }).name;
    if (typeof name === 'string') {
      const saved = await secrets.load(name);
      if (saved) engine.connections.rememberSecrets(name, saved);
    }
  }
  const value = await engine.call(channel, input, caller);
  if (secrets && channel === 'hosts.add' && remember) {
    const args = input as { name: string; password?: string; passphrase?: string };
    await secrets.save(args.name, { ...(args.password ? { password: args.password } : {}), ...(args.passphrase ? { passphrase: args.passphrase } : {}) });
  }
  if (secrets && channel === 'hosts.remove') {
    await secrets.forget((input as { name: string }).name);
  }
  return value;
}
