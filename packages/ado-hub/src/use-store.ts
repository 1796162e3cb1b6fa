import { useEffect, useState } from 'react';

interface Observable<S> {
  getState(): S;
  subscribe(listener: (state: S) => void): () => void;
}

/** Renders a wizard-core store (React 16 has no useSyncExternalStore). */
export function useStore<S>(store: Observable<S>): S {
  const [state, setState] = useState(store.getState());
  useEffect(() => {
    setState(store.getState());
    return store.subscribe(setState);
  }, [store]);
  return state;
}
