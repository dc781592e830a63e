import { checkedEventListener } from './events';
import { ApiError, type CallOptions, type Channel, type ChannelInput, type ChannelOutput, type EventListener, type FerryApi, type WireResult } from './types';

/** What preload.ts exposes as window.ferry: one function per channel plus onEvent. */
export interface FerryPreload {
  shell: 'electron';
  canRememberSecrets?: boolean;
  /** Events arrive as preload got them from IPC: unchecked. */
  onEvent(listener: (event: unknown) => void): () => void;
  [channel: string]: unknown;
}

export function electronPreload(): FerryPreload | undefined {
  const candidate = (globalThis as { ferry?: unknown }).ferry;
  if (typeof candidate === 'object' && candidate !== null && (candidate as { shell?: unknown }).shell === 'electron') return candidate as FerryPreload;
  return undefined;
}

export function createElectronApi(preload: FerryPreload): FerryApi {
  return {
    kind: 'electron',
    canRememberSecrets: preload.canRememberSecrets === true,
    async call<C extends Channel>(channel: C, input: ChannelInput<C>, options?: CallOptions): Promise<ChannelOutput<C>> {
      const fn = preload[channel];
      if (typeof fn !== 'function') throw new ApiError({ code: 'internal', message: `The desktop shell does not offer ${channel}` });
      const result = (await (fn as (input: unknown, options?: CallOptions) => Promise<WireResult>)(input, options)) as WireResult;
      if (result.ok) return result.value as ChannelOutput<C>;
      throw new ApiError(result.error);
    },
    onEvent(listener: EventListener) {
      return preload.onEvent(checkedEventListener(listener));
    },
  };
}
