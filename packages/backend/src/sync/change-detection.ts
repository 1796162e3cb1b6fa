/**
 * Change detection: what the tracker says changed (its webhooks, as ItemEvents). Synced items go
 * straight to their outgoing run; others are left to the scan, which checks them against the
 * triggers. An event for a state this node already read, or wrote itself, is skipped: the sync's
 * own writes come back as webhooks, and reading the item again would find nothing new. The echo
 * guard answers for this process's own writes; the twin's stored marks for everyone else's.
 */
import type { ItemEvent } from '@exalate/connectors';
import type { SyncContext } from './context.js';
import { isNewer, midApply } from './versions.js';

export class ChangeDetection {
  constructor(private readonly ctx: SyncContext) {}

  /** Items the tracker says changed, for every connection that syncs. */
  async onTrackerChanges(events: ItemEvent[]): Promise<void> {
    for (const row of await this.ctx.syncingConnections()) await this.changesFor(row.id, events);
  }

  /** One connection's look at the events (also the echo guard's, for events it held during a create). */
  async changesFor(connectionId: string, events: ItemEvent[]): Promise<void> {
    const { repo, schedule, guard } = this.ctx;
    let scan = false;
    for (const event of events) {
      const verdict = guard.classify(connectionId, event);
      if (verdict.kind === 'look') schedule.now('outgoing', { connectionId, key: event.key });
      if (verdict.kind !== 'ask') continue;
      const { othersComment } = verdict;
      const twin = await repo.twinByLocal(connectionId, event.key);
      if (!twin) scan = true;
      else if (!othersComment && event.version && twin.local_version && !isNewer(event.version, twin.local_version)) continue;
      // The sync is writing this item now (likely this very event): the apply decides when it ends.
      else if (midApply(twin) && (await repo.markChangedDuringApply(twin.id, othersComment ? null : (event.version ?? null)))) continue;
      else schedule.now('outgoing', { connectionId, key: event.key });
    }
    if (scan) await schedule.later('scan', { connectionId });
  }
}
