import type { AttachmentInfo, ItemChanges, NewItem, Person, RichText, TrackerComment, TrackerItem } from '../connector.js';

/** Jira times look like 2024-01-15T10:20:30.123+0000; ISO 8601 wants +00:00. */
export const isoFromJira = (value: unknown): string => new Date(String(value).replace(/([+-][0-9]{2})([0-9]{2})$/, '$1:$2')).toISOString();

type RawUser = { accountId?: string; name?: string; emailAddress?: string; displayName?: string } | null | undefined;
type RawIssue = { id?: string; key?: string; fields?: Record<string, unknown> };
type RawComment = { id?: string; author?: RawUser; body?: unknown; created?: string; updated?: string };
type RawAttachment = { id?: string | number; filename?: string; mimeType?: string; size?: number };

export function person(user: RawUser): Person | null {
  if (!user) return null;
  return { displayName: user.displayName ?? user.name ?? 'Unknown', email: user.emailAddress ?? null, id: user.accountId ?? user.name ?? null };
}

/** The native text format: ADF documents on Cloud (REST v3), wiki markup on Data Center (REST v2). */
export function richText(value: unknown, deployment: 'cloud' | 'datacenter'): RichText | null {
  if (value === null || value === undefined || value === '') return null;
  return deployment === 'cloud' ? { format: 'adf', value: value as Record<string, unknown> } : { format: 'jira-wiki', value: String(value) };
}

export function nativeText(text: RichText, deployment: 'cloud' | 'datacenter'): unknown {
  const want = deployment === 'cloud' ? 'adf' : 'jira-wiki';
  if (text.format !== want)
    throw new Error(
      `Jira ${deployment === 'cloud' ? 'Cloud stores Atlassian Document Format' : 'Data Center stores wiki markup'}; convert ${text.format} first.`,
    );
  return text.value;
}

export function attachment(a: RawAttachment): AttachmentInfo {
  return {
    id: String(a.id),
    filename: a.filename ?? 'attachment',
    mimeType: a.mimeType ?? null,
    size: typeof a.size === 'number' ? a.size : null,
    sha256: null,
  };
}

export function comment(c: RawComment, deployment: 'cloud' | 'datacenter'): TrackerComment {
  return {
    id: String(c.id),
    author: person(c.author),
    body: richText(c.body, deployment) ?? { format: deployment === 'cloud' ? 'adf' : 'jira-wiki', value: '' },
    created: isoFromJira(c.created),
    updated: isoFromJira(c.updated ?? c.created),
  };
}

export function toTrackerItem(issue: RawIssue, comments: RawComment[], baseUrl: string, deployment: 'cloud' | 'datacenter'): TrackerItem {
  const f = issue.fields ?? {};
  const named = (v: unknown) => (v as { name?: string } | null)?.name ?? null;
  const custom: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (k.startsWith('customfield_')) custom[k] = v;
  // Due date, components, fix versions and resolution: in rules `issue.duedate`, `issue.components`, … (by name, as sites differ in ids).
  if ('duedate' in f) custom['duedate'] = f['duedate'] ?? null;
  for (const list of ['components', 'fixVersions'])
    if (list in f) custom[list] = ((f[list] as Array<{ name?: string }> | null) ?? []).map((x) => ({ name: String(x.name) }));
  if ('resolution' in f) custom['resolution'] = named(f['resolution']);
  return {
    key: String(issue.key),
    id: String(issue.id),
    url: `${baseUrl}/browse/${issue.key}`,
    project: String((f['project'] as { key?: string } | undefined)?.key ?? ''),
    type: named(f['issuetype']) ?? '',
    summary: String(f['summary'] ?? ''),
    description: richText(f['description'], deployment),
    status: named(f['status']) ?? '',
    priority: named(f['priority']),
    labels: (f['labels'] as string[] | undefined) ?? [],
    assignee: person(f['assignee'] as RawUser),
    reporter: person(f['reporter'] as RawUser),
    created: isoFromJira(f['created']),
    updated: isoFromJira(f['updated']),
    version: null,
    comments: comments.map((c) => comment(c, deployment)),
    attachments: ((f['attachment'] as RawAttachment[] | undefined) ?? []).map(attachment),
    customFields: custom,
    parent: parentRef(f['parent'], baseUrl),
  };
}

function parentRef(value: unknown, baseUrl: string): TrackerItem['parent'] {
  const p = value as { id?: string | number; key?: string } | null | undefined;
  return p?.key ? { key: p.key, id: String(p.id ?? p.key), url: `${baseUrl}/browse/${p.key}` } : null;
}

/** The `fields` of a create or edit request (status is not a field: it moves by transition). */
export function toFields(
  changes: ItemChanges | NewItem,
  deployment: 'cloud' | 'datacenter',
  assignee: Record<string, string> | null | undefined,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (changes.summary !== undefined) fields['summary'] = changes.summary;
  if (changes.description !== undefined) fields['description'] = changes.description === null ? null : nativeText(changes.description, deployment);
  if (changes.labels !== undefined) fields['labels'] = changes.labels;
  if (changes.priority !== undefined && changes.priority !== null) fields['priority'] = { name: changes.priority };
  if (assignee !== undefined) fields['assignee'] = assignee;
  for (const [k, v] of Object.entries(changes.customFields ?? {})) fields[k] = planningValue(k, v);
  // Jira takes a parent by id or by key.
  if (changes.parent !== undefined)
    fields['parent'] = changes.parent === null ? null : /^[0-9]+$/.test(changes.parent) ? { id: changes.parent } : { key: changes.parent };
  return fields;
}

/** A value for components and fix versions (names, or objects with a name) and the resolution (a name) as Jira takes it; any other field's as it is. */
function planningValue(field: string, value: unknown): unknown {
  const named = (v: unknown) => (v && typeof v === 'object' ? { name: String((v as { name?: unknown }).name ?? '') } : { name: String(v) });
  if (field === 'components' || field === 'fixVersions') return Array.isArray(value) ? value.map(named) : value === null ? [] : [named(value)];
  if (field === 'resolution') return value === null || value === '' ? null : named(value);
  return value;
}
