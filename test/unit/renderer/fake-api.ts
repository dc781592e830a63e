import { ApiError, type Channel, type ChannelInput, type ChannelOutput, type ErrorInfo, type EventListener, type FerryApi } from '../../../src-renderer/src/api/types.js';

export type Handlers = { [C in Channel]?: (input: ChannelInput<C>) => Promise<ChannelOutput<C>> | ChannelOutput<C> };

export interface FakeApi extends FerryApi {
  calls: Array<{ channel: Channel; input: unknown }>;
  emit: EventListener;
}

/** A FerryApi whose channels answer from `handlers`; unknown channels fail like the engine would. */
export function fakeApi(handlers: Handlers, options: { canRememberSecrets?: boolean } = {}): FakeApi {
  const listeners = new Set<EventListener>();
  const calls: FakeApi['calls'] = [];
  return {
    kind: 'fake',
    canRememberSecrets: options.canRememberSecrets ?? false,
    calls,
    async call<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ChannelOutput<C>> {
      calls.push({ channel, input });
      const handler = handlers[channel] as ((input: ChannelInput<C>) => Promise<ChannelOutput<C>> | ChannelOutput<C>) | undefined;
      if (!handler) throw new ApiError({ code: 'unsupported', message: `${channel} is not faked` });
      return handler(input);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event) {
      listeners.forEach((l) => l(event));
    },
  };
}

export const apiError = (info: ErrorInfo) => new ApiError(info);

/** A promise you resolve later, to observe a dialog while its action runs. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
