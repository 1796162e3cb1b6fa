/**
 * Delivery: the outbox to the partner, and what the partner sends here into the inbox.
 *
 * - To a public partner the outbox is pushed (`deliver`, one round at a time per connection, see
 *   scheduler.ts), in batches within the body limit; a private node pushes its attachments' bytes
 *   first (attachments.ts). A private partner polls instead: `eventsForPoll` answers its held poll.
 * - A delivery the partner did not take is retried with backoff, per connection (see
 *   `deliveryRetries`). When the partner calls this node, what waits for it goes at once. The
 *   partner's answer that it deleted the connection stops it for good.
 * - `receive` stores what the partner sent (pushed here, or pulled by this node's poll) and asks
 *   for each item's incoming apply.
 */
import type { SyncEvent } from '@exalate/contract';
import type { ConnectionRow } from '../connections/repository.js';
import { isDeletedByPartner, type PeerCallError, type SigningIdentity } from '../peer/client.js';
import type { AttachmentTransfers } from './attachments.js';
import type { SyncContext } from './context.js';
import { withinBody } from './event-batches.js';
import type { Failures } from './failures.js';
import type { OutboxRow } from './repository.js';

/** Events in one delivery or poll answer, at most (fewer when their bodies would be too large together). */
const EVENTS_PER_BATCH = 100;
/** A delivery to a partner that is away is retried within a minute at most. */
const DELIVERY_RETRY_MAX_MS = 60_000;

export class Delivery {
  /**
   * Per connection whose partner did not take the last delivery: how many retries failed, and when
   * the next one is due. New events still try at once (the partner may be back), but only a
   * failure of a due retry makes the wait longer: an hour's outage with many changes must not
   * push the next retry to its cap just because each change tried once.
   */
  private readonly deliveryRetries = new Map<string, { attempts: number; dueAt: number }>();

  constructor(
    private readonly ctx: SyncContext,
    private readonly attachments: AttachmentTransfers,
    private readonly failures: Failures,
  ) {}

  /** @param scheduled the queue's retry (or a restart's), not an attempt for new events. */
  async deliver(connectionId: string, scheduled = false): Promise<void> {
    const { repo, logger, schedule, o } = this.ctx;
    const row = await this.ctx.liveConnection(connectionId);
    // A Deactivated connection keeps its outbox until it is activated again.
    if (!row || row.status !== 'ACTIVE' || !row.connection_key || !this.ctx.partnerReachable(row)) return;
    const identity = o.identity(row);
    for (;;) {
      const events = withinBody(await repo.undelivered(connectionId, EVENTS_PER_BATCH));
      if (!events.length) {
        this.deliveryRetries.delete(connectionId);
        return;
      }
      const failure = await this.sendBatch(row, identity, events);
      if (failure && isDeletedByPartner(failure)) {
        // Its notice of the deletion did not reach us (we were away): this is how we learn it.
        // The outbox keeps what was waiting; nothing is retried into a connection that is gone.
        this.deliveryRetries.delete(connectionId);
        await o.partnerDeleted(row);
        return;
      }
      if (failure) {
        const retry = this.deliveryRetries.get(connectionId);
        // Tried early (new events came): the retry already scheduled stands.
        if (retry && !scheduled && Date.now() < retry.dueAt) return;
        const attempts = (retry?.attempts ?? 0) + 1;
        const delay = this.failures.retryDelay(attempts, null, DELIVERY_RETRY_MAX_MS);
        this.deliveryRetries.set(connectionId, { attempts, dueAt: Date.now() + delay });
        logger.warn({ connectionId, reason: failure.kind, message: failure.message, attempts, retryInMs: delay }, 'delivery to the partner failed; will retry');
        await schedule.later('deliver', { connectionId }, delay);
        return;
      }
      this.deliveryRetries.delete(connectionId);
    }
  }

  private async sendBatch(row: ConnectionRow, identity: SigningIdentity, events: OutboxRow[]): Promise<PeerCallError | null> {
    const { repo, o } = this.ctx;
    if (o.isPrivate) {
      const refused = await this.attachments.pushAhead(row, identity, events, this.deliveryRetries.has(row.id));
      if (refused) return refused;
    }
    const sent = await o.peers.sendEvents(row.partner_node_url!, identity, events.map(toEvent));
    if (!sent.ok) return sent.error;
    await repo.markDelivered(row.id, events[events.length - 1]!.seq);
    return null;
  }

  /** Events for a private partner's poll, after marking what it has stored as delivered. */
  async eventsForPoll(row: ConnectionRow, ack: number | undefined): Promise<SyncEvent[]> {
    const { repo } = this.ctx;
    if (ack !== undefined && ack > 0) await repo.markDelivered(row.id, ack);
    if (row.status !== 'ACTIVE') return [];
    return withinBody(await repo.undelivered(row.id, EVENTS_PER_BATCH, ack ?? 0)).map(toEvent);
  }

  /** Stores what the partner sent (pushed to us, or pulled by our poll) and queues it. */
  async receive(row: ConnectionRow, events: SyncEvent[]): Promise<void> {
    const { repo, schedule } = this.ctx;
    const fresh = await repo.receive(row.id, events);
    for (const key of new Set(fresh.filter((e) => e.kind !== 'ack').map((e) => e.itemKey))) schedule.now('incoming', { connectionId: row.id, key });
    // The partner just reached us, so it is back: what waits for it goes now, not at the next retry.
    if (this.deliveryRetries.has(row.id) && this.ctx.partnerReachable(row)) schedule.now('deliver', { connectionId: row.id });
  }
}

function toEvent(row: OutboxRow): SyncEvent {
  return { id: row.id, seq: Number(row.seq), kind: row.kind, itemKey: row.item_key, payload: row.payload };
}
