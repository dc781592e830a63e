import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { FerryState, FerryStore } from './store';

const StoreContext = createContext<FerryStore | null>(null);

export function StoreProvider({ store, children }: { store: FerryStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

export function useFerryStore(): FerryStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useFerry must be used inside <StoreProvider>');
  return store;
}

/** Selects from the app store; the selector must return stable values (no new arrays/objects). */
export function useFerry<T>(selector: (state: FerryState) => T): T {
  return useStore(useFerryStore(), selector);
}
