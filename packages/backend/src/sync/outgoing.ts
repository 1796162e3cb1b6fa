/**
 * The outgoing run: one local item through the outgoing rule into the outbox. It reads the item,
 * leaves out what the sync itself wrote there (comments and attachments mirrored from this
 * partner), runs the rule, and compares the replica's hash with what the partner already has
 * (outgoing-replica.ts): an unchanged replica sends nothing, a changed one is stored with its
 * event in one statement (twin, outbox, history) and delivery is asked for.
 *
 * A batch job (`outgoingBatch`, a bulk sync's) runs a few items at a time, each under its item's
 * lease like an `outgoing` job; the runs of a round read their states in one statement.
 */
import { randomUUID } from 'node:crypto';
import type { SyncContext } from './context.js';
import { megabytes, type Failures } from './failures.js';
import type { OutgoingReplicas } from './outgoing-replica.js';
import type { OutgoingState } from './repository.js';
import { syncedFieldsOf } from './synced-fields.js';
import { midApply, versionOf } from './versions.js';

/** Outgoing runs of one batch job at once; with two workers on the batch queue, as many as a worker's batch of `outgoing` jobs. */
const BATCH_CONCURRENCY = 8;

export class Outgoing {
  constructor(
    private readonly ctx: SyncContext,
    private readonly replicas: OutgoingReplicas,
    private readonly failures: Failures,
  ) {}

  /**
   * A batch job's outgoing runs. A run that fails unexpectedly becomes an `outgoing` job with
   * backoff; the batch goes on. When the node stops, the runs under way finish and the batch
   * fails, so the job queue runs it again (its done items then send nothing new).
   */
  async batch(connectionId: string, keys: string[]): Promise<void> {
    const { schedule, repo } = this.ctx;
    let next = 0;
    while (next < keys.length && !schedule.stopped) {
      const round = keys.slice(next, next + BATCH_CONCURRENCY).map((key) => ({ connectionId, key }));
      next += round.length;
      await schedule.exclusiveAll('outgoing', round, async (held, done) => {
        // Should the read fail, each run reads its own state instead (and fails on its own).
        const states = held.length
          ? await repo
              .outgoingStates(
                connectionId,
                held.map((d) => d.key),
              )
              .catch(() => new Map<string, OutgoingState>())
          : new Map<string, OutgoingState>();
        await Promise.all(
          held.map(async (data) => {
            try {
              await this.run(connectionId, data.key, states.get(data.key));
            } catch (error) {
              await schedule.requeueUnexpected('outgoing', data, error);
            } finally {
              await done(data);
            }
          }),
        );
      });
    }
    if (next < keys.length)
      throw new Error(`the node stopped with ${keys.length - next} of the batch's ${keys.length} items not looked at; the batch runs again`);
  }

  /** One item's outgoing run, under its lease; `known` is its state if the caller read it under that lease. */
  async run(connectionId: string, key: string, known?: OutgoingState): Promise<void> {
    const { repo, schedule, logger, connector } = this.ctx;
    const row = await this.ctx.liveConnection(connectionId);
    if (!row || (row.status !== 'ACTIVE' && row.status !== 'DEACTIVATED')) return;
    const state = known ?? (await repo.outgoingState(connectionId, key));
    let twin = state.twin;
    if (twin?.status === 'FAILED' && twin.error?.direction === 'outgoing') return;
    // The sync's own writes must not go back out. While the incoming side is writing this item,
    // note that it changed: the apply looks again when it has set the item's baseline.
    if (twin && midApply(twin) && (await repo.markChangedDuringApply(twin.id, null))) return;
    // An incoming first sync may be creating this very item and not know its key yet: wait for it.
    if (!twin && state.creationInFlight) {
      await schedule.later('outgoing', { connectionId, key }, 500);
      return;
    }
    // Unsynced items stay unsynced, whatever the triggers match, until "sync now" asks for them.
    if (!twin && state.wasUnsynced && !(await repo.takeResyncRequest(connectionId, key))) return;
    try {
      const item = await connector.getItem(key);
      if (!item) return;
      // One statement for what the sync stored for it (comments and attachments it wrote, oversize notes).
      const stored = await this.replicas.stored(twin, item.key);
      const { replica, hash, basis, baseline, withheld } = await this.replicas.comparison(row, twin, item, stored);
      logger.debug({ connectionId, item: key, changed: basis?.last_sent_hash !== hash, comments: replica.comments?.length ?? 0 }, 'outgoing rule ran');
      if (twin && basis && basis.last_sent_hash === hash) {
        const settled = twin.status === 'PENDING' && twin.error?.direction === 'outgoing' ? { status: 'SYNCED' as const, error: null, attempts: 0 } : {};
        const madeBaseline = baseline ? { last_sent_hash: hash, last_sent_replica: baseline, local_snapshot: null } : {};
        if (Object.keys(settled).length || baseline || twin.local_version !== versionOf(item))
          await repo.updateTwin(twin.id, { ...settled, ...madeBaseline, local_version: versionOf(item), local_updated: item.updated });
        return;
      }
      const sent = {
        last_sent_hash: hash,
        last_sent_replica: replica,
        local_snapshot: null,
        synced_fields: syncedFieldsOf(item),
        local_project: item.project,
        local_version: versionOf(item),
        local_updated: item.updated,
        ...(twin?.remote_key ? { last_sync_at: new Date() } : {}),
        // An outgoing failure is over; an incoming one (quarantine) stays until it is retried.
        ...(twin?.error?.direction === 'outgoing' ? { status: twin.remote_key ? ('SYNCED' as const) : ('PENDING' as const), error: null, attempts: 0 } : {}),
      };
      const event = { id: randomUUID(), kind: 'replica' as const, itemKey: item.key, payload: { replica, twinKey: twin?.remote_key ?? null } };
      const limit = this.ctx.maxAttachmentBytes;
      const note = withheld.length
        ? `Not sent: ${withheld.map((a) => `${a.filename} (${a.exact ? megabytes(a.size) : `over ${megabytes(limit)}`})`).join(', ')}, larger than this node's limit of ${megabytes(limit)} per attachment.`
        : null;
      if (note) logger.warn({ connectionId, item: key, attachments: withheld.map((a) => a.id) }, note);
      twin = (await repo.recordSend(connectionId, twin ? { id: twin.id } : { localKey: item.key, localUrl: item.url }, sent, event, note)) ?? twin;
      this.ctx.outboxChanged(row);
    } catch (error) {
      await this.failures.failed(row, twin, { localKey: key }, 'outgoing', error, () =>
        schedule.later('outgoing', { connectionId, key }, this.failures.retryDelay(twin?.attempts ?? 0, error)),
      );
    }
  }
}
