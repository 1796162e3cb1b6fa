import { useSyncExternalStore } from 'react';

interface Observable<S> {
  getState(): S;
  subscribe(listener: (state: S) => void): () => void;
}

/**
 * Renders a wizard-core store. Subscribing is what keeps its flow alive (and leaving closes it),
 * so `subscribe` must be the store's own, stable function: a new one per render would make React
 * leave and come back on every render, and the flow start over each time.
 */
export function useStore<S>(store: Observable<S>): S {
  return useSyncExternalStore(store.subscribe, store.getState);
}
