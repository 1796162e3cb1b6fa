/**
 * Scan: finding changed items by asking the tracker. The tracker's change events (webhooks, see
 * change-detection.ts) make the sync fast; these incremental queries make it complete: a lost
 * webhook, a node that was down. Per connection, each trigger's query and the synced items'
 * projects (synced items keep syncing when they no longer match a trigger), each from its
 * watermark; and, apart, the refresh of recently synced items and the sweep of the inbox.
 *
 * - A query starts a second before its watermark (`sync_triggers.watermark`), for trackers with
 *   coarse clocks; what it finds again is told apart by version. The twins of a page of WALK_PAGE
 *   changed items are read in one statement.
 * - The scan runs every minute while the node has a webhook subscription, every
 *   `EXALATE_SCAN_INTERVAL_MS` otherwise (node.ts sets the pace).
 * - The refresh re-reads recently synced items every `EXALATE_REFRESH_INTERVAL_MS` where a comment
 *   edit does not change the item (`TrackerConnector.sideChanges`): always on Azure DevOps and
 *   ServiceNow, which never say it; on Jira, which says it by the `comment_updated` webhook alone,
 *   only while the node has no webhook subscription.
 */
import type { ChangedItem } from '@exalate/connectors';
import type { SyncContext } from './context.js';
import { alreadySeen } from './versions.js';

/** How many changed items an incremental query hands on at a time. */
const WALK_PAGE = 100;

/** Items re-read by the refresh: synced in the last day, at most this many per connection. */
const REFRESH_WITHIN_MS = 24 * 3_600_000;
const REFRESH_MAX = 1_000;

export class Scan {
  constructor(private readonly ctx: SyncContext) {}

  /** The safety net: every connection's triggers and synced items, queried by watermark. */
  async scanAll(): Promise<void> {
    for (const row of await this.ctx.syncingConnections()) await this.ctx.schedule.later('scan', { connectionId: row.id });
  }

  /**
   * What the partner sent and no run has applied for a while: the process that received it
   * stopped before its run (see scheduler.ts). Queued again; a job already waiting absorbs it.
   */
  async sweepInbox(): Promise<void> {
    for (const row of await this.ctx.syncingConnections()) {
      if (row.status !== 'ACTIVE') continue;
      for (const key of await this.ctx.repo.pendingInboxKeys(row.id, this.ctx.staleInboxMs))
        await this.ctx.schedule.later('incoming', { connectionId: row.id, key });
    }
  }

  /**
   * Re-reads items synced in the last day, for trackers where a comment edit leaves the item's
   * change time alone: the outgoing rule then sees the edit, and an unchanged item sends nothing.
   */
  async refreshRecent(): Promise<void> {
    for (const row of await this.ctx.syncingConnections()) {
      for (const key of await this.ctx.repo.recentlySyncedKeys(row.id, REFRESH_WITHIN_MS, REFRESH_MAX))
        await this.ctx.schedule.later('outgoing', { connectionId: row.id, key });
    }
  }

  /** The `scan` job: one connection's triggers, then its synced items. */
  async scan(connectionId: string): Promise<void> {
    const { repo } = this.ctx;
    const row = await this.ctx.liveConnection(connectionId);
    if (!row || (row.status !== 'ACTIVE' && row.status !== 'DEACTIVATED')) return;
    for (const trigger of await repo.triggers(connectionId)) {
      if (!trigger.active) continue;
      const advanced = await this.walk(
        { query: trigger.query, ...(trigger.item_type ? { itemType: trigger.item_type } : {}), changedAfter: trigger.watermark },
        trigger.watermark,
        trigger.seen_at_watermark,
        (page) => this.takeChanged(connectionId, page, { syncedOnly: false }),
      );
      if (advanced) await repo.advanceTrigger(trigger.id, advanced.watermark, advanced.seen);
    }
    // Synced items keep syncing when they no longer match a trigger.
    for (const project of await repo.twinProjects(connectionId)) {
      const state = await repo.twinScan(connectionId, project);
      const advanced = await this.walk(
        { query: '', project, changedAfter: state?.watermark ?? new Date(Date.now() - 60_000).toISOString() },
        state?.watermark ?? null,
        state?.seen_at_watermark ?? [],
        (page) => this.takeChanged(connectionId, page, { syncedOnly: true }),
      );
      if (advanced) await repo.advanceTwinScan(connectionId, project, advanced.watermark, advanced.seen);
    }
  }

  /** Queues an outgoing run for each changed item not read since that change (only synced ones, if asked). */
  private async takeChanged(connectionId: string, page: ChangedItem[], o: { syncedOnly: boolean }): Promise<void> {
    const twins = await this.ctx.repo.twinsByLocal(
      connectionId,
      page.map((c) => c.key),
    );
    for (const changed of page) {
      const twin = twins.get(changed.key) ?? null;
      if ((twin || !o.syncedOnly) && !alreadySeen(twin, changed.updated)) await this.ctx.schedule.later('outgoing', { connectionId, key: changed.key });
    }
  }

  /**
   * Runs one incremental query; returns the new watermark and what was taken near it. Trackers with
   * coarse clocks return the watermark's whole tick again (at least once), so what was taken is
   * remembered as key@time for a second behind the watermark and not taken twice. Items are taken
   * a page at a time (their twins are then read in one statement, not one each).
   */
  private async walk(
    query: { query: string; project?: string; itemType?: string; changedAfter: string | null },
    watermark: string | null,
    seenNearWatermark: string[],
    take: (page: ChangedItem[]) => Promise<void>,
  ): Promise<{ watermark: string; seen: string[] } | null> {
    let mark = watermark;
    // What is noted here only counts once the whole walk is done (a failed `take` fails the walk).
    const seen = new Set(seenNearWatermark);
    let page: ChangedItem[] = [];
    let moved = false;
    for await (const changed of this.ctx.connector.searchChanged(query)) {
      const id = `${changed.key}@${changed.updated}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (mark === null || changed.updated > mark) mark = changed.updated;
      moved = true;
      page.push(changed);
      if (page.length >= WALK_PAGE) {
        await take(page);
        page = [];
      }
    }
    if (page.length) await take(page);
    if (!moved || mark === null) return null;
    const floor = new Date(new Date(mark).getTime() - 1_000).toISOString();
    return { watermark: mark, seen: [...seen].filter((id) => id.slice(id.lastIndexOf('@') + 1) >= floor) };
  }
}
