/**
 * The site's fields as Jira lists them (GET /rest/api/{2,3}/field) and the check a custom field's
 * value gets when an issue is created or edited: an unknown `customfield_*` is refused as Jira
 * refuses it, and a value of the wrong kind with Jira's message for it.
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get
 */
import { CUSTOM_FIELDS, type JiraCustomField, type JiraState } from './state.js';

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
