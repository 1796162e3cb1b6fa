import { createHash, randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import {
  ConnectorError,
  convertText,
  type ChangedItem,
  type CommentRef,
  type ItemChanges,
  type ItemEvent,
  type ItemRef,
  type NewItem,
  type RichText,
  type TrackerComment,
  type TrackerConnector,
  type TrackerItem,
} from '@exalate/connectors';
import { ReplicaSchema, type NodeType, type Replica, type Result, type SyncEvent } from '@exalate/contract';
import {
  defaultRules,
  formatScriptError,
  TextConversionError,
  type ScriptError,
  type ScriptHost,
  type ScriptItem,
  type ScriptRunner,
  type SyncRules,
} from '@exalate/scripting';
import { MAX_ATTACHMENT_MB } from '../config.js';
import type { ConnectionRow, ConnectionRepository } from '../connections/repository.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { PeerCallError, PeerClient, SigningIdentity } from '../peer/client.js';
import { canonical, hashOf, sameText, textIn, toScriptItem, type MirroredIds } from './item-view.js';
import { sizeProblem, TrackerTexts } from './texts.js';
import { withinBody } from './event-batches.js';
import { leaseName, type JobData, type JobName, type SyncQueue } from './queue.js';
import {
  SyncRepository,
  type CommentTwinWrite,
  type InboxRow,
  type OutgoingState,
  type OversizeNotes,
  type StoredForItem,
  type SyncItemError,
  type TwinChanges,
  type TwinRow,
  type WrittenBySync,
} from './repository.js';
import { backoffMs } from '../backoff.js';
import { EchoGuard } from './echo-guard.js';
import { Scheduler } from './scheduler.js';
import { alreadySeen, isNewer, midApply, versionOf } from './versions.js';

/** The largest attachment synced unless the node's settings say less (`maxAttachmentBytes`). */
export const MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MB * 1024 * 1024;
/** Attachments a node moves at once in each direction (read for the partner; taken in). */
const ATTACHMENT_TRANSFERS = 2;

export interface SyncEngineOptions {
  db: Database;
  connections: ConnectionRepository;
  connector: TrackerConnector;
  runner: ScriptRunner;
  peers: PeerClient;
  identity: (row: ConnectionRow) => SigningIdentity;
  /** This node is private: it pushes its attachments' bytes ahead of the events. */
  isPrivate: boolean;
  /** Wakes a private partner's held poll: there is something for it. */
  notifyPartner: (connectionId: string) => void;
  /** The partner answered that it deleted the connection: this side stops syncing it and says why. */
  partnerDeleted: (row: ConnectionRow) => Promise<void>;
  logger: Logger;
  /** Backoff bounds; tests shorten them. */
  retry?: { baseMs: number; maxMs: number };
  /** Inbox events older than this that no run has applied are queued again (default a minute). */
  staleInboxMs?: number;
  /** The largest attachment synced (default and most MAX_ATTACHMENT_BYTES); a larger one is left out of the replica. */
  maxAttachmentBytes?: number;
}

/** The partner's answer that it deleted the connection (see the peer API's CONNECTION_DELETED). */
const isDeletedByPartner = (e: PeerCallError): boolean => e.kind === 'rejected' && e.code === 'CONNECTION_DELETED';

/** A failure that retrying will not fix: the item is quarantined until the admin retries it. */
class ItemFailure extends Error {
  constructor(readonly error: Omit<SyncItemError, 'at'>) {
    super(error.message);
  }
}

/** An attachment read for the partner turned out larger than this node's limit. */
class AttachmentTooLarge extends Error {
  constructor(filename: string, limit: number) {
    super(
      `The attachment ${filename} is larger than ${megabytes(limit)}, the sending node's limit per attachment, and is not synced; the item is sent again without it.`,
    );
  }
}

/** An attachment the outgoing rule sent that is too large to move; `exact` false: at least `size`. */
interface Withheld {
  id: string;
  filename: string;
  size: number;
  exact: boolean;
}

const scriptFailure = (e: ScriptError) =>
  new ItemFailure({ code: e.code, message: formatScriptError(e), direction: e.direction, line: e.line, retryable: e.code === 'SCRIPT_UNAVAILABLE' });

/**
 * The sync pipeline of one node: change → outgoing rule → outbox → partner → inbox → incoming
 * rule → tracker → acknowledgement. Every step is a queue job over stored state, so a crash, a
 * partner that is away or a tracker that answers 429 delays the sync and loses nothing. The engine
 * talks to its tracker through `TrackerConnector` only.
 */
/** What the admin API reads about the sync: read-only, the engine alone writes. */
export type SyncQueries = Pick<
  SyncRepository,
  | 'twinByAnyKey'
  | 'rules'
  | 'triggers'
  | 'trigger'
  | 'bulkSync'
  | 'twins'
  | 'twinCounts'
  | 'countUndelivered'
  | 'countPendingInbox'
  | 'history'
  | 'failedTwins'
  | 'highestReceivedSeq'
>;

export class SyncEngine {
  private readonly repo: SyncRepository;
  readonly queries: SyncQueries;
  /**
   * Per connection whose partner did not take the last delivery: how many retries failed, and when
   * the next one is due. New events still try at once (the partner may be back), but only a
   * failure of a due retry makes the wait longer: an hour's outage with many changes must not
   * push the next retry to its cap just because each change tried once.
   */
  private readonly deliveryRetries = new Map<string, { attempts: number; dueAt: number }>();
  private readonly cache = new Map<string, { at: number; value: unknown }>();
  private cacheGeneration = 0;
  private readonly typeCache = new Map<string, { at: number; types: string[] }>();
  /** This process's own writes, told apart from anyone else's changes (see echo-guard.ts). */
  private readonly guard = new EchoGuard((connectionId, events) => {
    void this.changesFor(connectionId, events).catch((error: unknown) =>
      this.o.logger.warn({ err: error, connectionId }, 'could not look at changed items; the next scan will'),
    );
  });
  /**
   * Attachments move whole through memory (up to `maxAttachmentBytes` each), so only a few at a
   * time: the ones read here for the partner, and, apart, the ones taken in here. Apart, since
   * taking one in waits for the partner's reading: with one limit, two nodes fetching from each
   * other could each hold every slot the other's reads wait for.
   */
  private readonly attachmentReads = pLimit(ATTACHMENT_TRANSFERS);
  private readonly attachmentWrites = pLimit(ATTACHMENT_TRANSFERS);
  /** How the stages ask for each other: now, in this process, or later, as a queued job (scheduler.ts). */
  private readonly schedule: Scheduler;
  private readonly retry: { baseMs: number; maxMs: number };
  private readonly maxAttachmentBytes: number;

  private readonly texts: TrackerTexts;

  constructor(private readonly o: SyncEngineOptions) {
    this.repo = new SyncRepository(o.db);
    const r = this.repo;
    this.queries = {
      twinByAnyKey: (...a) => r.twinByAnyKey(...a),
      rules: (...a) => r.rules(...a),
      triggers: (...a) => r.triggers(...a),
      trigger: (...a) => r.trigger(...a),
      bulkSync: (...a) => r.bulkSync(...a),
      twins: (...a) => r.twins(...a),
      twinCounts: (...a) => r.twinCounts(...a),
      countUndelivered: (...a) => r.countUndelivered(...a),
      countPendingInbox: (...a) => r.countPendingInbox(...a),
      history: (...a) => r.history(...a),
      failedTwins: (...a) => r.failedTwins(...a),
      highestReceivedSeq: (...a) => r.highestReceivedSeq(...a),
    };
    this.texts = new TrackerTexts(o.runner, o.connector.trackerType, o.connector.textFormat);
    this.retry = o.retry ?? { baseMs: 1_000, maxMs: 5 * 60_000 };
    this.schedule = new Scheduler(o.logger, this.retry);
    this.maxAttachmentBytes = Math.min(o.maxAttachmentBytes ?? MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES);
  }

  get platform(): NodeType {
    return this.o.connector.trackerType;
  }

  attach(queue: SyncQueue): void {
    this.schedule.attach(queue, {
      outgoing: (d) => this.outgoing(d.connectionId, d.key),
      incoming: (d) => this.incoming(d.connectionId, d.key),
      deliver: (connectionId) => this.deliver(connectionId),
    });
  }

  handlers(): Record<JobName, (d: JobData) => Promise<void>> {
    return {
      scan: (d) => this.scan(d.connectionId),
      outgoing: (d) => this.outgoing(d.connectionId, d.key!),
      deliver: (d) => this.deliver(d.connectionId, true),
      incoming: (d) => this.incoming(d.connectionId, d.key!),
      outgoingBatch: (d) => this.outgoingBatch(d.connectionId, d.keys ?? []),
    };
  }

  async rulesFor(row: Pick<ConnectionRow, 'id' | 'mode'>): Promise<SyncRules> {
    const defaults = defaultRules(this.platform);
    if (row.mode === 'BASIC') return defaults;
    const saved = await this.cached(`rules:${row.id}`, () => this.repo.rules(row.id));
    return { outgoing: saved?.outgoing ?? defaults.outgoing, incoming: saved?.incoming ?? defaults.incoming };
  }

  /**
   * Rules are read by every job but change rarely: kept for a second, and dropped at once when this
   * process changes them (another process's change is seen within the second).
   */
  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < 1_000) return hit.value as T;
    const generation = this.cacheGeneration;
    const value = await load();
    // Read before an invalidation and answered after it: stale, so not kept.
    if (generation === this.cacheGeneration) this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  /** Forget cached rules (this process changed them). */
  invalidate(): void {
    this.cacheGeneration += 1;
    this.cache.clear();
  }

  /**
   * Never a copy kept here: a job must see a deactivation (or an activation) the moment it happens.
   * (On the embedded database the repository answers from memory, which every write drops.)
   */
  private liveConnection(id: string): Promise<ConnectionRow | null> {
    return this.o.connections.findLive(id);
  }

  // ---- change detection

  /**
   * Items the tracker says changed (a webhook): synced ones go straight out, others are checked
   * against the triggers. An event for a state this node already read (or wrote itself) is skipped:
   * the sync's own writes come back as webhooks, and reading the item again would find nothing new.
   */
  async onTrackerChanges(events: ItemEvent[]): Promise<void> {
    // Not a copy kept here: a list even a second old misses a connection that just became Active.
    for (const row of await this.syncingConnections()) await this.changesFor(row.id, events);
  }

  private async changesFor(connectionId: string, events: ItemEvent[]): Promise<void> {
    let scan = false;
    for (const event of events) {
      const verdict = this.guard.classify(connectionId, event);
      if (verdict.kind === 'noted' || verdict.kind === 'held' || verdict.kind === 'own') continue;
      if (verdict.kind === 'look') {
        this.schedule.now('outgoing', { connectionId, key: event.key });
        continue;
      }
      const { othersComment } = verdict;
      const twin = await this.repo.twinByLocal(connectionId, event.key);
      if (!twin) scan = true;
      else if (!othersComment && event.version && twin.local_version && !isNewer(event.version, twin.local_version)) continue;
      // The sync is writing this item now (likely this very event): the apply decides when it ends.
      else if (midApply(twin) && (await this.repo.markChangedDuringApply(twin.id, othersComment ? null : (event.version ?? null)))) continue;
      else this.schedule.now('outgoing', { connectionId, key: event.key });
    }
    if (scan) await this.schedule.later('scan', { connectionId });
  }

  /** The safety net: every connection's triggers and synced items, queried by watermark. */
  async scanAll(): Promise<void> {
    for (const row of await this.syncingConnections()) await this.schedule.later('scan', { connectionId: row.id });
  }

  /**
   * What the partner sent and no run has applied for a while: the process that received it
   * stopped before its run (see scheduler.ts). Queued again; a job already waiting absorbs it.
   */
  async sweepInbox(): Promise<void> {
    for (const row of await this.syncingConnections()) {
      if (row.status !== 'ACTIVE') continue;
      for (const key of await this.repo.pendingInboxKeys(row.id, this.o.staleInboxMs ?? 60_000))
        await this.schedule.later('incoming', { connectionId: row.id, key });
    }
  }

  async refreshRecent(): Promise<void> {
    for (const row of await this.syncingConnections()) {
      for (const key of await this.repo.recentlySyncedKeys(row.id, 24 * 3_600_000, 1_000)) await this.schedule.later('outgoing', { connectionId: row.id, key });
    }
  }

  private async syncingConnections(): Promise<ConnectionRow[]> {
    return (await this.o.connections.list()).filter((r) => (r.status === 'ACTIVE' || r.status === 'DEACTIVATED') && r.connection_key);
  }

  private async scan(connectionId: string): Promise<void> {
    const row = await this.liveConnection(connectionId);
    if (!row || (row.status !== 'ACTIVE' && row.status !== 'DEACTIVATED')) return;
    for (const trigger of await this.repo.triggers(connectionId)) {
      if (!trigger.active) continue;
      const advanced = await this.walk(
        { query: trigger.query, ...(trigger.item_type ? { itemType: trigger.item_type } : {}), changedAfter: trigger.watermark },
        trigger.watermark,
        trigger.seen_at_watermark,
        (page) => this.takeChanged(connectionId, page, { syncedOnly: false }),
      );
      if (advanced) await this.repo.advanceTrigger(trigger.id, advanced.watermark, advanced.seen);
    }
    // Synced items keep syncing when they no longer match a trigger.
    for (const project of await this.repo.twinProjects(connectionId)) {
      const state = await this.repo.twinScan(connectionId, project);
      const advanced = await this.walk(
        { query: '', project, changedAfter: state?.watermark ?? new Date(Date.now() - 60_000).toISOString() },
        state?.watermark ?? null,
        state?.seen_at_watermark ?? [],
        (page) => this.takeChanged(connectionId, page, { syncedOnly: true }),
      );
      if (advanced) await this.repo.advanceTwinScan(connectionId, project, advanced.watermark, advanced.seen);
    }
  }

  /** Queues an outgoing run for each changed item not read since that change (only synced ones, if asked). */
  private async takeChanged(connectionId: string, page: ChangedItem[], o: { syncedOnly: boolean }): Promise<void> {
    const twins = await this.repo.twinsByLocal(
      connectionId,
      page.map((c) => c.key),
    );
    for (const changed of page) {
      const twin = twins.get(changed.key) ?? null;
      if ((twin || !o.syncedOnly) && !alreadySeen(twin, changed.updated)) await this.schedule.later('outgoing', { connectionId, key: changed.key });
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
    for await (const changed of this.o.connector.searchChanged(query)) {
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

  // ---- outgoing

  /**
   * "Sync now" for local items, whatever the triggers say (one, or all a bulk sync found): a
   * quarantined item is tried again, and one unsynced before starts over as a new pair, since it
   * was asked for by name.
   */
  // ---- what the admin changes: rules, triggers, bulk syncs

  /** Rules in force from the next run on. */
  async saveRules(connectionId: string, outgoing: string | null, incoming: string | null): Promise<void> {
    await this.repo.saveRules(connectionId, outgoing, incoming);
    this.invalidate();
  }

  addTrigger(t: Parameters<SyncRepository['insertTrigger']>[0]): ReturnType<SyncRepository['insertTrigger']> {
    return this.repo.insertTrigger(t);
  }

  changeTrigger(...a: Parameters<SyncRepository['updateTrigger']>): ReturnType<SyncRepository['updateTrigger']> {
    return this.repo.updateTrigger(...a);
  }

  removeTrigger(connectionId: string, triggerId: string): Promise<boolean> {
    return this.repo.deleteTrigger(connectionId, triggerId);
  }

  /** A bulk sync of what a trigger matches now: recorded (for its progress), then each item synced now. */
  async startBulkSync(row: ConnectionRow, id: string, triggerId: string, keys: string[]): Promise<void> {
    await this.repo.insertBulkSync(id, row.id, triggerId, keys);
    await this.syncNow(row, keys);
  }

  async syncNow(row: ConnectionRow, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      await this.repo.prepareSyncNow(row.id, chunk);
      await this.schedule.laterAll(row.id, chunk);
    }
  }

  /**
   * A batch job's outgoing runs, a few at a time, each under its item's lease like an `outgoing`
   * job. The runs of a round read their items' states together, under their leases (one statement
   * instead of one per item). A run that fails unexpectedly becomes an `outgoing` job with
   * backoff; the batch goes on. When the node stops, the runs under way finish and the batch
   * fails, so the job queue runs it again (its done items then send nothing new).
   */
  private async outgoingBatch(connectionId: string, keys: string[]): Promise<void> {
    let next = 0;
    while (next < keys.length && !this.schedule.stopped) {
      const round = keys.slice(next, next + BATCH_CONCURRENCY).map((key) => ({ connectionId, key }));
      next += round.length;
      await this.schedule.exclusiveAll('outgoing', round, async (held, done) => {
        // Should the read fail, each run reads its own state instead (and fails on its own).
        const states = held.length
          ? await this.repo
              .outgoingStates(
                connectionId,
                held.map((d) => d.key),
              )
              .catch(() => new Map<string, OutgoingState>())
          : new Map<string, OutgoingState>();
        await Promise.all(
          held.map(async (data) => {
            try {
              await this.outgoing(connectionId, data.key, states.get(data.key));
            } catch (error) {
              await this.schedule.requeueUnexpected('outgoing', data, error);
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
  private async outgoing(connectionId: string, key: string, known?: OutgoingState): Promise<void> {
    const row = await this.liveConnection(connectionId);
    if (!row || (row.status !== 'ACTIVE' && row.status !== 'DEACTIVATED')) return;
    const state = known ?? (await this.repo.outgoingState(connectionId, key));
    let twin = state.twin;
    if (twin?.status === 'FAILED' && twin.error?.direction === 'outgoing') return;
    // The sync's own writes must not go back out. While the incoming side is writing this item,
    // note that it changed: the apply looks again when it has set the item's baseline.
    if (twin && midApply(twin) && (await this.repo.markChangedDuringApply(twin.id, null))) return;
    // An incoming first sync may be creating this very item and not know its key yet: wait for it.
    if (!twin && state.creationInFlight) {
      await this.schedule.later('outgoing', { connectionId, key }, 500);
      return;
    }
    // Unsynced items stay unsynced, whatever the triggers match, until "sync now" asks for them.
    if (!twin && state.wasUnsynced && !(await this.repo.takeResyncRequest(connectionId, key))) return;
    try {
      const item = await this.o.connector.getItem(key);
      if (!item) return;
      // One statement for what the sync stored for it (comments and attachments it wrote, oversize notes).
      const stored = twin ? await this.repo.storedFor(twin.id, item.key) : NOT_SYNCED_YET;
      const { replica, hash, basis, baseline, withheld } = await this.outgoingComparison(row, twin, item, stored);
      this.o.logger.debug({ connectionId, item: key, changed: basis?.last_sent_hash !== hash, comments: replica.comments?.length ?? 0 }, 'outgoing rule ran');
      if (twin && basis && basis.last_sent_hash === hash) {
        const settled = twin.status === 'PENDING' && twin.error?.direction === 'outgoing' ? { status: 'SYNCED' as const, error: null, attempts: 0 } : {};
        const madeBaseline = baseline ? { last_sent_hash: hash, last_sent_replica: baseline, local_snapshot: null } : {};
        if (Object.keys(settled).length || baseline || twin.local_version !== versionOf(item))
          await this.repo.updateTwin(twin.id, { ...settled, ...madeBaseline, local_version: versionOf(item), local_updated: item.updated });
        return;
      }
      const sent = {
        last_sent_hash: hash,
        last_sent_replica: replica,
        local_snapshot: null,
        local_project: item.project,
        local_version: versionOf(item),
        local_updated: item.updated,
        ...(twin?.remote_key ? { last_sync_at: new Date() } : {}),
        // An outgoing failure is over; an incoming one (quarantine) stays until it is retried.
        ...(twin?.error?.direction === 'outgoing' ? { status: twin.remote_key ? ('SYNCED' as const) : ('PENDING' as const), error: null, attempts: 0 } : {}),
      };
      const event = { id: randomUUID(), kind: 'replica' as const, itemKey: item.key, payload: { replica, twinKey: twin?.remote_key ?? null } };
      const note = withheld.length
        ? `Not sent: ${withheld.map((a) => `${a.filename} (${a.exact ? megabytes(a.size) : `over ${megabytes(this.maxAttachmentBytes)}`})`).join(', ')}, larger than this node's limit of ${megabytes(this.maxAttachmentBytes)} per attachment.`
        : null;
      if (note) this.o.logger.warn({ connectionId, item: key, attachments: withheld.map((a) => a.id) }, note);
      twin = (await this.repo.recordSend(connectionId, twin ? { id: twin.id } : { localKey: item.key, localUrl: item.url }, sent, event, note)) ?? twin;
      await this.outboxChanged(row);
    } catch (error) {
      await this.failed(row, twin, { localKey: key }, 'outgoing', error, () =>
        this.schedule.later('outgoing', { connectionId, key }, this.backoff(twin?.attempts ?? 0, error)),
      );
    }
  }

  /**
   * The item's outgoing replica, and what it is compared with: what the partner already has, made
   * now from the snapshot the last apply left (`baseline`), or else the replica sent last.
   */
  private async outgoingComparison(
    row: ConnectionRow,
    twin: TwinRow | null,
    item: TrackerItem,
    stored: KnownStored,
    logs: 'log' | 'quiet' = 'log',
  ): Promise<{ replica: Replica; hash: string; basis: TwinRow | null; baseline: Replica | null; withheld: Withheld[] }> {
    const baseline = twin?.local_snapshot ? await this.baselineOf(row, twin, stored) : null;
    const basis = twin && baseline ? { ...twin, last_sent_hash: hashOf(baseline), last_sent_replica: baseline } : twin;
    const { replica, withheld } = await this.outgoingReplica(row, item, basis, stored, logs);
    return { replica, hash: hashOf(replica), basis, baseline, withheld };
  }

  /**
   * Has the item a change here that has not gone out yet? Its outgoing run may still be on its way
   * (a webhook late, or none and the next scan some way off) when the partner's change is applied.
   * Only for an item that was synced from here or left with a baseline; a rule that fails counts as
   * a change, and its outgoing run then says why.
   */
  private async unsentChange(row: ConnectionRow, twin: TwinRow, item: TrackerItem, stored: KnownStored): Promise<boolean> {
    if (!twin.local_snapshot && !twin.last_sent_hash) return false;
    try {
      const { hash, basis } = await this.outgoingComparison(row, twin, item, stored, 'quiet');
      return basis?.last_sent_hash !== hash;
    } catch {
      return true;
    }
  }

  /**
   * The outgoing replica of the item as the last apply left it (`local_snapshot`): what the partner
   * already has. Null when the rule fails on it; the run then compares with the replica sent before.
   */
  private async baselineOf(row: ConnectionRow, twin: TwinRow, stored?: KnownStored): Promise<Replica | null> {
    if (!twin.local_snapshot) return null;
    return this.outgoingReplica(row, twin.local_snapshot, twin, stored, 'quiet').then(
      (out) => out.replica,
      () => null,
    );
  }

  /** The item's local replica for the admin: the one sent last, or the baseline the last apply left. */
  async localReplica(row: ConnectionRow, twin: TwinRow): Promise<Replica | null> {
    return (await this.baselineOf(row, twin)) ?? twin.last_sent_replica;
  }

  /**
   * The item's outgoing replica by the rule, and the attachments the rule sent that are too large
   * to move (`withheld`), which the replica leaves out: by the tracker's own size of them, or, where
   * the tracker does not say it, by what reading one for the partner found.
   * `quiet`: a run only to compare, whose `debug.log` lines would repeat the real run's.
   */
  private async outgoingReplica(
    row: ConnectionRow,
    item: TrackerItem,
    twin: TwinRow | null,
    known?: KnownStored,
    logs: 'log' | 'quiet' = 'log',
  ): Promise<{ replica: Replica; withheld: Withheld[] }> {
    const rules = await this.rulesFor(row);
    // What the sync stored for the item: read here only when the caller has not (the admin's view).
    const stored = known ?? (twin ? await this.repo.storedFor(twin.id, item.key) : NOT_SYNCED_YET);
    const written = stored.written;
    const out = await this.o.runner.runOutgoing(
      rules.outgoing,
      { issue: toScriptItem(item, mirroredIds(written), 'outgoing'), previous: twin?.last_sent_replica ?? null, firstSync: !twin?.last_sent_hash },
      await this.host(item.project),
    );
    if (!out.ok) throw scriptFailure(out.error);
    const oversized = sizeProblem(out.value, item.key, 'sent');
    if (oversized) throw new ItemFailure({ code: 'REPLICA_TOO_LARGE', message: oversized, direction: 'outgoing', retryable: false });
    if (logs === 'log') for (const line of out.logs) this.o.logger.info({ connectionId: row.id, item: item.key, script: 'outgoing' }, `debug.log: ${line}`);
    // The rule decides what is sent, but the key is always this item's, and an attachment too
    // large to move stays out. Only what the rule sent is reported as withheld: an attachment it
    // leaves out anyway was never going to be sent.
    const ids = new Set(out.value.attachments?.map((a) => a.id));
    const sent = item.attachments.filter((a) => ids.has(a.id));
    const statedTooLarge = (a: { size: number | null }) => a.size !== null && a.size > this.maxAttachmentBytes;
    // What reading found matters only where the tracker's size does not already rule one out.
    const found = sent.some((a) => !statedTooLarge(a)) ? (stored.oversize ?? (await this.repo.oversize(item.key))) : new Map<string, { bytes: number }>();
    const withheld: Withheld[] = [];
    for (const a of sent) {
      const read = found.get(a.id)?.bytes ?? 0;
      if (statedTooLarge(a)) withheld.push({ id: a.id, filename: a.filename, size: a.size!, exact: true });
      else if (read > this.maxAttachmentBytes) withheld.push({ id: a.id, filename: a.filename, size: read, exact: false });
    }
    const tooLarge = new Set(withheld.map((a) => a.id));
    const attachments = out.value.attachments?.filter((a) => !tooLarge.has(a.id));
    return { replica: { ...out.value, key: item.key, ...(attachments ? { attachments } : {}) }, withheld };
  }

  private async outboxChanged(row: ConnectionRow): Promise<void> {
    if (this.partnerReachable(row)) this.schedule.now('deliver', { connectionId: row.id });
    else this.o.notifyPartner(row.id);
  }

  /** Waits for deliveries and runs under way (the node is stopping); what waits stays stored. */
  async stop(): Promise<void> {
    await this.schedule.stop();
  }

  private partnerReachable(row: ConnectionRow): boolean {
    return Boolean(row.partner_node_url) && !row.partner_poll_only;
  }

  // ---- delivery

  /** @param scheduled the queue's retry (or a restart's), not an attempt for new events. */
  private async deliver(connectionId: string, scheduled = false): Promise<void> {
    const row = await this.liveConnection(connectionId);
    // A Deactivated connection keeps its outbox until it is activated again.
    if (!row || row.status !== 'ACTIVE' || !row.connection_key || !this.partnerReachable(row)) return;
    const identity = this.o.identity(row);
    for (;;) {
      const events = withinBody(await this.repo.undelivered(connectionId, 100));
      if (!events.length) {
        this.deliveryRetries.delete(connectionId);
        return;
      }
      const failure = await this.sendBatch(row, identity, events);
      if (failure && isDeletedByPartner(failure)) {
        // Its notice of the deletion did not reach us (we were away): this is how we learn it.
        // The outbox keeps what was waiting; nothing is retried into a connection that is gone.
        this.deliveryRetries.delete(connectionId);
        await this.o.partnerDeleted(row);
        return;
      }
      if (failure) {
        const retry = this.deliveryRetries.get(connectionId);
        // Tried early (new events came): the retry already scheduled stands.
        if (retry && !scheduled && Date.now() < retry.dueAt) return;
        const attempts = (retry?.attempts ?? 0) + 1;
        const delay = this.backoff(attempts, null, 60_000);
        this.deliveryRetries.set(connectionId, { attempts, dueAt: Date.now() + delay });
        this.o.logger.warn(
          { connectionId, reason: failure.kind, message: failure.message, attempts, retryInMs: delay },
          'delivery to the partner failed; will retry',
        );
        await this.schedule.later('deliver', { connectionId }, delay);
        return;
      }
      this.deliveryRetries.delete(connectionId);
    }
  }

  private async sendBatch(
    row: ConnectionRow,
    identity: SigningIdentity,
    events: Awaited<ReturnType<SyncRepository['undelivered']>>,
  ): Promise<PeerCallError | null> {
    if (this.o.isPrivate) {
      // The partner cannot fetch attachments from a private node: push their bytes first. Each is
      // read from the tracker for that, up to the limit in size: while the last delivery failed,
      // an empty delivery makes sure the partner is back before any is read.
      const pushes = events.flatMap((e) =>
        e.kind === 'replica' ? ((e.payload as { replica: Replica }).replica.attachments ?? []).map((a) => ({ itemKey: e.item_key, id: a.id })) : [],
      );
      if (pushes.length && this.deliveryRetries.has(row.id)) {
        const probe = await this.o.peers.sendEvents(row.partner_node_url!, identity, []);
        if (!probe.ok) return probe.error;
      }
      for (const { itemKey, id } of pushes) {
        if (await this.repo.wasPushed(row.id, itemKey, id)) continue;
        // Read and pushed under one slot: the bytes are held until the partner has them.
        const failure = await this.attachmentReads(async (): Promise<PeerCallError | null> => {
          const blob = await this.readAttachment(itemKey, id).catch(async (error: unknown) => {
            this.o.logger.warn({ connectionId: row.id, item: itemKey, attachment: id, err: error }, 'attachment could not be read for the partner');
            // Too large after all: the partner is sent the item again without it, and waits no longer.
            if (error instanceof AttachmentTooLarge) await this.schedule.later('outgoing', { connectionId: row.id, key: itemKey }, 0);
            return null;
          });
          if (!blob) return null;
          const sent = await this.o.peers.putBlob(row.partner_node_url!, identity, {
            itemKey,
            attachmentId: id,
            sha256: blob.sha256,
            contentBase64: blob.content.toString('base64'),
          });
          if (!sent.ok) return sent.error;
          await this.repo.markPushed(row.id, itemKey, id);
          return null;
        });
        if (failure) return failure;
      }
    }
    const sent = await this.o.peers.sendEvents(row.partner_node_url!, identity, events.map(toEvent));
    if (!sent.ok) return sent.error;
    await this.repo.markDelivered(row.id, events[events.length - 1]!.seq);
    return null;
  }

  /** Events for a private partner's poll, after marking what it has stored as delivered. */
  async eventsForPoll(row: ConnectionRow, ack: number | undefined): Promise<SyncEvent[]> {
    if (ack !== undefined && ack > 0) await this.repo.markDelivered(row.id, ack);
    if (row.status !== 'ACTIVE') return [];
    return withinBody(await this.repo.undelivered(row.id, 100, ack ?? 0)).map(toEvent);
  }

  /**
   * Reads a local attachment for the partner, with its sha256. One larger than this node's limit
   * (which the tracker did not say, or said less) is stopped at the limit and remembered as too
   * large: it is not read again, and the item's next outgoing replica leaves it out.
   */
  async readAttachment(itemKey: string, attachmentId: string): Promise<{ content: Buffer; sha256: string; filename: string; mimeType: string | null }> {
    const known = (await this.repo.oversize(itemKey)).get(attachmentId);
    if (known && known.bytes > this.maxAttachmentBytes) throw new AttachmentTooLarge(known.filename, this.maxAttachmentBytes);
    const download = await this.o.connector.downloadAttachment(itemKey, attachmentId);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of download.stream) {
      size += (chunk as Buffer).length;
      if (size > this.maxAttachmentBytes) {
        download.stream.destroy();
        await this.repo.noteOversize(itemKey, attachmentId, download.info.filename, size);
        throw new AttachmentTooLarge(download.info.filename, this.maxAttachmentBytes);
      }
      chunks.push(chunk as Buffer);
    }
    return { content: Buffer.concat(chunks), sha256: await download.sha256, filename: download.info.filename, mimeType: download.info.mimeType };
  }

  /**
   * Reads an attachment for the partner and gives it to `send`, which answers with it. Not sent
   * when the partner may not have it (it may read only attachments of items this node sent it),
   * or when it turns out larger than this node's limit: then the partner is sent the item again
   * without it, and its apply, which waits for the attachment, takes that one instead.
   */
  async attachmentForPartner(
    row: ConnectionRow,
    itemKey: string,
    attachmentId: string,
    send: (found: { content: Buffer; sha256: string }) => Promise<void>,
  ): Promise<Result<null, { reason: 'not-sent' } | { reason: 'too-large'; message: string }>> {
    const twin = await this.repo.twinByLocal(row.id, itemKey);
    if (!twin?.last_sent_replica?.attachments?.some((a) => a.id === attachmentId)) return { ok: false, error: { reason: 'not-sent' } };
    try {
      // The slot is held until the answer is sent: until then the bytes are in memory.
      await this.attachmentReads(async () => send(await this.readAttachment(itemKey, attachmentId)));
      return { ok: true, value: null };
    } catch (error) {
      if (!(error instanceof AttachmentTooLarge)) throw error;
      await this.schedule.later('outgoing', { connectionId: row.id, key: itemKey }, 0);
      return { ok: false, error: { reason: 'too-large', message: error.message } };
    }
  }

  // ---- receiving

  /** Stores what the partner sent (pushed to us, or pulled by our poll) and queues it. */
  async receive(row: ConnectionRow, events: SyncEvent[]): Promise<void> {
    const fresh = await this.repo.receive(row.id, events);
    for (const key of new Set(fresh.filter((e) => e.kind !== 'ack').map((e) => e.itemKey))) this.schedule.now('incoming', { connectionId: row.id, key });
    // The partner just reached us, so it is back: what waits for it goes now, not at the next retry.
    if (this.deliveryRetries.has(row.id) && this.partnerReachable(row)) this.schedule.now('deliver', { connectionId: row.id });
  }

  async saveBlob(row: ConnectionRow, itemKey: string, attachmentId: string, sha256: string, content: Buffer): Promise<void> {
    const actual = createHash('sha256').update(content).digest('hex');
    if (actual !== sha256) throw new Error(`attachment bytes do not match their sha256 (${actual} ≠ ${sha256})`);
    await this.repo.saveBlob(row.id, itemKey, attachmentId, sha256, content);
  }

  private async incoming(connectionId: string, remoteKey: string): Promise<void> {
    const row = await this.liveConnection(connectionId);
    // Deactivated: the inbox keeps what arrives; activation queues it again.
    if (!row || row.status !== 'ACTIVE') return;
    // One statement: the events to apply, the twin, and what the sync stored for the pair.
    const { pending, twin: found, ...known } = await this.repo.incomingState(connectionId, remoteKey);
    if (!pending.length) return;
    const last = pending[pending.length - 1]!;
    let twin = found;
    let stored: StoredForItem = known;
    const twinKey = typeof last.payload['twinKey'] === 'string' ? (last.payload['twinKey'] as string) : null;
    if (!twin && twinKey) {
      // The partner knows our item before our ack reached it back: pair them now.
      twin = await this.repo.twinByLocal(connectionId, twinKey);
      if (twin) {
        await this.repo.updateTwin(twin.id, { remote_key: remoteKey });
        stored = await this.repo.storedFor(twin.id, twin.local_key);
      }
    }
    if (twin?.status === 'FAILED' && twin.error?.direction === 'incoming') return;
    // Writing the item and reading it for the outgoing rule never overlap: hold its outgoing lease.
    const lease = twin?.local_key ? leaseName('outgoing', { connectionId, key: twin.local_key }) : null;
    if (lease && !(await this.schedule.tryLease(lease))) {
      await this.schedule.later('incoming', { connectionId, key: remoteKey }, 200);
      return;
    }
    try {
      await this.incomingLeased(row, remoteKey, pending, twin, twinKey, stored);
    } finally {
      if (lease) await this.schedule.release(lease);
    }
  }

  private async incomingLeased(
    row: ConnectionRow,
    remoteKey: string,
    pending: InboxRow[],
    found: TwinRow | null,
    twinKey: string | null,
    stored: StoredForItem,
  ): Promise<void> {
    const connectionId = row.id;
    const twin = found;
    const last = pending[pending.length - 1]!;
    if (last.kind === 'unsync') {
      if (twin) {
        await this.repo.updateTwin(twin.id, { status: 'UNSYNCED', error: null });
        await this.repo.addHistory(connectionId, twin.id, 'incoming', 'UNSYNCED', 'The partner stopped syncing this item.');
      }
      await this.repo.markApplied(connectionId, remoteKey, last.seq);
      return;
    }
    const parsed = ReplicaSchema.safeParse(last.payload['replica']);
    if (!parsed.success) {
      await this.repo.markApplied(connectionId, remoteKey, last.seq);
      this.o.logger.warn({ connectionId, item: remoteKey }, 'partner sent a replica that is not one; dropped');
      return;
    }
    // Replicas are whole states: the newest one stands for the ones before it.
    try {
      // The partner learns our item's key from the acknowledgement, on a first sync and whenever it
      // did not know it yet.
      const applied = await this.apply(row, twin, parsed.data, { remoteKey, upToSeq: last.seq, ackEvenIfUpdated: !twinKey }, stored);
      if (applied.acknowledged) await this.outboxChanged(row);
    } catch (error) {
      const current = (await this.repo.twinByRemote(connectionId, remoteKey)) ?? twin;
      await this.failed(row, current, { remoteKey }, 'incoming', error, () =>
        this.schedule.later('incoming', { connectionId, key: remoteKey }, this.backoff(current?.attempts ?? 0, error)),
      );
    }
  }

  /** Runs the incoming rule and writes the result to the tracker. */
  private async apply(
    row: ConnectionRow,
    found: TwinRow | null,
    replica: Replica,
    done: ApplyDone,
    /** What the sync stored for the pair, read with the twin (`incomingState`). */
    stored: StoredForItem,
  ): Promise<{ twin: TwinRow; item: TrackerItem; acknowledged: boolean }> {
    const connector = this.o.connector;
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
    // What the sync already wrote here for this pair, read once for the rule and for the writes below.
    const { written } = stored;
    // Read before any write, under the item's outgoing lease: the item as it is now, against what
    // the partner has. A change of ours not sent yet is then not taken for the partner's below.
    const unsent = twin && current ? await this.unsentChange(row, twin, current, stored) : false;
    const issue: ScriptItem = current ? toScriptItem(current, mirroredIds(written), 'incoming') : { project };
    const received = sizeProblem(replica, replica.key, 'received');
    if (received) throw new ItemFailure({ code: 'REPLICA_TOO_LARGE', message: received, direction: 'incoming', retryable: false });
    const rules = await this.rulesFor(row);
    const out = await this.o.runner.runIncoming(
      rules.incoming,
      { issue, replica, previous: twin?.last_received_replica ?? null, firstSync },
      await this.host(project),
    );
    if (!out.ok) throw scriptFailure(out.error);
    for (const line of out.logs) this.o.logger.info({ connectionId: row.id, item: replica.key, script: 'incoming' }, `debug.log: ${line}`);
    const made = sizeProblem(out.value, replica.key, 'rule');
    if (made) throw new ItemFailure({ code: 'REPLICA_TOO_LARGE', message: made, direction: 'incoming', retryable: false });
    // The texts in the tracker's format, before any write (a large one converts off this thread).
    const native = await this.texts.native(out.value);
    const desired: ScriptItem = native.description === undefined ? out.value : { ...out.value, description: native.description };

    // An apply that never finished (the node stopped mid-way) may have written some of its changes:
    // this time, what is already there is recognised instead of written twice.
    const recovering = Boolean(twin?.applying_since);
    if (recovering)
      this.o.logger.warn({ connectionId: row.id, item: replica.key }, 'an earlier apply of this item was interrupted; recognising what it already wrote');
    // Marked before any write. creating_since stays until the whole first sync is done: the new
    // item's own change events wait for it.
    const interruptedCreate = firstSync ? (twin?.creating_since ?? null) : null;
    const marks = { applying_since: new Date(), ...(firstSync ? { creating_since: interruptedCreate ?? new Date() } : {}) };
    if (!twin) twin = await this.repo.insertTwin({ connectionId: row.id, remoteKey: replica.key, remoteUrl: replica.url ?? null }, marks);
    else await this.repo.updateTwin(twin.id, marks);
    if (twin.local_key) this.guard.beginWrite(row.id, twin.local_key);
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
      unrecorded: {},
      unrecordedComments: new Map(),
    };
    try {
      return await this.write(plan);
    } catch (error) {
      this.guard.endWrite(row.id, plan.twin.local_key, null);
      // What this apply wrote is not lost to the next attempt: the item it created and the comments
      // it added (they would otherwise have to be found again, by the recovery's guesses).
      if (Object.keys(plan.unrecorded).length || plan.unrecordedComments.size) {
        await this.repo
          .saveCommentTwins(plan.twin.id, [...plan.unrecordedComments.values()], plan.unrecorded)
          .catch((e: unknown) =>
            this.o.logger.warn(
              { err: e, connectionId: row.id, item: plan.twin.local_key },
              'could not record what a failed apply wrote; the next attempt looks for it',
            ),
          );
      }
      throw error;
    }
  }

  /** The apply's writes to the tracker, each recorded as it is made, then the no-echo baseline. */
  private async write(plan: ApplyPlan): Promise<{ twin: TwinRow; item: TrackerItem; acknowledged: boolean }> {
    const { row, desired, written, replica, firstSync, recovering, interruptedCreate, project, done } = plan;
    const connector = this.o.connector;
    let { twin, current } = plan;
    // The fields this apply set: what the item should show for them afterwards.
    let wrote: ItemChanges = {};
    if (firstSync) {
      let ref: ItemRef | null = null;
      this.guard.createStarted(row.id);
      try {
        ref = interruptedCreate ? await this.findInterruptedCreate(row.id, project, desired, interruptedCreate) : null;
        if (!ref) {
          const fresh = this.newItem(desired, project);
          ref = await connector.createItem(fresh);
          // Of a new item, only these are surely kept as given; a tracker may start it in its own
          // status or priority.
          wrote = { summary: fresh.summary, description: fresh.description ?? null, labels: fresh.labels ?? [] };
        }
        this.guard.beginWrite(row.id, ref.key);
      } finally {
        this.guard.createEnded(row.id, ref?.key ?? null);
      }
      // Recorded with the apply's next statement (see `unrecorded`), or by `apply` if it fails first.
      plan.unrecorded = { local_key: ref.key, local_url: ref.url, local_project: project };
      twin = plan.twin = { ...twin, ...plan.unrecorded };
      // A fresh item has no comments or attachments yet; one found after a crash is read as it is.
      current = recovering ? await connector.getItem(ref.key) : { ...emptyItem(project, desired), ...ref };
      if (!current) throw new ConnectorError('UNAVAILABLE', `${ref.key} was created but cannot be read back yet`, { tracker: connector.trackerType });
    }
    if (!firstSync || recovering) {
      const changes = this.changes(current!, desired);
      if (Object.keys(changes).length) await connector.updateItem(current!.key, changes);
      wrote = { ...wrote, ...changes };
    }
    const localKey = twin.local_key!;
    /** Runs a statement that also records the twin's columns not stored yet; they are stored once it succeeds. */
    const recording = async (save: (set: TwinChanges) => Promise<void>) => {
      await save(plan.unrecorded);
      plan.unrecorded = {};
    };

    // Comments: add the partner's new ones, update the ones it edited; each exactly once. Which
    // local comment mirrors which is stored with the apply's end, or by `apply` if it fails first:
    // one statement per item, not one per comment. After a crash in between, the apply is still
    // marked, and the next one recognises the comments this one wrote (see `recovering`).
    const commentTwins = new Map(written.comments.map((c) => [c.remote_comment_id, c]));
    const mirrored = (remoteId: string, localId: string, hash: string) => {
      plan.unrecordedComments.set(remoteId, { remoteId, localId, hash });
      commentTwins.set(remoteId, { remote_comment_id: remoteId, local_comment_id: localId, remote_hash: hash });
    };
    // The item's comments once this apply is done, from what was read and what the writes were
    // answered with, so the read-back below need not read them again; null once a write did not say.
    let knownComments: TrackerComment[] | null = [...current!.comments];
    /** Comments this apply added: their change events are its own (see `OwnWrite.ownCommentEvents`). */
    let commentsAdded = 0;
    const knowComment = (ref: CommentRef) => {
      this.guard.noteComment(row.id, localKey, ref.id);
      const i = knownComments?.findIndex((c) => c.id === ref.id) ?? -1;
      if (!ref.comment || !knownComments) knownComments = null;
      else if (i >= 0) knownComments[i] = ref.comment;
      else knownComments.push(ref.comment);
    };
    for (const [i, c] of (desired.comments ?? []).entries()) {
      const remoteId = c.remoteId;
      if (!remoteId) continue;
      const hash = hashOf(c.body);
      const known = commentTwins.get(remoteId);
      const body = plan.nativeBodies[i] ?? textIn(c.body, this.platform, connector.textFormat)!;
      if (!known) {
        if (c.id) continue; // already here, made some other way
        const words = recovering ? await this.texts.plain(body) : '';
        const already = recovering
          ? await this.unclaimed(current!.comments, commentTwins, async (local) => (await this.texts.plain(local.body)) === words)
          : null;
        let localId = already?.id;
        if (!localId) {
          const added = await connector.addComment(localKey, body);
          commentsAdded += 1;
          knowComment(added);
          localId = added.id;
        }
        mirrored(remoteId, localId, hash);
      } else if (known.remote_hash !== hash) {
        knowComment(await connector.updateComment(localKey, known.local_comment_id, body));
        mirrored(remoteId, known.local_comment_id, hash);
      }
    }

    // Attachments: each of the partner's is transferred once and checked by sha256.
    const attachmentTwins = new Set(written.attachments.map((a) => a.remote_attachment_id));
    const claimedAttachments = new Set(written.attachments.map((a) => a.local_attachment_id));
    for (const a of desired.attachments ?? []) {
      const remoteId = a.remoteId;
      if (!remoteId || a.id || attachmentTwins.has(remoteId)) continue;
      await this.attachmentWrites(async () => {
        const bytes = await this.fetchPartnerAttachment(row, replica.key, remoteId);
        const already = recovering
          ? current!.attachments.find((l) => !claimedAttachments.has(l.id) && l.filename === a.filename && (l.size === null || l.size === bytes.content.length))
          : undefined;
        if (already) {
          claimedAttachments.add(already.id);
          await recording((set) => this.repo.saveAttachmentTwin(twin.id, remoteId, already.id, bytes.sha256, set));
          return;
        }
        const uploaded = await connector.uploadAttachment(localKey, { filename: a.filename, mimeType: a.mimeType ?? null, content: bytes.content });
        if (uploaded.sha256 && uploaded.sha256 !== bytes.sha256) {
          throw new ConnectorError('UNAVAILABLE', `the tracker stored different bytes for ${a.filename} than were sent`, { tracker: connector.trackerType });
        }
        await recording((set) => this.repo.saveAttachmentTwin(twin.id, remoteId, uploaded.id, bytes.sha256, set));
        await this.repo.dropBlob(row.id, replica.key, remoteId);
      });
    }

    this.o.logger.debug({ connectionId: row.id, item: replica.key, localKey, created: firstSync }, 'incoming replica applied');
    // What this item now looks like going out is what the partner already has: no echo. The
    // item is kept as it is now, and the next outgoing run makes that replica from it.
    const commentsReadBack = knownComments === null;
    const after = (await connector.getItem(localKey, knownComments ? { comments: knownComments } : undefined)) ?? current!;
    // Unless the item holds more than the partner's change: one of ours not sent yet, or someone
    // else's made while the apply wrote. Then the baseline stays what it was, and the outgoing run
    // below finds that change (and sends the partner its own back, which changes nothing there).
    const expectedComments = commentsReadBack
      ? new Set([...current!.comments.map((c) => c.id), ...[...plan.unrecordedComments.values()].map((c) => c.localId)])
      : null;
    const othersToo = plan.unsent || this.changedByOthers(firstSync ? null : current!, after, wrote, expectedComments);
    const acknowledged = firstSync || done.ackEvenIfUpdated;
    const changedMeanwhile = await this.repo.finishApply(
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
    changedMeanwhile.push(...this.guard.endWrite(row.id, localKey, baselineVersion, { commentsAdded, commentsReadBack }));
    if (othersToo || changedMeanwhile.some((v) => v === null || isNewer(v, baselineVersion)))
      this.schedule.now('outgoing', { connectionId: row.id, key: localKey });
    return { twin, item: after, acknowledged };
  }

  /**
   * After a crash between creating an item and recording it: the item this sync created, if it did.
   * It is in the project, changed since the create began, carries the summary the rule gave it, and
   * is nobody's twin yet.
   */
  private async findInterruptedCreate(connectionId: string, project: string, desired: ScriptItem, since: Date): Promise<ItemRef | null> {
    const after = new Date(new Date(since).getTime() - 5_000).toISOString();
    let looked = 0;
    for await (const candidate of this.o.connector.searchChanged({ query: '', project, changedAfter: after })) {
      if (++looked > 200) break;
      if (await this.repo.twinByLocal(connectionId, candidate.key)) continue;
      const item = await this.o.connector.getItem(candidate.key);
      if (item && item.summary === (desired.summary ?? '') && new Date(item.created).getTime() >= new Date(after).getTime()) {
        this.o.logger.warn({ connectionId, item: item.key }, 'found the item an interrupted first sync had created; using it');
        return item;
      }
    }
    return null;
  }

  /** A local comment the sync wrote before it stopped, not yet recorded: the first unclaimed one that matches. */
  private async unclaimed(
    comments: TrackerComment[],
    twins: Map<string, { local_comment_id: string }>,
    matches: (c: TrackerComment) => Promise<boolean>,
  ): Promise<TrackerComment | null> {
    const claimed = new Set([...twins.values()].map((t) => t.local_comment_id));
    for (const c of comments) if (!claimed.has(c.id) && (await matches(c))) return c;
    return null;
  }

  private newItem(desired: ScriptItem, project: string): NewItem {
    if (!desired.type) {
      throw new ItemFailure({
        code: 'SCRIPT_RESULT_INVALID',
        message: 'The incoming rule did not set the item type for the new item (issue.type).',
        direction: 'incoming',
        retryable: false,
      });
    }
    const description = textIn(desired.description, this.platform, this.o.connector.textFormat);
    return {
      project: desired.project ?? project,
      type: desired.type,
      summary: desired.summary ?? '',
      ...(description ? { description } : {}),
      ...(desired.labels ? { labels: desired.labels } : {}),
      ...(desired.priority ? { priority: desired.priority } : {}),
      ...(desired.status ? { status: desired.status } : {}),
      ...(desired.assignee?.email ? { assigneeEmail: desired.assignee.email } : {}),
      ...(desired.customFields && Object.keys(desired.customFields).length ? { customFields: desired.customFields } : {}),
    };
  }

  /** What the rule changed, as the connector's update: only fields that differ. */
  private changes(current: TrackerItem, desired: ScriptItem): ItemChanges {
    const changes: ItemChanges = {};
    if (desired.summary !== undefined && desired.summary !== null && desired.summary !== current.summary) changes.summary = desired.summary;
    if (desired.description !== undefined) {
      const wanted = textIn(desired.description, this.platform, this.o.connector.textFormat);
      if (!sameText(wanted, current.description ? convertText(current.description, this.o.connector.textFormat) : null)) changes.description = wanted;
    }
    if (desired.labels !== undefined && canonical([...desired.labels].sort()) !== canonical([...current.labels].sort())) changes.labels = desired.labels;
    if (desired.priority !== undefined && desired.priority !== current.priority) changes.priority = desired.priority;
    if (desired.status !== undefined && desired.status !== null && desired.status !== current.status) changes.status = desired.status;
    if (desired.assignee !== undefined && (desired.assignee?.email ?? null) !== (current.assignee?.email ?? null))
      changes.assigneeEmail = desired.assignee?.email ?? null;
    const custom: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(desired.customFields ?? {})) {
      if (canonical(value) !== canonical(current.customFields[field] ?? null)) custom[field] = value;
    }
    if (Object.keys(custom).length) changes.customFields = custom;
    return changes;
  }

  /**
   * Did someone else change the item while the apply wrote it? What it should show is what the
   * apply wrote and, for the other fields, how it read them before (`before`; null for a new item,
   * whose other fields the tracker sets): compared as `changes` compares, so the tracker's own
   * rendering of a value is no difference. Its comments too, when they were read back.
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
    if (Object.keys(this.changes(after, expected)).length) return true;
    return expectedComments !== null && after.comments.some((c) => !expectedComments.has(c.id));
  }

  private async fetchPartnerAttachment(row: ConnectionRow, remoteKey: string, attachmentId: string): Promise<{ content: Buffer; sha256: string }> {
    if (!this.partnerReachable(row)) {
      const blob = await this.repo.blob(row.id, remoteKey, attachmentId);
      if (!blob) throw new ConnectorError('UNAVAILABLE', 'waiting for the partner to send the attachment’s bytes', { tracker: this.platform });
      return blob;
    }
    const got = await this.o.peers.getAttachment(row.partner_node_url!, this.o.identity(row), remoteKey, attachmentId);
    if (!got.ok && isDeletedByPartner(got.error)) await this.o.partnerDeleted(row);
    if (!got.ok) throw new ConnectorError('UNAVAILABLE', `the partner node did not give the attachment: ${got.error.message}`, { tracker: this.platform });
    const actual = createHash('sha256').update(got.value.content).digest('hex');
    if (actual !== got.value.sha256)
      throw new ConnectorError('UNAVAILABLE', `attachment bytes arrived damaged (sha256 ${actual}, expected ${got.value.sha256})`, { tracker: this.platform });
    return { content: got.value.content, sha256: actual };
  }

  // ---- failures and retries

  /** Retryable: back off and try again. Otherwise: quarantine the item with its error. */
  private async failed(
    row: ConnectionRow,
    twin: TwinRow | null,
    keys: { localKey?: string; remoteKey?: string },
    direction: 'outgoing' | 'incoming',
    error: unknown,
    retry: () => Promise<void>,
  ): Promise<void> {
    const described = describeFailure(error, direction);
    const at = new Date();
    const itemError: SyncItemError = { ...described, at: at.toISOString() };
    let target = twin;
    if (!target) target = await this.repo.insertTwin({ connectionId: row.id, localKey: keys.localKey ?? null, remoteKey: keys.remoteKey ?? null });
    const attempts = target.attempts + 1;
    if (described.retryable) {
      await this.repo.updateTwin(target.id, { status: target.status === 'UNSYNCED' ? 'UNSYNCED' : 'PENDING', error: itemError, attempts });
      this.o.logger.warn({ connectionId: row.id, keys, code: described.code, attempts }, `${direction} sync will be retried: ${described.message}`);
      await retry();
    } else {
      await this.repo.updateTwin(target.id, { status: 'FAILED', error: itemError, attempts });
      this.o.logger.error({ connectionId: row.id, keys, code: described.code }, `${direction} sync failed; the item is quarantined: ${described.message}`);
    }
    await this.repo.addHistory(row.id, target.id, direction, described.retryable ? 'RETRYING' : 'FAILED', described.message);
  }

  /** The wait before the next attempt (backoff.ts), never sooner than the tracker's Retry-After. */
  private backoff(attempts: number, error: unknown, maxMs = this.retry.maxMs): number {
    const retryAfter = error instanceof ConnectorError ? (error.details.retryAfterMs ?? 0) : 0;
    return backoffMs(attempts, { baseMs: this.retry.baseMs, maxMs }, retryAfter);
  }

  /** The admin's retry of one quarantined item (or one waiting for its next attempt). */
  async retryItem(row: ConnectionRow, twin: TwinRow): Promise<void> {
    const direction = twin.error?.direction ?? (twin.remote_key && !twin.last_sent_hash ? 'incoming' : 'outgoing');
    await this.repo.updateTwin(twin.id, { status: 'PENDING', error: null, attempts: 0 });
    if (direction === 'incoming' && twin.remote_key) await this.schedule.later('incoming', { connectionId: row.id, key: twin.remote_key });
    else if (twin.local_key) await this.schedule.later('outgoing', { connectionId: row.id, key: twin.local_key });
  }

  /** Stops syncing this pair, on both sides; nothing is deleted in either tracker. */
  async unsync(row: ConnectionRow, twin: TwinRow): Promise<void> {
    await this.o.db.transaction(async (tx) => {
      const repo = this.repo.with(tx);
      await repo.updateTwin(twin.id, { status: 'UNSYNCED', error: null });
      if (twin.local_key) await repo.enqueue(row.id, { id: randomUUID(), kind: 'unsync', itemKey: twin.local_key, payload: {} });
      await repo.addHistory(row.id, twin.id, 'outgoing', 'UNSYNCED', 'Stopped by the admin.');
    });
    await this.outboxChanged(row);
  }

  /** At start: take up whatever was in flight when the node last stopped. */
  async resume(): Promise<void> {
    for (const row of await this.syncingConnections()) await this.connectionChanged(row.id);
  }

  /** A connection became Active (again): send what queued up while it was not. */
  async connectionChanged(connectionId: string): Promise<void> {
    this.invalidate();
    const row = await this.liveConnection(connectionId);
    if (!row || row.status !== 'ACTIVE') return;
    if (await this.repo.countUndelivered(connectionId)) await this.outboxChanged(row);
    for (const key of await this.repo.pendingInboxKeys(connectionId)) await this.schedule.later('incoming', { connectionId, key });
  }

  // ---- helpers

  private async host(project: string): Promise<ScriptHost> {
    return { platform: this.platform, itemTypes: await this.itemTypes(project) };
  }

  /** Item types change rarely; asking the tracker on every run would double the API calls. */
  private async itemTypes(project: string): Promise<string[]> {
    const cached = this.typeCache.get(project);
    if (cached && Date.now() - cached.at < 5 * 60_000) return cached.types;
    const types = (await this.o.connector.listItemTypes(project)).map((t) => t.name);
    this.typeCache.set(project, { at: Date.now(), types });
    return types;
  }
}

/** How many changed items an incremental query hands on at a time. */
const WALK_PAGE = 100;

/** Outgoing runs of one batch job at once; with two workers on the batch queue, as many as a worker's batch of `outgoing` jobs. */
const BATCH_CONCURRENCY = 8;

interface ApplyPlan {
  row: ConnectionRow;
  twin: TwinRow;
  current: TrackerItem | null;
  /** What the incoming rule made; its description already in the tracker's format. */
  desired: ScriptItem;
  /** The bodies of `desired.comments` in the tracker's format, by index. */
  nativeBodies: RichText[];
  written: WrittenBySync;
  replica: Replica;
  firstSync: boolean;
  recovering: boolean;
  interruptedCreate: Date | null;
  project: string;
  done: ApplyDone;
  /** The item had a change here that had not gone out when the apply began. */
  unsent: boolean;
  /**
   * Twin columns this apply set and has not stored yet: the key of the item a first sync created
   * goes with the next statement the apply makes anyway, one commit fewer per new item.
   */
  unrecorded: TwinChanges;
  /** Comment twins this apply made or changed and has not stored yet, by the partner's comment id. */
  unrecordedComments: Map<string, CommentTwinWrite>;
}

/** Which of the partner's events an apply takes in, recorded with it. */
interface ApplyDone {
  remoteKey: string;
  /** The last of the partner's events for this item that the apply stands for. */
  upToSeq: string;
  /** Acknowledge an update too: the partner did not know our key when it sent the replica. */
  ackEvenIfUpdated: boolean;
}

/** What the sync stored for an item, as far as read: `oversize` null when not read yet (read when needed). */
type KnownStored = Omit<StoredForItem, 'oversize'> & { oversize: OversizeNotes | null };

/**
 * An item with no twin (not synced yet, or unsynced and taken again as a new pair): the sync wrote
 * nothing for it, but notes of attachments found too large stay with the item, so they are read
 * if the rule sends an attachment.
 */
const NOT_SYNCED_YET: KnownStored = { written: { comments: [], attachments: [] }, oversize: null };

const mirroredIds = (w: WrittenBySync): MirroredIds => ({
  comments: new Map(w.comments.map((c) => [c.local_comment_id, c.remote_comment_id])),
  attachments: new Map(w.attachments.map((a) => [a.local_attachment_id, a.remote_attachment_id])),
});

/** What a just-created item holds, as far as the apply needs to know. */
function emptyItem(project: string, desired: ScriptItem): Omit<TrackerItem, 'key' | 'id' | 'url'> {
  const now = new Date().toISOString();
  return {
    project,
    type: desired.type ?? '',
    summary: desired.summary ?? '',
    description: null,
    status: '',
    priority: null,
    labels: desired.labels ?? [],
    assignee: null,
    reporter: null,
    created: now,
    updated: now,
    version: null,
    comments: [],
    attachments: [],
    customFields: {},
  };
}

function toEvent(row: { id: string; seq: string; kind: SyncEvent['kind']; item_key: string; payload: Record<string, unknown> }): SyncEvent {
  return { id: row.id, seq: Number(row.seq), kind: row.kind, itemKey: row.item_key, payload: row.payload };
}

function describeFailure(error: unknown, direction: 'outgoing' | 'incoming'): Omit<SyncItemError, 'at'> {
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
const megabytes = (bytes: number): string => `${Number((bytes / 1024 / 1024).toFixed(1))} MB`;
