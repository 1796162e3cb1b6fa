/**
 * The fields aspect of an apply's write: on a first sync, the item is created (or, after a crash
 * between creating and recording it, found again); otherwise, and for an item found again, only
 * the fields that differ from what the rule made are updated, except, when the item has a change
 * here not sent yet, the fields the partner's result leaves as they were at the last sync
 * (synced-fields.ts). `fieldChanges` is also how the finish tells whether someone else changed the
 * item meanwhile.
 */
import { ConnectorError, convertText, type ItemChanges, type ItemRef, type NewItem, type TrackerConnector, type TrackerItem } from '@exalate/connectors';
import { canonicalJson } from '@exalate/contract';
import type { ScriptItem } from '@exalate/scripting';
import type { SyncContext } from '../context.js';
import type { SyncedFields } from '../synced-fields.js';
import { ItemFailure } from '../failures.js';
import { sameText, textIn } from '../item-view.js';
import type { ApplyPlan, WriteAspect } from './plan.js';

/** Candidates looked at for the item an interrupted first sync created, at most. */
const INTERRUPTED_CREATE_CANDIDATES = 200;

export class FieldsWrite implements WriteAspect {
  constructor(private readonly ctx: SyncContext) {}

  async write(plan: ApplyPlan): Promise<void> {
    const { connector, guard } = this.ctx;
    const { row, desired, recovering, interruptedCreate, project, firstSync } = plan;
    if (firstSync) {
      let ref: ItemRef | null = null;
      guard.createStarted(row.id);
      try {
        ref = interruptedCreate ? await this.findInterruptedCreate(row.id, project, desired, interruptedCreate) : null;
        if (!ref) {
          const fresh = this.newItem(desired, project);
          ref = await connector.createItem(fresh);
          // Of a new item, only these are surely kept as given; a tracker may start it in its own
          // status or priority.
          plan.wrote = { summary: fresh.summary, description: fresh.description ?? null, labels: fresh.labels ?? [] };
        }
        guard.beginWrite(row.id, ref.key);
      } finally {
        guard.createEnded(row.id, ref?.key ?? null);
      }
      // Recorded with the apply's next statement (see `unrecorded`), or by the apply if it fails first.
      plan.unrecorded = { local_key: ref.key, local_url: ref.url, local_project: project };
      plan.twin = { ...plan.twin, ...plan.unrecorded };
      // A fresh item has no comments or attachments yet; one found after a crash is read as it is.
      plan.current = recovering ? await connector.getItem(ref.key) : { ...emptyItem(project, desired), ...ref };
      if (!plan.current) throw new ConnectorError('UNAVAILABLE', `${ref.key} was created but cannot be read back yet`, { tracker: connector.trackerType });
    }
    if (!firstSync || recovering) {
      let changes = fieldChanges(plan.current!, desired, connector);
      const base = plan.twin.synced_fields;
      if (plan.unsent && base && !firstSync) {
        const { kept, rest } = keepingChangesHere(changes, plan.current!, base, desired, connector);
        if (kept.length)
          this.ctx.logger.info(
            { connectionId: row.id, item: plan.current!.key, kept },
            "kept this side's change not sent yet: the partner's value of these fields is the one they had at the last sync",
          );
        changes = rest;
      }
      if (Object.keys(changes).length) await connector.updateItem(plan.current!.key, changes);
      plan.wrote = { ...plan.wrote, ...changes };
    }
  }

  /**
   * After a crash between creating an item and recording it: the item this sync created, if it did.
   * It is in the project, changed since the create began, carries the summary the rule gave it, and
   * is nobody's twin yet.
   */
  private async findInterruptedCreate(connectionId: string, project: string, desired: ScriptItem, since: Date): Promise<ItemRef | null> {
    const { connector, repo, logger } = this.ctx;
    const after = new Date(new Date(since).getTime() - 5_000).toISOString();
    let looked = 0;
    for await (const candidate of connector.searchChanged({ query: '', project, changedAfter: after })) {
      if (++looked > INTERRUPTED_CREATE_CANDIDATES) break;
      if (await repo.twinByLocal(connectionId, candidate.key)) continue;
      const item = await connector.getItem(candidate.key);
      if (item && item.summary === (desired.summary ?? '') && new Date(item.created).getTime() >= new Date(after).getTime()) {
        logger.warn({ connectionId, item: item.key }, 'found the item an interrupted first sync had created; using it');
        return item;
      }
    }
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
    const description = textIn(desired.description, this.ctx.platform, this.ctx.connector.textFormat);
    return {
      project: desired.project ?? project,
      type: desired.type,
      summary: desired.summary ?? '',
      ...(description ? { description } : {}),
      ...(desired.labels ? { labels: desired.labels } : {}),
      ...(desired.priority ? { priority: desired.priority } : {}),
      ...(desired.status ? { status: desired.status } : {}),
      ...(desired.assignee?.email ? { assigneeEmail: desired.assignee.email } : {}),
      ...withValues(desired.customFields),
      ...(desired.parentId ? { parent: desired.parentId } : {}),
    };
  }
}

/** A new item's custom fields: those with a value (a rule sees every field the tracker lists, most of them empty). */
function withValues(fields: ScriptItem['customFields']): { customFields?: Record<string, unknown> } {
  const set = Object.entries(fields ?? {}).filter(([, v]) => v !== null && v !== undefined);
  return set.length ? { customFields: Object.fromEntries(set) } : {};
}

/** What the rule changed, as the connector's update: only fields that differ. */
export function fieldChanges(current: TrackerItem, desired: ScriptItem, connector: Pick<TrackerConnector, 'trackerType' | 'textFormat'>): ItemChanges {
  const changes: ItemChanges = {};
  if (desired.summary !== undefined && desired.summary !== null && desired.summary !== current.summary) changes.summary = desired.summary;
  if (desired.description !== undefined) {
    const wanted = textIn(desired.description, connector.trackerType, connector.textFormat);
    if (!sameText(wanted, current.description ? convertText(current.description, connector.textFormat) : null)) changes.description = wanted;
  }
  if (desired.labels !== undefined && canonicalJson([...desired.labels].sort()) !== canonicalJson([...current.labels].sort())) changes.labels = desired.labels;
  if (desired.priority !== undefined && desired.priority !== current.priority) changes.priority = desired.priority;
  if (desired.status !== undefined && desired.status !== null && desired.status !== current.status) changes.status = desired.status;
  if (desired.assignee !== undefined && (desired.assignee?.email ?? null) !== (current.assignee?.email ?? null))
    changes.assigneeEmail = desired.assignee?.email ?? null;
  const custom: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(desired.customFields ?? {})) {
    if (canonicalJson(value) !== canonicalJson(current.customFields[field] ?? null)) custom[field] = value;
  }
  if (Object.keys(custom).length) changes.customFields = custom;
  if (desired.parentId !== undefined && !sameParent(desired.parentId, current.parent ?? null)) changes.parent = desired.parentId;
  return changes;
}

/**
 * With a change here not sent yet: the changes without the fields whose value in the rule's result
 * is what the field was at the last sync (`base`). The partner brings nothing new there, so this
 * side's later value stands, and the outgoing run after the apply sends it (synced-fields.ts).
 */
export function keepingChangesHere(
  changes: ItemChanges,
  current: TrackerItem,
  base: SyncedFields,
  desired: ScriptItem,
  connector: Pick<TrackerConnector, 'trackerType' | 'textFormat'>,
): { kept: string[]; rest: ItemChanges } {
  const news = fieldChanges({ ...current, ...base }, desired, connector);
  const kept: string[] = [];
  const rest: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changes)) {
    if (field !== 'customFields') {
      if (field in news) rest[field] = value;
      else kept.push(field);
      continue;
    }
    const custom: Record<string, unknown> = {};
    for (const [id, v] of Object.entries(changes.customFields ?? {})) {
      if (news.customFields && id in news.customFields) custom[id] = v;
      else kept.push(id);
    }
    if (Object.keys(custom).length) rest['customFields'] = custom;
  }
  // The keys are ItemChanges' own, each with the value fieldChanges gave it.
  return { kept, rest: rest as ItemChanges };
}

/** The rule's parent (a key or an id) is the item's parent now. */
function sameParent(wanted: string | null, parent: NonNullable<TrackerItem['parent']> | null): boolean {
  if (wanted === null || wanted === '') return parent === null;
  return parent !== null && (wanted === parent.key || wanted === parent.id);
}

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
