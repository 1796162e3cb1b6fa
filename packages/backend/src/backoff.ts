/**
 * How long to wait before trying again, the one formula every retry of the node uses (an item's
 * sync, a delivery to the partner, a step that failed unexpectedly, a private node's poll):
 * exponential from `baseMs`, capped at `maxMs`, with jitter (half to all of it) so that many
 * retries that failed together do not come back together, and never sooner than a tracker's
 * `Retry-After`.
 */
export interface BackoffBounds {
  baseMs: number;
  maxMs: number;
}

export function backoffMs(attempts: number, bounds: BackoffBounds, retryAfterMs = 0): number {
  const exponential = Math.min(bounds.maxMs, bounds.baseMs * 2 ** Math.min(Math.max(attempts, 0), 20));
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  return Math.max(retryAfterMs, jittered);
}
