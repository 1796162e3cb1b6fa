/**
 * Each tracker's own names for an item's fields in a rule, as Exalate's scripts for that tracker
 * use them (trackers.ts says which names each has):
 * - Azure DevOps: `workItem.areaPath`, `workItem.iterationPath`, and any field by its reference
 *   name (Groovy's `workItem."Microsoft.VSTS.Common.Severity"` is
 *   `workItem["Microsoft.VSTS.Common.Severity"]`; `System.Title` is the summary, `System.State`
 *   the status, …);
 * - Jira: `issue.duedate` (YYYY-MM-DD), `issue.components` and `issue.fixVersions` (`[{ name }]`),
 *   `issue.resolution` (its name);
 * - ServiceNow: every column as a property (`entity.short_description` is the summary,
 *   `entity.state` the status, `entity.number` the key, `entity.tableName` the table; `category`,
 *   `urgency`, `u_*`, … are the record's columns), as the ServiceNow connector gives them.
 *
 * The engine gives the item's fields that the model has no place for in `customFields`, by the
 * tracker's id; these are also set on the item under that name, and so are the ones the model
 * maps. What the rule changed under such a name goes back where it belongs: a mapped field to the
 * model's field, any other to `customFields`, which the engine writes as the tracker's field.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import type { NodeType } from '@exalate/contract';
import { isRuleCustomField } from './custom-fields.js';
import { isObjectHandle, propertyData } from './handles.js';

type Item = Record<string, unknown>;
interface MappedName {
  read: (item: Item) => unknown;
  write: (item: Item, value: unknown) => void;
}

/** A tracker's names: those the model maps, aliases of fields kept in `customFields`, and which other names are fields. */
interface TrackerNames {
  mapped: Record<string, MappedName>;
  aliases: Record<string, string>;
  isField: (name: string) => boolean;
}

/** The model's fields as Azure DevOps names them, both ways. */
const MAPPED: Record<string, MappedName> = {
  'System.Id': { read: (i) => (i['key'] === undefined ? undefined : Number(i['key'])), write: () => undefined },
  'System.TeamProject': { read: (i) => i['project'], write: (i, v) => (i['project'] = String(v)) },
  'System.WorkItemType': { read: (i) => i['type'], write: (i, v) => (i['type'] = String(v)) },
  'System.Title': { read: (i) => i['summary'], write: (i, v) => (i['summary'] = String(v)) },
  'System.Description': {
    read: (i) => {
      const d = i['description'];
      return d && typeof d === 'object' ? (d as { value?: unknown }).value : d;
    },
    write: (i, v) => (i['description'] = v),
  },
  'System.State': { read: (i) => i['status'], write: (i, v) => (i['status'] = String(v)) },
  'Microsoft.VSTS.Common.Priority': {
    read: (i) => (i['priority'] === null || i['priority'] === undefined ? i['priority'] : Number(i['priority'])),
    write: (i, v) => (i['priority'] = v === null ? null : String(v)),
  },
  'System.Tags': {
    read: (i) => (Array.isArray(i['labels']) ? i['labels'].join('; ') : ''),
    write: (i, v) =>
      (i['labels'] = String(v ?? '')
        .split(';')
        .map((t) => t.trim())
        .filter(Boolean)),
  },
};

/** Model aliases of fields kept in `customFields`. */
const ALIASES: Record<string, string> = { areaPath: 'System.AreaPath', iterationPath: 'System.IterationPath' };

/** The item's own properties in the model: never a ServiceNow column of that name. */
const MODEL = new Set([
  'key',
  'id',
  'url',
  'project',
  'type',
  'summary',
  'description',
  'status',
  'priority',
  'labels',
  'assignee',
  'reporter',
  'comments',
  'attachments',
  'customFields',
  'parentId',
  'typeName',
  'projectKey',
]);

/** The model's fields as ServiceNow's columns name them (description, priority, comments and attachments are the model's own). */
const SNOW_MAPPED: Record<string, MappedName> = {
  number: { read: (i) => i['key'], write: () => undefined },
  sys_id: { read: (i) => i['id'], write: () => undefined },
  short_description: { read: (i) => i['summary'], write: (i, v) => (i['summary'] = v === null || v === undefined ? '' : String(v)) },
  state: { read: (i) => i['status'], write: (i, v) => (i['status'] = String(v)) },
  // Unset on a new record: a rule's `entity.tableName = "incident"` on a first sync is then a change.
  tableName: {
    read: (i) => i['type'],
    write: (i, v) => {
      i['type'] = String(v);
      i['project'] = String(v);
    },
  },
};

/** Jira's due date, components, fix versions and resolution, which the connector keeps in `customFields` by Jira's field ids. */
const JIRA: TrackerNames = {
  mapped: {},
  aliases: { duedate: 'duedate', components: 'components', fixVersions: 'fixVersions', resolution: 'resolution' },
  isField: () => false,
};

const NAMES: Partial<Record<NodeType, TrackerNames>> = {
  JIRA_CLOUD: JIRA,
  JIRA_SERVER: JIRA,
  AZURE_DEVOPS: { mapped: MAPPED, aliases: ALIASES, isField: (name) => name.includes('.') },
  SERVICENOW: { mapped: SNOW_MAPPED, aliases: {}, isField: (name) => !MODEL.has(name) && /^[a-z][a-z0-9_]*$/.test(name) },
};

/** What the names held when the rule began, to tell what it changed; null on a tracker without names of its own. */
export type ItemNames = { spec: TrackerNames; before: Map<string, string> } | null;

/** Sets the item's fields on it by the tracker's names, and their aliases (`input.issue`). */
export function shapeTrackerNames(vm: QuickJSContext, platform: NodeType, input: QuickJSHandle, data: (value: unknown) => QuickJSHandle): ItemNames {
  const spec = NAMES[platform];
  if (!spec) return null;
  const before = new Map<string, string>();
  vm.getProp(input, 'issue').consume((issue) => {
    if (!isObjectHandle(vm, issue)) return;
    // The fields the names need, not the whole item (its comments may be many).
    const item: Item = {};
    for (const prop of ['key', 'id', 'project', 'type', 'summary', 'description', 'status', 'priority', 'labels', 'customFields'])
      item[prop] = propertyData(vm, issue, prop);
    const custom = (item['customFields'] && typeof item['customFields'] === 'object' ? item['customFields'] : {}) as Item;
    const names: Item = {};
    for (const [name, field] of Object.entries(spec.mapped)) names[name] = field.read(item);
    // The rule's custom fields are field objects by display name (custom-fields.ts); here, their values by the tracker's id.
    const values: Item = {};
    for (const [key, value] of Object.entries(custom)) {
      if (!isRuleCustomField(value)) values[key] = value;
      else values[value.id] = value.value;
    }
    // Fields without a value are left unset under their ids; an alias reads null for them (`issue.resolution`).
    for (const [id, value] of Object.entries(values)) if (value !== null) names[id] = value;
    for (const [alias, ref] of Object.entries(spec.aliases)) if (values[ref] !== undefined) names[alias] = values[ref];
    for (const [name, value] of Object.entries(names)) {
      if (value === undefined || MODEL.has(name)) continue;
      before.set(name, JSON.stringify(value));
      data(value).consume((h) => vm.setProp(issue, name, h));
    }
  });
  return { spec, before };
}

/** The rule's item with what it changed under the tracker's names put where it belongs. */
export function plainTrackerNames(result: unknown, names: ItemNames): unknown {
  if (!names || !result || typeof result !== 'object' || Array.isArray(result)) return result;
  const { spec, before } = names;
  const out = { ...(result as Item) };
  const custom = { ...((out['customFields'] && typeof out['customFields'] === 'object' ? out['customFields'] : {}) as Item) };
  for (const name of Object.keys(out)) {
    const ref = spec.aliases[name] ?? (name in spec.mapped || spec.isField(name) ? name : null);
    if (ref === null) continue;
    const value = out[name];
    delete out[name];
    if (JSON.stringify(value) === before.get(name)) continue;
    const mapped = spec.mapped[ref];
    if (mapped) mapped.write(out, value);
    else custom[ref] = value;
  }
  out['customFields'] = custom;
  return out;
}

/** ServiceNow's task tables, each also the name of a variable for its record (`incident.short_description`). */
const TABLE_VARIABLES = ['incident', 'problem', 'change_request', 'sc_task'];

/** ServiceNow: `entityType` (the record's table) and the variable named after the table, beside `entity`. */
export function addTableVariables(vm: QuickJSContext, platform: NodeType, input: QuickJSHandle): void {
  if (platform !== 'SERVICENOW') return;
  vm.getProp(input, 'issue').consume((issue) => {
    if (!isObjectHandle(vm, issue)) return;
    const table = ['type', 'project']
      .map((prop) => vm.getProp(issue, prop).consume((h) => (vm.typeof(h) === 'string' ? vm.getString(h) : null)))
      .find((t) => t !== null);
    if (!table) return;
    vm.newString(table).consume((h) => vm.setProp(input, 'entityType', h));
    if (TABLE_VARIABLES.includes(table)) vm.setProp(input, table, issue);
  });
}
