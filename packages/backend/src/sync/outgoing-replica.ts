/**
 * The outgoing replica: what the outgoing rule makes of a local item, and what it is compared
 * with to tell whether anything new goes out. The outgoing run sends it; the incoming apply asks
 * it whether the item holds a change of ours not sent yet; the admin's item view shows it.
 *
 * The comparison is with what the partner already has: the replica of the item as the last apply
 * left it (`local_snapshot`, made into a replica now, with today's rule), or else the replica sent
 * last. So an apply's own writes never echo back.
 */
import type { TrackerItem } from '@exalate/connectors';
import type { Replica } from '@exalate/contract';
import type { ConnectionRow } from '../connections/repository.js';
import type { SyncContext } from './context.js';
import { ItemFailure, scriptFailure } from './failures.js';
import { hashOf, toScriptItem, type MirroredIds } from './item-view.js';
import type { OversizeNotes, StoredForItem, TwinRow, WrittenBySync } from './repository.js';
import { sizeProblem } from './texts.js';

/** An attachment the outgoing rule sent that is too large to move; `exact` false: at least `size`. */
export interface Withheld {
  id: string;
  filename: string;
  size: number;
  exact: boolean;
}

/** What the sync stored for an item, as far as the caller read it: `oversize` null when not read. */
export interface KnownStored {
  written: WrittenBySync;
  oversize: OversizeNotes | null;
}

export interface OutgoingComparison {
  replica: Replica;
  hash: string;
  /** The twin with what the partner has as its last sent replica (the baseline, when there is one). */
  basis: TwinRow | null;
  baseline: Replica | null;
  withheld: Withheld[];
}

const NOTHING_WRITTEN: WrittenBySync = { comments: [], attachments: [] };

export const mirroredIds = (w: WrittenBySync): MirroredIds => ({
  comments: new Map(w.comments.map((c) => [c.local_comment_id, c.remote_comment_id])),
  attachments: new Map(w.attachments.map((a) => [a.local_attachment_id, a.remote_attachment_id])),
});

export class OutgoingReplicas {
  constructor(private readonly ctx: SyncContext) {}

  /**
   * What the sync stored for the item: one statement when it is synced, none when it is not (not
   * synced yet, or unsynced and taken again as a new pair). The notes of attachments found too
   * large stay with the item even then, so `oversize` is left null and read if the rule sends an
   * attachment.
   */
  async stored(twin: TwinRow | null, localKey: string): Promise<KnownStored> {
    if (!twin) return { written: NOTHING_WRITTEN, oversize: null };
    return this.ctx.repo.storedFor(twin.id, localKey);
  }

  /** The item's outgoing replica and its basis of comparison (see the header). `quiet`: a run only to compare, whose `debug.log` lines would repeat the real run's. */
  async comparison(
    row: ConnectionRow,
    twin: TwinRow | null,
    item: TrackerItem,
    stored: KnownStored,
    logs: 'log' | 'quiet' = 'log',
  ): Promise<OutgoingComparison> {
    const baseline = twin?.local_snapshot ? await this.baselineOf(row, twin, stored) : null;
    const basis = twin && baseline ? { ...twin, last_sent_hash: hashOf(baseline), last_sent_replica: baseline } : twin;
    const { replica, withheld } = await this.replica(row, item, basis, stored, logs);
    return { replica, hash: hashOf(replica), basis, baseline, withheld };
  }

  /**
   * Has the item a change here that has not gone out yet? Its outgoing run may still be on its way
   * (a webhook late, or none and the next scan some way off) when the partner's change is applied.
   * Only for an item that was synced from here or left with a baseline; a rule that fails counts as
   * a change, and its outgoing run then says why.
   */
  async unsentChange(row: ConnectionRow, twin: TwinRow, item: TrackerItem, stored: StoredForItem): Promise<boolean> {
    if (!twin.local_snapshot && !twin.last_sent_hash) return false;
    try {
      const { hash, basis } = await this.comparison(row, twin, item, stored, 'quiet');
      return basis?.last_sent_hash !== hash;
    } catch {
      return true;
    }
  }

  /** The item's local replica for the admin: the one sent last, or the baseline the last apply left. */
  async localReplica(row: ConnectionRow, twin: TwinRow): Promise<Replica | null> {
    return (await this.baselineOf(row, twin)) ?? twin.last_sent_replica;
  }

  /**
   * The outgoing replica of the item as the last apply left it (`local_snapshot`): what the partner
   * already has. Null when the rule fails on it; the run then compares with the replica sent before.
   */
  private async baselineOf(row: ConnectionRow, twin: TwinRow, known?: KnownStored): Promise<Replica | null> {
    if (!twin.local_snapshot) return null;
    const stored = known ?? (await this.stored(twin, twin.local_snapshot.key));
    return this.replica(row, twin.local_snapshot, twin, stored, 'quiet').then(
      (out) => out.replica,
      () => null,
    );
  }

  /**
   * The item's outgoing replica by the rule, and the attachments the rule sent that are too large
   * to move (`withheld`), which the replica leaves out: by the tracker's own size of them, or, where
   * the tracker does not say it, by what reading one for the partner found.
   */
  private async replica(
    row: ConnectionRow,
    item: TrackerItem,
    twin: TwinRow | null,
    stored: KnownStored,
    logs: 'log' | 'quiet',
  ): Promise<{ replica: Replica; withheld: Withheld[] }> {
    const { ctx } = this;
    const rules = await ctx.rulesFor(row);
    const out = await ctx.o.runner.runOutgoing(
      rules.outgoing,
      { issue: toScriptItem(item, mirroredIds(stored.written), 'outgoing'), previous: twin?.last_sent_replica ?? null, firstSync: !twin?.last_sent_hash },
      await ctx.host(item.project, row.id),
    );
    if (!out.ok) throw scriptFailure(out.error);
    const oversized = sizeProblem(out.value, item.key, 'sent');
    if (oversized) throw new ItemFailure({ code: 'REPLICA_TOO_LARGE', message: oversized, direction: 'outgoing', retryable: false });
    if (logs === 'log') for (const line of out.logs) ctx.logger.info({ connectionId: row.id, item: item.key, script: 'outgoing' }, `debug.log: ${line}`);
    // The rule decides what is sent, but the key is always this item's, and an attachment too
    // large to move stays out. Only what the rule sent is reported as withheld: an attachment it
    // leaves out anyway was never going to be sent.
    const ids = new Set(out.value.attachments?.map((a) => a.id));
    const sent = item.attachments.filter((a) => ids.has(a.id));
    const limit = ctx.maxAttachmentBytes;
    const statedTooLarge = (a: { size: number | null }) => a.size !== null && a.size > limit;
    // What reading found matters only where the tracker's size does not already rule one out.
    const found = sent.some((a) => !statedTooLarge(a)) ? (stored.oversize ?? (await ctx.repo.oversize(item.key))) : new Map<string, { bytes: number }>();
    const withheld: Withheld[] = [];
    for (const a of sent) {
      const read = found.get(a.id)?.bytes ?? 0;
      if (statedTooLarge(a)) withheld.push({ id: a.id, filename: a.filename, size: a.size!, exact: true });
      else if (read > limit) withheld.push({ id: a.id, filename: a.filename, size: read, exact: false });
    }
    const tooLarge = new Set(withheld.map((a) => a.id));
    const attachments = out.value.attachments?.filter((a) => !tooLarge.has(a.id));
    return { replica: { ...out.value, key: item.key, ...(attachments ? { attachments } : {}) }, withheld };
  }
}
