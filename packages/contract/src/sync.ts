import { z } from 'zod';
import { ReplicaSchema } from './replica.js';

/** The admin API of the sync (Configure sync): rules, triggers, the queue and per-item status. */

export const SyncRulesViewSchema = z.object({
  /** Basic connections keep the default rules; Visual and Script connections may change them. */
  editable: z.boolean(),
  outgoing: z.string(),
  incoming: z.string(),
  /** Whether each rule is still the platform's default. */
  outgoingIsDefault: z.boolean(),
  incomingIsDefault: z.boolean(),
});
export type SyncRulesView = z.infer<typeof SyncRulesViewSchema>;

/** A rule set to null goes back to the default. */
export const SaveSyncRulesRequestSchema = z.object({
  outgoing: z.string().max(200_000).nullable().optional(),
  incoming: z.string().max(200_000).nullable().optional(),
});
export type SaveSyncRulesRequest = z.infer<typeof SaveSyncRulesRequestSchema>;

export const TriggerViewSchema = z.object({
  id: z.uuid(),
  /** Null: every type. On ServiceNow the type is the table. */
  itemType: z.string().nullable(),
  /** In the tracker's own language: JQL, a WIQL condition, or a ServiceNow encoded query. */
  query: z.string(),
  active: z.boolean(),
  /** Changes after this instant are picked up by the incremental query. */
  watermark: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TriggerView = z.infer<typeof TriggerViewSchema>;

export const SaveTriggerRequestSchema = z.object({
  itemType: z.string().trim().min(1).max(200).nullable().default(null),
  query: z.string().max(10_000).default(''),
  active: z.boolean().default(true),
});
export type SaveTriggerRequest = z.input<typeof SaveTriggerRequestSchema>;

export const TriggerPreviewRequestSchema = z.object({
  itemType: z.string().trim().min(1).max(200).nullable().default(null),
  query: z.string().max(10_000).default(''),
});
export type TriggerPreviewRequest = z.input<typeof TriggerPreviewRequestSchema>;

export const TriggerPreviewSchema = z.object({
  /** The first matching items (at most `limit`), and whether there are more. */
  items: z.array(z.object({ key: z.string(), url: z.string(), updated: z.string(), summary: z.string() })),
  more: z.boolean(),
});
export type TriggerPreview = z.infer<typeof TriggerPreviewSchema>;

/** The item types a trigger can be limited to (on ServiceNow, the tables). */
export const ItemTypeListSchema = z.object({ itemTypes: z.array(z.string()) });
export type ItemTypeList = z.infer<typeof ItemTypeListSchema>;

export const BulkSyncViewSchema = z.object({
  id: z.uuid(),
  total: z.number().int(),
  synced: z.number().int(),
  failed: z.number().int(),
  startedAt: z.string(),
  done: z.boolean(),
});
export type BulkSyncView = z.infer<typeof BulkSyncViewSchema>;

export const SyncNowRequestSchema = z.object({ key: z.string().trim().min(1).max(200) });
export type SyncNowRequest = z.infer<typeof SyncNowRequestSchema>;

export const ITEM_SYNC_STATUSES = ['PENDING', 'SYNCED', 'FAILED', 'UNSYNCED'] as const;

export const SyncItemErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  direction: z.enum(['outgoing', 'incoming']),
  line: z.number().int().nullable().optional(),
  retryable: z.boolean(),
  at: z.string(),
});

/** One synced pair as the admin sees it. */
export const SyncItemViewSchema = z.object({
  localKey: z.string().nullable(),
  localUrl: z.string().nullable(),
  remoteKey: z.string().nullable(),
  remoteUrl: z.string().nullable(),
  status: z.enum(ITEM_SYNC_STATUSES),
  error: SyncItemErrorSchema.nullable(),
  attempts: z.number().int(),
  lastSyncAt: z.string().nullable(),
  updatedAt: z.string(),
});
export type SyncItemView = z.infer<typeof SyncItemViewSchema>;

export const SyncItemDetailSchema = SyncItemViewSchema.extend({
  /** What this side last sent, and what it last received from the partner. */
  localReplica: ReplicaSchema.nullable(),
  remoteReplica: ReplicaSchema.nullable(),
  history: z.array(z.object({ direction: z.enum(['outgoing', 'incoming']), outcome: z.string(), message: z.string().nullable(), at: z.string() })),
});
export type SyncItemDetail = z.infer<typeof SyncItemDetailSchema>;

export const SyncQueueViewSchema = z.object({
  /** Items per status. */
  items: z.record(z.enum(ITEM_SYNC_STATUSES), z.number().int()),
  /** Messages waiting for the partner, and received ones not yet applied here. */
  outbox: z.number().int(),
  inbox: z.number().int(),
  /** Failed items first, then those waiting, newest first. */
  attention: z.array(SyncItemViewSchema),
});
export type SyncQueueView = z.infer<typeof SyncQueueViewSchema>;
