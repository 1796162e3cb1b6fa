/**
 * The site's fields as Jira lists them (GET /rest/api/{2,3}/field) and the check a custom field's
 * value gets when an issue is created or edited: an unknown `customfield_*` is refused as Jira
 * refuses it, and a value of the wrong kind with Jira's message for it.
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get
 */
import { CUSTOM_FIELDS, RESOLUTIONS, type JiraCustomField, type JiraIssue, type JiraProjectPart, type JiraState } from './state.js';

type Json = Record<string, unknown>;

/** The system fields an issue of the simulator has, with their schema type. */
const SYSTEM_FIELDS: Array<{ id: string; name: string; type: string; items?: string }> = [
  { id: 'summary', name: 'Summary', type: 'string' },
  { id: 'description', name: 'Description', type: 'string' },
  { id: 'issuetype', name: 'Issue Type', type: 'issuetype' },
  { id: 'project', name: 'Project', type: 'project' },
  { id: 'status', name: 'Status', type: 'status' },
  { id: 'priority', name: 'Priority', type: 'priority' },
  { id: 'labels', name: 'Labels', type: 'array', items: 'string' },
  { id: 'assignee', name: 'Assignee', type: 'user' },
  { id: 'reporter', name: 'Reporter', type: 'user' },
  { id: 'creator', name: 'Creator', type: 'user' },
  { id: 'created', name: 'Created', type: 'datetime' },
  { id: 'updated', name: 'Updated', type: 'datetime' },
  { id: 'comment', name: 'Comment', type: 'comments-page' },
  { id: 'attachment', name: 'Attachment', type: 'array', items: 'attachment' },
  { id: 'parent', name: 'Parent', type: 'issuelink' },
  { id: 'duedate', name: 'Due date', type: 'date' },
  { id: 'components', name: 'Components', type: 'array', items: 'component' },
  { id: 'fixVersions', name: 'Fix versions', type: 'array', items: 'version' },
  { id: 'resolution', name: 'Resolution', type: 'resolution' },
];

const CUSTOM_TYPE_KEYS: Record<JiraCustomField['type'], string> = {
  string: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield',
  number: 'com.atlassian.jira.plugin.system.customfieldtypes:float',
  date: 'com.atlassian.jira.plugin.system.customfieldtypes:datepicker',
};

export const customFieldsOf = (state: JiraState): JiraCustomField[] => state.customFields ?? CUSTOM_FIELDS;

/** GET /field: system fields, then the custom ones. */
export function renderFields(state: JiraState): Json[] {
  const system = SYSTEM_FIELDS.map((f) => ({
    id: f.id,
    key: f.id,
    name: f.name,
    custom: false,
    orderable: !['status', 'created', 'updated', 'creator'].includes(f.id),
    navigable: true,
    searchable: true,
    clauseNames: [f.id],
    schema: { type: f.type, ...(f.items ? { items: f.items } : {}), system: f.id },
  }));
  const custom = customFieldsOf(state).map((f) => {
    const number = Number(f.id.replace('customfield_', ''));
    return {
      id: f.id,
      key: f.id,
      name: f.name,
      untranslatedName: f.name,
      custom: true,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [`cf[${number}]`, f.name],
      schema: { type: f.type, custom: CUSTOM_TYPE_KEYS[f.type], customId: number },
    };
  });
  return [...system, ...custom];
}

/**
 * The value to keep for custom field `id` (undefined: the field is cleared), or the message
 * Jira answers with in its `errors` for that field.
 */
export function checkCustomValue(state: JiraState, id: string, value: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const field = customFieldsOf(state).find((f) => f.id === id);
  if (!field) return { ok: false, message: `Field '${id}' cannot be set. It is not on the appropriate screen, or unknown.` };
  if (value === null || value === undefined || value === '') return { ok: true, value: undefined };
  switch (field.type) {
    case 'string':
      return typeof value === 'string' ? { ok: true, value } : { ok: false, message: 'Operation value must be a string' };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? { ok: true, value } : { ok: false, message: 'Operation value must be a number' };
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
        ? { ok: true, value }
        : { ok: false, message: `Error parsing date string: ${String(value)}` };
  }
}

/** The fields of the issue's system set this module keeps: due date, components, fix versions, resolution. */
export const PLANNING_FIELDS = ['duedate', 'components', 'fixVersions', 'resolution'] as const;

const partsOf = (state: JiraState, kind: 'components' | 'versions', projectId: string): JiraProjectPart[] =>
  (state[kind] ?? []).filter((p) => p.projectId === projectId);

/** GET /project/{key}/components or /versions. */
export function renderParts(state: JiraState, base: string, api: string, kind: 'components' | 'versions', projectId: string): Json[] {
  return partsOf(state, kind, projectId).map((p) => renderPart(base, api, kind, p));
}

function renderPart(base: string, api: string, kind: 'components' | 'versions', p: JiraProjectPart): Json {
  const self = `${base}${api}/${kind === 'components' ? 'component' : 'version'}/${p.id}`;
  return kind === 'components'
    ? { self, id: p.id, name: p.name }
    : { self, id: p.id, name: p.name, archived: false, released: false, projectId: Number(p.projectId) };
}

/** GET /resolution. */
export function renderResolutions(base: string, api: string): Json[] {
  return RESOLUTIONS.map((r) => ({ self: `${base}${api}/resolution/${r.id}`, id: r.id, name: r.name, description: r.description }));
}

/** Sets one of PLANNING_FIELDS from a create's or edit's `fields`; the message Jira answers with for that field, or null. */
export function applyPlanningField(state: JiraState, issue: JiraIssue, name: (typeof PLANNING_FIELDS)[number], value: unknown): string | null {
  const byRef = (list: Array<{ id: string; name: string }>, ref: unknown) => {
    const r = (ref ?? {}) as { id?: unknown; name?: unknown };
    return list.find((x) => (r.id !== undefined && x.id === String(r.id)) || (r.name !== undefined && x.name === r.name));
  };
  switch (name) {
    case 'duedate':
      if (value === null || value === '') return (void (issue.duedate = null), null);
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value)))
        return `Error parsing date string: ${String(value)}`;
      issue.duedate = value;
      return null;
    case 'components':
    case 'fixVersions': {
      const kind = name === 'components' ? 'components' : 'versions';
      if (!Array.isArray(value)) return `${name} takes a list`;
      const ids: string[] = [];
      for (const ref of value) {
        const part = byRef(partsOf(state, kind, issue.projectId), ref);
        if (!part)
          return kind === 'components'
            ? `Component name '${String((ref as { name?: unknown })?.name ?? (ref as { id?: unknown })?.id)}' is not valid`
            : `Version name '${String((ref as { name?: unknown })?.name ?? (ref as { id?: unknown })?.id)}' is not valid`;
        ids.push(part.id);
      }
      if (name === 'components') issue.componentIds = [...new Set(ids)];
      else issue.fixVersionIds = [...new Set(ids)];
      return null;
    }
    case 'resolution': {
      if (value === null) return (void (issue.resolutionId = null), null);
      const r = byRef(RESOLUTIONS, value);
      if (!r) return 'Resolution is invalid.';
      issue.resolutionId = r.id;
      return null;
    }
  }
}

/** The planning fields of an issue as Jira renders them. */
export function renderPlanningFields(state: JiraState, base: string, api: string, issue: JiraIssue): Record<(typeof PLANNING_FIELDS)[number], unknown> {
  const parts = (kind: 'components' | 'versions', ids: string[] | undefined) =>
    (ids ?? []).flatMap((id) => partsOf(state, kind, issue.projectId).filter((p) => p.id === id)).map((p) => renderPart(base, api, kind, p));
  const resolution = RESOLUTIONS.find((r) => r.id === issue.resolutionId);
  return {
    duedate: issue.duedate ?? null,
    components: parts('components', issue.componentIds),
    fixVersions: parts('versions', issue.fixVersionIds),
    resolution: resolution
      ? { self: `${base}${api}/resolution/${resolution.id}`, id: resolution.id, name: resolution.name, description: resolution.description }
      : null,
  };
}
