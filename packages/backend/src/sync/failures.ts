/**
 * Item failures: what went wrong with one item's sync, said for the admin (a stable code, a
 * message, the rule's line), and what happens next. A retryable failure (a tracker that is away,
 * a 429) backs off and tries again; any other quarantines the item until the admin retries it.
 */
import { ConnectorError } from '@exalate/connectors';
import { formatScriptError, TextConversionError, type ScriptError } from '@exalate/scripting';
import { backoffMs } from '../backoff.js';
import type { ConnectionRow } from '../connections/repository.js';
import type { SyncContext } from './context.js';
import type { SyncItemError, TwinRow } from './repository.js';

/** A failure that retrying will not fix: the item is quarantined until the admin retries it. */
export class ItemFailure extends Error {
  constructor(readonly error: Omit<SyncItemError, 'at'>) {
    super(error.message);
  }
}

export const scriptFailure = (e: ScriptError): ItemFailure =>
  new ItemFailure({ code: e.code, message: formatScriptError(e), direction: e.direction, line: e.line, retryable: e.code === 'SCRIPT_UNAVAILABLE' });

export function describeFailure(error: unknown, direction: 'outgoing' | 'incoming'): Omit<SyncItemError, 'at'> {
  if (error instanceof ItemFailure) return error.error;
  if (error instanceof TextConversionError) {
    return {
      code: 'TEXT_CONVERSION_FAILED',
      message: `A text of this item could not be written in this tracker's format: ${error.message}. Shorten the text, or leave it out in a rule, then retry the item.`,
      direction,
      retryable: false,
    };
  }
  if (error instanceof ConnectorError) {
    const where = `${error.details.tracker}${error.details.status ? ` answered HTTP ${error.details.status}` : ''}`;
    return { code: `TRACKER_${error.code}`, message: `${where}: ${error.message}`, direction, retryable: error.retryable };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'SYNC_INTERNAL_ERROR', message: `Unexpected error: ${message}`, direction, retryable: false };
}

/** "25 MB", "0.1 MB": a size as an admin reads it. */
export const megabytes = (bytes: number): string => `${Number((bytes / 1024 / 1024).toFixed(1))} MB`;

export class Failures {
  constructor(private readonly ctx: SyncContext) {}

  /**
   * When an item's next attempt is due (backoff.ts): by its attempts, never before the tracker's
   * `Retry-After`; `maxMs` for a wait capped lower than an item's (a delivery's).
   */
  retryDelay(attempts: number, error: unknown, maxMs = this.ctx.retry.maxMs): number {
    const retryAfter = error instanceof ConnectorError ? (error.details.retryAfterMs ?? 0) : 0;
    return backoffMs(attempts, { baseMs: this.ctx.retry.baseMs, maxMs }, retryAfter);
  }

  /** Retryable: back off and try again (`retry`). Otherwise: quarantine the item with its error. */
  async failed(
    row: ConnectionRow,
    twin: TwinRow | null,
    keys: { localKey?: string; remoteKey?: string },
    direction: 'outgoing' | 'incoming',
    error: unknown,
    retry: () => Promise<void>,
  ): Promise<void> {
    const { repo, logger } = this.ctx;
    const described = describeFailure(error, direction);
    const itemError: SyncItemError = { ...described, at: new Date().toISOString() };
    const target = twin ?? (await repo.insertTwin({ connectionId: row.id, localKey: keys.localKey ?? null, remoteKey: keys.remoteKey ?? null }));
    const attempts = target.attempts + 1;
    if (described.retryable) {
      await repo.updateTwin(target.id, { status: target.status === 'UNSYNCED' ? 'UNSYNCED' : 'PENDING', error: itemError, attempts });
      logger.warn({ connectionId: row.id, keys, code: described.code, attempts }, `${direction} sync will be retried: ${described.message}`);
      await retry();
    } else {
      await repo.updateTwin(target.id, { status: 'FAILED', error: itemError, attempts });
      logger.error({ connectionId: row.id, keys, code: described.code }, `${direction} sync failed; the item is quarantined: ${described.message}`);
    }
    await repo.addHistory(row.id, target.id, direction, described.retryable ? 'RETRYING' : 'FAILED', described.message);
  }
}
