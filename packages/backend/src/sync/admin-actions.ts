/**
 * What the admin (and the node's lifecycle) asks of the sync: rules, triggers, bulk syncs, "sync
 * now", retrying and unsyncing an item, and taking up a connection that became Active. Each
 * writes what it changes and asks the stages for the work by job name.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionRow } from '../connections/repository.js';
import type { SyncContext } from './context.js';
import type { SyncRepository, TwinRow } from './repository.js';

/** Items "sync now" prepares and queues per statement. */
const SYNC_NOW_CHUNK = 500;

export class AdminActions {
  constructor(private readonly ctx: SyncContext) {}

  /** Rules in force from the next run on. */
  async saveRules(connectionId: string, outgoing: string | null, incoming: string | null): Promise<void> {
    await this.ctx.repo.saveRules(connectionId, outgoing, incoming);
    this.ctx.invalidate();
  }

  addTrigger(t: Parameters<SyncRepository['insertTrigger']>[0]): ReturnType<SyncRepository['insertTrigger']> {
    return this.ctx.repo.insertTrigger(t);
  }

  changeTrigger(...a: Parameters<SyncRepository['updateTrigger']>): ReturnType<SyncRepository['updateTrigger']> {
    return this.ctx.repo.updateTrigger(...a);
  }

  removeTrigger(connectionId: string, triggerId: string): Promise<boolean> {
    return this.ctx.repo.deleteTrigger(connectionId, triggerId);
  }

  /** A bulk sync of what a trigger matches now: recorded (for its progress), then each item synced now. */
  async startBulkSync(row: ConnectionRow, id: string, triggerId: string, keys: string[]): Promise<void> {
    await this.ctx.repo.insertBulkSync(id, row.id, triggerId, keys);
    await this.syncNow(row, keys);
  }

  /**
   * "Sync now" for local items, whatever the triggers say (one, or all a bulk sync found): a
   * quarantined item is tried again, and one unsynced before starts over as a new pair, since it
   * was asked for by name.
   */
  async syncNow(row: ConnectionRow, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += SYNC_NOW_CHUNK) {
      const chunk = keys.slice(i, i + SYNC_NOW_CHUNK);
      await this.ctx.repo.prepareSyncNow(row.id, chunk);
      await this.ctx.schedule.laterAll(row.id, chunk);
    }
  }

  /** The admin's retry of one quarantined item (or one waiting for its next attempt). */
  async retryItem(row: ConnectionRow, twin: TwinRow): Promise<void> {
    const { repo, schedule } = this.ctx;
    const direction = twin.error?.direction ?? (twin.remote_key && !twin.last_sent_hash ? 'incoming' : 'outgoing');
    await repo.updateTwin(twin.id, { status: 'PENDING', error: null, attempts: 0 });
    if (direction === 'incoming' && twin.remote_key) await schedule.later('incoming', { connectionId: row.id, key: twin.remote_key });
    else if (twin.local_key) await schedule.later('outgoing', { connectionId: row.id, key: twin.local_key });
  }

  /** Stops syncing this pair, on both sides; nothing is deleted in either tracker. */
  async unsync(row: ConnectionRow, twin: TwinRow): Promise<void> {
    await this.ctx.o.db.transaction(async (tx) => {
      const repo = this.ctx.repo.with(tx);
      await repo.updateTwin(twin.id, { status: 'UNSYNCED', error: null });
      if (twin.local_key) await repo.enqueue(row.id, { id: randomUUID(), kind: 'unsync', itemKey: twin.local_key, payload: {} });
      await repo.addHistory(row.id, twin.id, 'outgoing', 'UNSYNCED', 'Stopped by the admin.');
    });
    this.ctx.outboxChanged(row);
  }

  /** At start: take up whatever was in flight when the node last stopped. */
  async resume(): Promise<void> {
    for (const row of await this.ctx.syncingConnections()) await this.connectionChanged(row.id);
  }

  /** A connection became Active (again): send what queued up while it was not. */
  async connectionChanged(connectionId: string): Promise<void> {
    const { repo, schedule } = this.ctx;
    this.ctx.invalidate();
    const row = await this.ctx.liveConnection(connectionId);
    if (!row || row.status !== 'ACTIVE') return;
    if (await repo.countUndelivered(connectionId)) this.ctx.outboxChanged(row);
    for (const key of await repo.pendingInboxKeys(connectionId)) await schedule.later('incoming', { connectionId, key });
  }
}
