/**
 * The incoming apply: what the partner sent for one of its items, through the incoming rule into
 * this tracker. One statement reads the stored state (the inbox's events, the twin, what the sync
 * wrote for the pair, oversize notes); replicas are whole states, so the newest one stands for
 * those before it. Writing the item and reading it for the outgoing rule never overlap: the apply
 * holds the item's outgoing lease.
 *
 * The apply is marked on the twin before any write (`applying_since`, and `creating_since` for a
 * first sync), so a change event of the item meanwhile waits for its end, and an apply the node
 * stopped in the middle of is recognised by the next one, which then recognises what it wrote.
 * Before writing, the apply makes the item's outgoing replica and compares it with the baseline,
 * as the outgoing run would: a change made here whose outgoing run has not come yet (its webhook
 * late, or none and the next scan a while off) is found, and that run follows the apply; the
 * write then keeps the fields of that change the partner's result leaves as they were at the last
 * sync (decision 0011). The writes themselves are write/item-write.ts.
 */
import type { TrackerItem } from '@exalate/connectors';
import { ReplicaSchema, type Replica } from '@exalate/contract';
import type { ScriptItem } from '@exalate/scripting';
import type { ConnectionRow } from '../connections/repository.js';
import type { SyncContext } from './context.js';
import { ItemFailure, scriptFailure, type Failures } from './failures.js';
import { toScriptItem } from './item-view.js';
import { mirroredIds, type OutgoingReplicas } from './outgoing-replica.js';
import { leaseName } from './queue.js';
import type { InboxRow, StoredForItem, TwinRow } from './repository.js';
import { sizeProblem } from './texts.js';
import type { ItemWrite } from './write/item-write.js';
import type { WriteResult } from './write/finish.js';
import type { ApplyDone, ApplyPlan } from './write/plan.js';

/** An apply that finds the item's outgoing run under way tries again this soon. */
const LEASE_BUSY_RETRY_MS = 200;

export class Incoming {
  constructor(
    private readonly ctx: SyncContext,
    private readonly replicas: OutgoingReplicas,
    private readonly writer: ItemWrite,
    private readonly failures: Failures,
  ) {}

  /** The `incoming` job of one of the partner's items. */
  async run(connectionId: string, remoteKey: string): Promise<void> {
    const { repo, schedule } = this.ctx;
    const row = await this.ctx.liveConnection(connectionId);
    // Deactivated: the inbox keeps what arrives; activation queues it again.
    if (!row || row.status !== 'ACTIVE') return;
    // One statement: the events to apply, the twin, and what the sync stored for the pair.
    const { pending, twin: found, ...known } = await repo.incomingState(connectionId, remoteKey);
    if (!pending.length) return;
    const last = pending[pending.length - 1]!;
    let twin = found;
    let stored: StoredForItem = known;
    const twinKey = typeof last.payload['twinKey'] === 'string' ? (last.payload['twinKey'] as string) : null;
    if (!twin && twinKey) {
      // The partner knows our item before our ack reached it back: pair them now.
      twin = await repo.twinByLocal(connectionId, twinKey);
      if (twin) {
        await repo.updateTwin(twin.id, { remote_key: remoteKey });
        stored = await repo.storedFor(twin.id, twin.local_key);
      }
    }
    if (twin?.status === 'FAILED' && twin.error?.direction === 'incoming') return;
    const lease = twin?.local_key ? leaseName('outgoing', { connectionId, key: twin.local_key }) : null;
    if (lease && !(await schedule.tryLease(lease))) {
      await schedule.later('incoming', { connectionId, key: remoteKey }, LEASE_BUSY_RETRY_MS);
      return;
    }
    try {
      await this.leased(row, remoteKey, pending, twin, twinKey, stored);
    } finally {
      if (lease) await schedule.release(lease);
    }
  }

  private async leased(
    row: ConnectionRow,
    remoteKey: string,
    pending: InboxRow[],
    twin: TwinRow | null,
    twinKey: string | null,
    stored: StoredForItem,
  ): Promise<void> {
    const { repo, logger, schedule } = this.ctx;
    const connectionId = row.id;
    const last = pending[pending.length - 1]!;
    if (last.kind === 'unsync') {
      if (twin) {
        await repo.updateTwin(twin.id, { status: 'UNSYNCED', error: null });
        await repo.addHistory(connectionId, twin.id, 'incoming', 'UNSYNCED', 'The partner stopped syncing this item.');
      }
      await repo.markApplied(connectionId, remoteKey, last.seq);
      return;
    }
    const parsed = ReplicaSchema.safeParse(last.payload['replica']);
    if (!parsed.success) {
      await repo.markApplied(connectionId, remoteKey, last.seq);
      logger.warn({ connectionId, item: remoteKey }, 'partner sent a replica that is not one; dropped');
      return;
    }
    try {
      // The partner learns our item's key from the acknowledgement, on a first sync and whenever it
      // did not know it yet.
      const applied = await this.apply(row, twin, parsed.data, { remoteKey, upToSeq: last.seq, ackEvenIfUpdated: !twinKey }, stored);
      if (applied?.acknowledged) this.ctx.outboxChanged(row);
    } catch (error) {
      const current = (await repo.twinByRemote(connectionId, remoteKey)) ?? twin;
      await this.failures.failed(row, current, { remoteKey }, 'incoming', error, () =>
        schedule.later('incoming', { connectionId, key: remoteKey }, this.failures.retryDelay(current?.attempts ?? 0, error)),
      );
    }
  }

  /** Runs the incoming rule and writes the result to the tracker. `stored`: what the sync stored for the pair, read with the twin. */
  /** Null when the rule skipped the item (a first sync it returned from). */
  private async apply(row: ConnectionRow, found: TwinRow | null, replica: Replica, done: ApplyDone, stored: StoredForItem): Promise<WriteResult | null> {
    const { connector, repo, logger, guard, texts, o } = this.ctx;
    let twin = found;
    let current: TrackerItem | null = null;
    if (twin?.local_key) {
      current = await connector.getItem(twin.local_key);
      if (!current)
        throw new ItemFailure({
          code: 'ITEM_NOT_FOUND',
          message: `${twin.local_key} no longer exists here (deleted?). Unsync it, or restore it and retry.`,
          direction: 'incoming',
          retryable: false,
        });
    }
    const firstSync = current === null;
    const project = current?.project ?? row.project;
    const { written } = stored;
    // Read before any write, under the item's outgoing lease: the item as it is now, against what
    // the partner has. A change of ours not sent yet is then not taken for the partner's below.
    const unsent = twin && current ? await this.replicas.unsentChange(row, twin, current, stored) : false;
    const issue: ScriptItem = current ? toScriptItem(current, mirroredIds(written), 'incoming') : { project };
    const received = sizeProblem(replica, replica.key, 'received');
    if (received) throw new ItemFailure({ code: 'REPLICA_TOO_LARGE', message: received, direction: 'incoming', retryable: false });
    const rules = await this.ctx.rulesFor(row);
    const out = await o.runner.runIncoming(
      rules.incoming,
      { issue, replica, previous: twin?.last_received_replica ?? null, firstSync },
      await this.ctx.host(project, row.id),
    );
    if (!out.ok) throw scriptFailure(out.error);
    for (const line of out.logs) logger.info({ connectionId: row.id, item: replica.key, script: 'incoming' }, `debug.log: ${line}`);
    if (firstSync && !twin && out.returned && !out.value.type) {
      // As in Exalate: a rule that returns before making the item skips it. Nothing is created; the
      // partner's next change of the item runs the rule again.
      await repo.markApplied(row.id, done.remoteKey, done.upToSeq);
      logger.info({ connectionId: row.id, item: replica.key }, 'the incoming rule returned before making the item: skipped');
      return null;
    }
    const made = sizeProblem(out.value, replica.key, 'rule');
    if (made) throw new ItemFailure({ code: 'REPLICA_TOO_LARGE', message: made, direction: 'incoming', retryable: false });
    // The texts in the tracker's format, before any write (a large one converts off this thread).
    const native = await texts.native(out.value);
    const desired: ScriptItem = native.description === undefined ? out.value : { ...out.value, description: native.description };

    const recovering = Boolean(twin?.applying_since);
    if (recovering)
      logger.warn({ connectionId: row.id, item: replica.key }, 'an earlier apply of this item was interrupted; recognising what it already wrote');
    // Marked before any write. creating_since stays until the whole first sync is done: the new
    // item's own change events wait for it.
    const interruptedCreate = firstSync ? (twin?.creating_since ?? null) : null;
    const marks = { applying_since: new Date(), ...(firstSync ? { creating_since: interruptedCreate ?? new Date() } : {}) };
    if (!twin) twin = await repo.insertTwin({ connectionId: row.id, remoteKey: replica.key, remoteUrl: replica.url ?? null }, marks);
    else await repo.updateTwin(twin.id, marks);
    if (twin.local_key) guard.beginWrite(row.id, twin.local_key);
    const plan: ApplyPlan = {
      row,
      twin,
      current,
      desired,
      nativeBodies: native.comments,
      written,
      replica,
      firstSync,
      recovering,
      interruptedCreate,
      project,
      done,
      unsent,
      syncBack: out.syncBack === true,
      unrecorded: {},
      unrecordedComments: new Map(),
      wrote: {},
      knownComments: null,
      commentsAdded: 0,
    };
    try {
      return await this.writer.write(plan);
    } catch (error) {
      guard.endWrite(row.id, plan.twin.local_key, null);
      // What this apply wrote is not lost to the next attempt: the item it created and the comments
      // it added (they would otherwise have to be found again, by the recovery's guesses).
      if (Object.keys(plan.unrecorded).length || plan.unrecordedComments.size) {
        await repo
          .saveCommentTwins(plan.twin.id, [...plan.unrecordedComments.values()], plan.unrecorded)
          .catch((e: unknown) =>
            logger.warn(
              { err: e, connectionId: row.id, item: plan.twin.local_key },
              'could not record what a failed apply wrote; the next attempt looks for it',
            ),
          );
      }
      throw error;
    }
  }
}
