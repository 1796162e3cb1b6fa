/**
 * Long polls from private partners wait here until their connection changes or the wait runs out.
 * In-process only: a change made by another process sharing the database is seen by the poll's
 * own periodic look at the database.
 */
export class ChangeHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly versions = new Map<string, number>();

  /** Read before looking at the state; `wait(…, since)` then returns at once if a change came in between. */
  version(connectionId: string): number {
    return this.versions.get(connectionId) ?? 0;
  }

  wait(connectionId: string, ms: number, signal?: AbortSignal, since?: number): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    if (since !== undefined && this.version(connectionId) !== since) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(connectionId) ?? new Set<() => void>();
      this.waiters.set(connectionId, set);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(connectionId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  notify(connectionId: string): void {
    this.versions.set(connectionId, this.version(connectionId) + 1);
    for (const done of [...(this.waiters.get(connectionId) ?? [])]) done();
  }

  releaseAll(): void {
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }
}
