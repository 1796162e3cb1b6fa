/**
 * The sync engine of one node, as a facade: it builds the stages and keeps the public surface the
 * node, the admin API and the peer API use. The pipeline is change → outgoing rule → outbox →
 * partner → inbox → incoming rule → tracker → acknowledgement; every step is a queue job over
 * stored state, so a crash, a partner that is away or a tracker that answers 429 delays the sync
 * and loses nothing. The engine talks to its tracker through `TrackerConnector` only.
 *
 * The stages, each its own module (docs/architecture.md has the picture):
 * - context.ts: what they share (options, repository, scheduler, echo guard, limits, lookups);
 * - scheduler.ts: how they ask each other for work, by job name (now, in process; later, queued);
 * - change-detection.ts and scan.ts: which items changed (webhooks; incremental queries);
 * - outgoing-replica.ts and outgoing.ts: the outgoing rule's replica and its run into the outbox;
 * - delivery.ts: the outbox to the partner, and what it sends into the inbox;
 * - attachments.ts: both attachment transfer pools;
 * - incoming.ts and write/: the incoming apply, and the item write by aspect;
 * - failures.ts: item failures, backoff and quarantine; admin-actions.ts: what the admin asks.
 */
import type { ItemEvent } from '@exalate/connectors';
import type { NodeType, Replica, Result, SyncEvent } from '@exalate/contract';
import type { ConnectionRow } from '../connections/repository.js';
import { AdminActions } from './admin-actions.js';
import { AttachmentTransfers, type AttachmentBytes } from './attachments.js';
import { ChangeDetection } from './change-detection.js';
import { SyncContext, type SyncEngineOptions } from './context.js';
import { Delivery } from './delivery.js';
import { EchoGuard } from './echo-guard.js';
import { Failures } from './failures.js';
import { Incoming } from './incoming.js';
import { Outgoing } from './outgoing.js';
import { OutgoingReplicas } from './outgoing-replica.js';
import type { JobData, JobName, SyncQueue } from './queue.js';
import type { SyncRepository, TwinRow } from './repository.js';
import { Scan } from './scan.js';
import { ItemWrite } from './write/item-write.js';

export { MAX_ATTACHMENT_BYTES, type SyncEngineOptions } from './context.js';

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
  readonly queries: SyncQueries;
  private readonly ctx: SyncContext;
  private readonly detection: ChangeDetection;
  private readonly scans: Scan;
  private readonly replicas: OutgoingReplicas;
  private readonly outgoing: Outgoing;
  private readonly attachments: AttachmentTransfers;
  private readonly delivery: Delivery;
  private readonly incoming: Incoming;
  private readonly admin: AdminActions;

  constructor(o: SyncEngineOptions) {
    // Events the guard held while a create was under way are looked at once it ended.
    const guard = new EchoGuard((connectionId, events) => {
      void this.detection
        .changesFor(connectionId, events)
        .catch((error: unknown) => o.logger.warn({ err: error, connectionId }, 'could not look at changed items; the next scan will'));
    });
    const ctx = (this.ctx = new SyncContext(o, guard));
    const failures = new Failures(ctx);
    this.detection = new ChangeDetection(ctx);
    this.scans = new Scan(ctx);
    this.replicas = new OutgoingReplicas(ctx);
    this.outgoing = new Outgoing(ctx, this.replicas, failures);
    this.attachments = new AttachmentTransfers(ctx);
    this.delivery = new Delivery(ctx, this.attachments, failures);
    this.incoming = new Incoming(ctx, this.replicas, new ItemWrite(ctx, this.attachments), failures);
    this.admin = new AdminActions(ctx);
    const r = ctx.repo;
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
  }

  get platform(): NodeType {
    return this.ctx.platform;
  }

  /** The in-process fast path's steps (scheduler.ts), run under the same leases as the queued jobs. */
  attach(queue: SyncQueue): void {
    this.ctx.schedule.attach(queue, {
      outgoing: (d) => this.outgoing.run(d.connectionId, d.key),
      incoming: (d) => this.incoming.run(d.connectionId, d.key),
      deliver: (connectionId) => this.delivery.deliver(connectionId),
    });
  }

  /** The queued jobs, one stage each. */
  handlers(): Record<JobName, (d: JobData) => Promise<void>> {
    return {
      scan: (d) => this.scans.scan(d.connectionId),
      outgoing: (d) => this.outgoing.run(d.connectionId, d.key!),
      deliver: (d) => this.delivery.deliver(d.connectionId, true),
      incoming: (d) => this.incoming.run(d.connectionId, d.key!),
      outgoingBatch: (d) => this.outgoing.batch(d.connectionId, d.keys ?? []),
    };
  }

  /** Waits for deliveries and runs under way (the node is stopping); what waits stays stored. */
  stop(): Promise<void> {
    return this.ctx.schedule.stop();
  }

  // ---- finding changes (change-detection.ts, scan.ts)

  /** Items the tracker says changed (a webhook). */
  onTrackerChanges(events: ItemEvent[]): Promise<void> {
    return this.detection.onTrackerChanges(events);
  }

  /** The safety net: every connection's triggers and synced items, queried by watermark. */
  scanAll(): Promise<void> {
    return this.scans.scanAll();
  }

  sweepInbox(): Promise<void> {
    return this.scans.sweepInbox();
  }

  refreshRecent(): Promise<void> {
    return this.scans.refreshRecent();
  }

  /** The item's local replica for the admin: the one sent last, or the baseline the last apply left. */
  localReplica(row: ConnectionRow, twin: TwinRow): Promise<Replica | null> {
    return this.replicas.localReplica(row, twin);
  }

  // ---- the partner (delivery.ts, attachments.ts)

  /** Events for a private partner's poll, after marking what it has stored as delivered. */
  eventsForPoll(row: ConnectionRow, ack: number | undefined): Promise<SyncEvent[]> {
    return this.delivery.eventsForPoll(row, ack);
  }

  /** Stores what the partner sent (pushed to us, or pulled by our poll) and queues it. */
  receive(row: ConnectionRow, events: SyncEvent[]): Promise<void> {
    return this.delivery.receive(row, events);
  }

  attachmentForPartner(
    row: ConnectionRow,
    itemKey: string,
    attachmentId: string,
    send: (found: AttachmentBytes) => Promise<void>,
  ): Promise<Result<null, { reason: 'not-sent' } | { reason: 'too-large'; message: string }>> {
    return this.attachments.forPartner(row, itemKey, attachmentId, send);
  }

  saveBlob(row: ConnectionRow, itemKey: string, attachmentId: string, sha256: string, content: Buffer): Promise<void> {
    return this.attachments.saveBlob(row, itemKey, attachmentId, sha256, content);
  }

  // ---- what the admin asks (admin-actions.ts)

  saveRules(connectionId: string, outgoing: string | null, incoming: string | null): Promise<void> {
    return this.admin.saveRules(connectionId, outgoing, incoming);
  }

  addTrigger(...a: Parameters<AdminActions['addTrigger']>): ReturnType<AdminActions['addTrigger']> {
    return this.admin.addTrigger(...a);
  }

  changeTrigger(...a: Parameters<AdminActions['changeTrigger']>): ReturnType<AdminActions['changeTrigger']> {
    return this.admin.changeTrigger(...a);
  }

  removeTrigger(connectionId: string, triggerId: string): Promise<boolean> {
    return this.admin.removeTrigger(connectionId, triggerId);
  }

  startBulkSync(row: ConnectionRow, id: string, triggerId: string, keys: string[]): Promise<void> {
    return this.admin.startBulkSync(row, id, triggerId, keys);
  }

  syncNow(row: ConnectionRow, keys: string[]): Promise<void> {
    return this.admin.syncNow(row, keys);
  }

  retryItem(row: ConnectionRow, twin: TwinRow): Promise<void> {
    return this.admin.retryItem(row, twin);
  }

  unsync(row: ConnectionRow, twin: TwinRow): Promise<void> {
    return this.admin.unsync(row, twin);
  }

  /** At start: take up whatever was in flight when the node last stopped. */
  resume(): Promise<void> {
    return this.admin.resume();
  }

  /** A connection became Active (again): send what queued up while it was not. */
  connectionChanged(connectionId: string): Promise<void> {
    return this.admin.connectionChanged(connectionId);
  }
}
