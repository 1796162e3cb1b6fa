import type { IdentityRef, JsonPatchOperation } from 'azure-devops-node-api/interfaces/common/VSSInterfaces.js';
import type { Comment, WorkItem } from 'azure-devops-node-api/interfaces/WorkItemTrackingInterfaces.js';
import { ConnectorError, type AttachmentInfo, type ItemChanges, type NewItem, type Person, type TrackerComment, type TrackerItem } from '../connector.js';

/** Fields the snapshot has a place for; every other field goes to customFields. */
const MAPPED = new Set([
  'System.Id',
  'System.Rev',
  'System.TeamProject',
  'System.WorkItemType',
  'System.Title',
  'System.Description',
  'System.State',
  'Microsoft.VSTS.Common.Priority',
  'System.Tags',
  'System.AssignedTo',
  'System.CreatedBy',
  'System.CreatedDate',
  'System.ChangedDate',
]);

/** Whether the item's own fields (not its customFields) hold the field; System.History carries new comments. */
export const isModelField = (referenceName: string): boolean => MAPPED.has(referenceName) || referenceName === 'System.History';

export function person(value: unknown): Person | null {
  if (!value) return null;
  if (typeof value === 'string') {
    // The pre-5.0 form "Display Name <email>".
    const m = /^(.*?)\s*<([^>]+)>$/.exec(value);
    return { displayName: m ? m[1]! : value, email: m ? m[2]! : null, id: null };
  }
  const ref = value as IdentityRef;
  return {
    displayName: ref.displayName ?? ref.uniqueName ?? 'Unknown',
    email: ref.uniqueName && ref.uniqueName.includes('@') ? ref.uniqueName : null,
    id: ref.id ?? null,
  };
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

export function attachmentsOf(item: WorkItem): AttachmentInfo[] {
  return (item.relations ?? [])
    .filter((r) => r.rel === 'AttachedFile' && r.url)
    .map((r) => ({
      id: /\/attachments\/([0-9a-f-]{36})/i.exec(r.url!)![1]!.toLowerCase(),
      filename: String(r.attributes?.['name'] ?? 'attachment'),
      mimeType: null,
      size: typeof r.attributes?.['resourceSize'] === 'number' ? (r.attributes['resourceSize'] as number) : null,
      sha256: null,
    }));
}

export function toTrackerItem(item: WorkItem, comments: Comment[], htmlUrl: string): TrackerItem {
  const f = item.fields ?? {};
  const custom: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (!MAPPED.has(k)) custom[k] = v;
  const tags = String(f['System.Tags'] ?? '')
    .split(';')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    key: String(item.id),
    id: String(item.id),
    url: htmlUrl,
    project: String(f['System.TeamProject'] ?? ''),
    type: String(f['System.WorkItemType'] ?? ''),
    summary: String(f['System.Title'] ?? ''),
    description: f['System.Description'] ? { format: 'html', value: String(f['System.Description']) } : null,
    status: String(f['System.State'] ?? ''),
    priority: f['Microsoft.VSTS.Common.Priority'] === undefined ? null : String(f['Microsoft.VSTS.Common.Priority']),
    labels: tags,
    assignee: person(f['System.AssignedTo']),
    reporter: person(f['System.CreatedBy']),
    created: iso(f['System.CreatedDate']),
    updated: iso(f['System.ChangedDate']),
    version: item.rev === undefined ? null : String(item.rev),
    comments: comments.filter((c) => !c.isDeleted).map(toTrackerComment),
    attachments: attachmentsOf(item),
    customFields: custom,
    parent: parentOf(item),
  };
}

/** The work item's parent link (a child has one at most). */
export const PARENT_LINK = 'System.LinkTypes.Hierarchy-Reverse';

function parentOf(item: WorkItem): TrackerItem['parent'] {
  const link = (item.relations ?? []).find((r) => r.rel === PARENT_LINK);
  const id = link?.url ? /\/workItems\/([0-9]+)$/i.exec(link.url)?.[1] : undefined;
  return id ? { key: id, id, url: link!.url! } : null;
}

/**
 * The patch operations that make `parent` the work item's parent (null: none), given the
 * relations it has now: the old parent link removed, the new one added.
 */
export function parentPatch(current: WorkItem['relations'], parent: string | null, organizationUrl: string): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const at = (current ?? []).findIndex((r) => r.rel === PARENT_LINK);
  if (at >= 0) ops.push({ op: 'remove', path: `/relations/${at}` } as unknown as JsonPatchOperation);
  if (parent !== null) {
    if (!/^[0-9]+$/.test(parent))
      throw new ConnectorError('REJECTED', `An Azure DevOps parent is a work item id; "${parent}" is none.`, { tracker: 'AZURE_DEVOPS' });
    const url = `${organizationUrl.replace(/\/+$/, '')}/_apis/wit/workItems/${parent}`;
    ops.push({ op: 'add', path: '/relations/-', value: { rel: PARENT_LINK, url, attributes: {} } } as unknown as JsonPatchOperation);
  }
  return ops;
}

export function toTrackerComment(c: Comment): TrackerComment {
  return {
    id: String(c.id),
    author: person(c.createdBy),
    body: { format: 'html', value: c.text ?? '' },
    created: iso(c.createdDate),
    updated: iso(c.modifiedDate ?? c.createdDate),
  };
}

/** Our item fields as JSON Patch operations on the work item. */
export function toPatch(changes: ItemChanges | NewItem): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  // The typed client declares `op` as a numeric enum but sends the document as given; the service's
  // documented form is the name, so that is what goes on the wire.
  const set = (field: string, value: unknown) => ops.push({ op: 'add', path: `/fields/${field}`, value } as unknown as JsonPatchOperation);
  if (changes.summary !== undefined) set('System.Title', changes.summary);
  if (changes.description !== undefined) {
    if (changes.description !== null && changes.description.format !== 'html')
      throw new Error(`Azure DevOps stores descriptions as HTML; convert ${changes.description.format} first.`);
    set('System.Description', changes.description?.value ?? '');
  }
  if (changes.status !== undefined) set('System.State', changes.status);
  if (changes.priority !== undefined) set('Microsoft.VSTS.Common.Priority', changes.priority === null ? 2 : Number(changes.priority));
  if (changes.labels !== undefined) set('System.Tags', changes.labels.join('; '));
  if (changes.assigneeEmail !== undefined) set('System.AssignedTo', changes.assigneeEmail ?? '');
  for (const [k, v] of Object.entries(changes.customFields ?? {})) set(k, v);
  return ops;
}
