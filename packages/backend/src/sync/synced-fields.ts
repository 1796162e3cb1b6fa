/**
 * The item's fields as of its last sync, either way (`synced_fields` on the twin): what the item
 * showed when its replica last went out, or what the last apply left it with. It is the common
 * ancestor of the two sides' next changes.
 *
 * An apply that finds a change here not sent yet (incoming.ts, `unsent`) compares the partner's
 * result with it field by field (write/fields.ts): a field the partner's result leaves as it was
 * at the last sync brings nothing new, so this side's later change of it is kept instead of being
 * written over with the older value, and the outgoing run that follows sends it. A field both
 * sides changed takes the partner's value, as before. Only the fields an apply writes are kept;
 * comments and attachments merge by id and need no ancestor.
 */
import type { ItemChanges, TrackerItem } from '@exalate/connectors';

export interface SyncedFields {
  summary: string;
  description: TrackerItem['description'];
  labels: string[];
  priority: string | null;
  status: string;
  assignee: TrackerItem['assignee'];
  customFields: Record<string, unknown>;
  parent: TrackerItem['parent'] | null;
}

/** The fields of the item an apply writes, as the item shows them. */
export function syncedFieldsOf(item: TrackerItem): SyncedFields {
  return {
    summary: item.summary,
    description: item.description,
    labels: item.labels,
    priority: item.priority,
    status: item.status,
    assignee: item.assignee,
    customFields: item.customFields,
    parent: item.parent ?? null,
  };
}

/**
 * The fields as of the apply just done. When the item holds nothing but the partner's change, the
 * item as read back. When it also holds a change of this side not sent yet, the fields the apply
 * wrote as read back and the others as they were at the last sync (this side's change of those is
 * not the partner's yet); unknown (null) if there was no last sync to start from.
 */
export function syncedAfterApply(base: SyncedFields | null, after: TrackerItem, wrote: ItemChanges, changeHere: boolean): SyncedFields | null {
  const now = syncedFieldsOf(after);
  if (!changeHere) return now;
  if (!base) return null;
  const merged: SyncedFields = { ...base, customFields: { ...base.customFields } };
  if (wrote.summary !== undefined) merged.summary = now.summary;
  if (wrote.description !== undefined) merged.description = now.description;
  if (wrote.labels !== undefined) merged.labels = now.labels;
  if (wrote.priority !== undefined) merged.priority = now.priority;
  if (wrote.status !== undefined) merged.status = now.status;
  if (wrote.assigneeEmail !== undefined) merged.assignee = now.assignee;
  if (wrote.parent !== undefined) merged.parent = now.parent;
  for (const field of Object.keys(wrote.customFields ?? {})) merged.customFields[field] = now.customFields[field] ?? null;
  return merged;
}
