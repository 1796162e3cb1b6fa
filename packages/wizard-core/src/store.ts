/** A minimal observable state container: the views subscribe and render `getState()`. */
export type Listener<S> = (state: S) => void;

export class Store<S> {
  private listeners = new Set<Listener<S>>();
  constructor(private state: S) {}

  getState = (): S => this.state;

  /** Returns the unsubscribe function (the shape React's useSyncExternalStore expects). */
  subscribe = (listener: Listener<S>): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  protected setState(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    const next = typeof patch === 'function' ? patch(this.state) : patch;
    this.state = { ...this.state, ...next };
    for (const l of [...this.listeners]) l(this.state);
  }
}
