/**
 * Long polls from private partners wait here until their connection changes or the wait runs out.
 * In-process only: a poll that lands on another process simply waits its full time.
 */
export class ChangeHub {
  private readonly waiters = new Map<string, Set<() => void>>();

  wait(connectionId: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
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
    for (const done of [...(this.waiters.get(connectionId) ?? [])]) done();
  }

  releaseAll(): void {
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }
}
