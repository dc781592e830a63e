import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNEL_NAMES, EVENT_CHANNEL } from './channel-names.js';

// One function per contract channel, each bound to its own IPC channel name: the renderer can
// never pick an arbitrary channel (there is no generic invoke). Inputs are validated in the main
// process by engine.call.
type Result = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } };

const api: Record<string, unknown> = { shell: 'electron', canRememberSecrets: true };
for (const channel of CHANNEL_NAMES) {
  api[channel] = (input: unknown, options?: { rememberSecrets?: boolean }): Promise<Result> =>
    ipcRenderer.invoke(channel, input, options?.rememberSecrets === true ? { rememberSecrets: true } : undefined) as Promise<Result>;
}
// Events pass through unchecked: the renderer's api layer checks each one's name before use.
api['onEvent'] = (listener: (event: unknown) => void): (() => void) => {
  const wrapped = (_ipcEvent: IpcRendererEvent, event: unknown) => listener(event);
  ipcRenderer.on(EVENT_CHANNEL, wrapped);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
  };
};

contextBridge.exposeInMainWorld('ferry', Object.freeze(api));
