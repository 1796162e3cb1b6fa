/**
 * The finish of an apply's write: the item is read back (its comments only when a write did not
 * say them), and what it now looks like going out is what the partner already has, so no echo:
 * the item is kept as the twin's baseline (`local_snapshot`) and the next outgoing run makes that
 * replica from it. Unless the item holds more than the partner's change (one of ours not sent
 * yet, or someone else's made while the apply wrote), or the rule asked for it to go back: then the
 * baseline stays what it was, and an outgoing run finds that change. The fields as of this sync
 * (`synced_fields`, synced-fields.ts) are the item's as read back, or, with a change here in it,
 * only the fields the apply wrote.
 *
 * The apply's end (twin, inbox, history, acknowledgement, and the comment twins of the comments it
 * wrote) is one statement.
 */
import { randomUUID } from 'node:crypto';
import type { ItemChanges, TrackerItem } from '@exalate/connectors';
import type { ScriptItem } from '@exalate/scripting';
import type { SyncContext } from '../context.js';
import type { TwinRow } from '../repository.js';
import { syncedAfterApply } from '../synced-fields.js';
import { isNewer, versionOf } from '../versions.js';
import { fieldChanges } from './fields.js';
import type { ApplyPlan } from './plan.js';

export interface WriteResult {
  twin: TwinRow;
  item: TrackerItem;
  /** The partner was told our item's key (a first sync, or it did not know it). */
  acknowledged: boolean;
}

export class FinishWrite {
  constructor(private readonly ctx: SyncContext) {}

  async finish(plan: ApplyPlan): Promise<WriteResult> {
    const { connector, repo, logger, guard, schedule } = this.ctx;
    const { row, replica, firstSync, done, knownComments, twin } = plan;
    const current = plan.current!;
    const localKey = twin.local_key!;
    logger.debug({ connectionId: row.id, item: replica.key, localKey, created: firstSync }, 'incoming replica applied');
    const commentsReadBack = knownComments === null;
    const after = (await connector.getItem(localKey, knownComments ? { comments: knownComments } : undefined)) ?? current;
    const expectedComments = commentsReadBack
      ? new Set([...current.comments.map((c) => c.id), ...[...plan.unrecordedComments.values()].map((c) => c.localId)])
      : null;
    // Asked to go back (`syncBackAfterProcessing`): the item as written is not what the partner
    // has, so the baseline stays and the outgoing run below sends it. A replica the same as the one
    // sent last is not sent again, so two rules that both ask every time still come to rest.
    const changeHere = plan.unsent || this.changedByOthers(firstSync ? null : current, after, plan.wrote, expectedComments);
    const othersToo = changeHere || plan.syncBack;
    const acknowledged = firstSync || done.ackEvenIfUpdated;
    const changedMeanwhile = await repo.finishApply(
      twin.id,
      {
        ...plan.unrecorded,
        status: 'SYNCED',
        error: null,
        attempts: 0,
        retry_at: null,
        creating_since: null,
        applying_since: null,
        last_received_replica: replica,
        last_sync_at: new Date(),
        synced_fields: syncedAfterApply(twin.synced_fields, after, plan.wrote, changeHere),
        ...(othersToo ? {} : { local_version: versionOf(after), local_updated: after.updated, local_snapshot: after }),
      },
      {
        connectionId: row.id,
        remoteKey: done.remoteKey,
        upToSeq: done.upToSeq,
        outcome: firstSync ? 'CREATED' : 'UPDATED',
        ack: acknowledged ? { id: randomUUID(), payload: { key: after.key, url: after.url } } : null,
        comments: [...plan.unrecordedComments.values()],
      },
    );
    // Something changed here while the apply was writing: look at it now, against the new baseline,
    // unless the baseline was read at or after every version the changes named (the sync's own writes).
    const baselineVersion = versionOf(after);
    changedMeanwhile.push(...guard.endWrite(row.id, localKey, baselineVersion, { commentsAdded: plan.commentsAdded, commentsReadBack }));
    if (othersToo || changedMeanwhile.some((v) => v === null || isNewer(v, baselineVersion))) schedule.now('outgoing', { connectionId: row.id, key: localKey });
    return { twin, item: after, acknowledged };
  }

  /**
   * Did someone else change the item while the apply wrote it? What it should show is what the
   * apply wrote and, for the other fields, how it read them before (`before`; null for a new item,
   * whose other fields the tracker sets): compared as the fields aspect compares, so the tracker's
   * own rendering of a value is no difference. Its comments too, when they were read back.
   */
  private changedByOthers(before: TrackerItem | null, after: TrackerItem, wrote: ItemChanges, expectedComments: Set<string> | null): boolean {
    const person = (email: string | null | undefined) => (email ? { email } : null);
    const expected: ScriptItem = {
      ...(before
        ? {
            summary: before.summary,
            description: before.description,
            labels: before.labels,
            priority: before.priority,
            status: before.status,
            assignee: person(before.assignee?.email),
          }
        : {}),
      ...(wrote.summary !== undefined ? { summary: wrote.summary } : {}),
      ...(wrote.description !== undefined ? { description: wrote.description } : {}),
      ...(wrote.labels !== undefined ? { labels: wrote.labels } : {}),
      ...(wrote.priority !== undefined ? { priority: wrote.priority } : {}),
      ...(wrote.status !== undefined ? { status: wrote.status } : {}),
      ...(wrote.assigneeEmail !== undefined ? { assignee: person(wrote.assigneeEmail) } : {}),
      ...(wrote.customFields !== undefined ? { customFields: wrote.customFields } : {}),
    };
    if (Object.keys(fieldChanges(after, expected, this.ctx.connector)).length) return true;
    return expectedComments !== null && after.comments.some((c) => !expectedComments.has(c.id));
  }
}
