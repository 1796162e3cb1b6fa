/**
 * A minimal observable state container, alive while it is watched. Views subscribe and render
 * `getState()`; like TanStack Query's Subscribable, a store learns when its first subscriber comes
 * (`onActive`: load, start polling) and when its last one leaves (`onInactive`: stop timers, stop
 * following a bulk sync). A view never has to remember to close a store.
 */
export type Listener<S> = (state: S) => void;

export class Store<S> {
  private listeners = new Set<Listener<S>>();
  constructor(private state: S) {}

  getState = (): S => this.state;

  /** Whether anything watches the store now. */
  protected get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Returns the unsubscribe function (the shape React's useSyncExternalStore expects). */
  subscribe = (listener: Listener<S>): (() => void) => {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.onActive();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.onInactive();
    };
  };

  /** The first subscriber came (again). */
  protected onActive(): void {}
  /** The last subscriber left. */
  protected onInactive(): void {}

  protected setState(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    const next = typeof patch === 'function' ? patch(this.state) : patch;
    this.state = { ...this.state, ...next };
    for (const l of [...this.listeners]) l(this.state);
  }
}
