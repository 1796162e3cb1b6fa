/**
 * Custom fields in a rule, as Exalate's scripts reach them: `issue.customFields["Customer"]` is
 * `{ id, name, type, value }`, by the field's display name, with a `value` to read and set;
 * `issue.customFields["customfield_10010"]` (and Jira's bare `"10010"`) is the same object, by the
 * tracker's id. Every field the tracker lists is there, with `value` null where the item has
 * none, so a rule sets a field on a new item the same way (`issue.customFields.Customer.value =
 * replica.customFields.Customer.value`).
 *
 * Four stages: `customFieldsByName` makes the engine's item (values by field id) the rule's
 * (host data, before the run: no WebAssembly crossing per field); `aliasCustomFields` adds the
 * ids inside the run, as properties that are not enumerable (a replica given the whole map gets
 * each field once, under its name), and `reassignedAliases` reads back what the rule put under
 * an id; `customFieldsById` makes the rule's result the engine's again: by id, the objects'
 * `value`s, a name the tracker does not know refused with the names it does; and
 * `changedCustomFields` (on the runner's side) keeps only what the rule changed.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { canonicalJson, type NodeType, type TrackerField } from '@exalate/contract';
import { disposing, isObjectHandle } from './handles.js';

/** A custom field as a rule sees it. `type` is the tracker's word for it; null when the tracker did not list the field. */
export interface RuleCustomField {
  id: string;
  name: string;
  type: string | null;
  value: unknown;
}

type Values = Record<string, unknown>;

/** Whether `v` is a field object (`{ id, name, type, value }`), not a value that happens to have a `value` (a Jira option). */
export function isRuleCustomField(v: unknown): v is RuleCustomField {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return 'value' in o && 'type' in o && typeof o['name'] === 'string' && 'id' in o;
}

/** The names a field is also reached by: its id, and Jira's number alone. */
function idsOf(field: TrackerField): string[] {
  const jira = /^customfield_([0-9]+)$/.exec(field.id);
  return jira ? [field.id, jira[1]!] : [field.id];
}

/** The field each display name stands for: the first listed, where a tracker lets two share one (Jira does). */
function byName(fields: TrackerField[]): Map<string, TrackerField> {
  const names = new Map<string, TrackerField>();
  for (const f of fields) if (!names.has(f.name)) names.set(f.name, f);
  return names;
}

/** The engine's values by field id as the rule's map by display name (a field the catalogue lacks: by its id). */
export function customFieldsByName(values: Values | undefined, fields: TrackerField[]): Record<string, RuleCustomField> {
  const out: Record<string, RuleCustomField> = {};
  const names = byName(fields);
  const listed = new Set<string>();
  for (const f of fields) {
    listed.add(f.id);
    const key = names.get(f.name) === f ? f.name : f.id;
    out[key] = { id: f.id, name: f.name, type: f.type, value: values?.[f.id] ?? null };
  }
  for (const [id, value] of Object.entries(values ?? {})) if (!listed.has(id)) out[id] = { id, name: id, type: null, value };
  return out;
}

/** Each alias (an id) and the field object it was given (kept with the run's handles). */
export type Aliases = Array<[alias: string, field: QuickJSHandle]>;

/**
 * Adds the ids to the run's `input.issue.customFields`, not enumerable, each the same object as
 * its field's. `keep` disposes a handle with the run's.
 */
export function aliasCustomFields(vm: QuickJSContext, input: QuickJSHandle, fields: TrackerField[], keep: (h: QuickJSHandle) => QuickJSHandle): Aliases {
  const wanted: Array<[alias: string, key: string]> = [];
  const names = byName(fields);
  for (const f of fields) {
    const key = names.get(f.name) === f ? f.name : f.id;
    for (const id of idsOf(f)) if (id !== key) wanted.push([id, key]);
  }
  const aliases: Aliases = [];
  if (!wanted.length) return aliases;
  vm.getProp(input, 'issue').consume((issue) => {
    if (!isObjectHandle(vm, issue)) return;
    vm.getProp(issue, 'customFields').consume((map) => {
      if (!isObjectHandle(vm, map)) return;
      // Writable, so that a rule may put a value under an id (the host's defineProp makes read-only ones).
      const define = vm.getProp(vm.global, 'Object').consume((o) => vm.getProp(o, 'defineProperty'));
      const descriptor = vm.newObject();
      try {
        for (const flag of ['writable', 'configurable']) vm.setProp(descriptor, flag, vm.true);
        for (const [alias, key] of wanted) {
          const field = keep(vm.getProp(map, key));
          vm.setProp(descriptor, 'value', field);
          vm.newString(alias).consume((name) => vm.unwrapResult(vm.callFunction(define, vm.undefined, map, name, descriptor)).dispose());
          aliases.push([alias, field]);
        }
      } finally {
        define.dispose();
        descriptor.dispose();
      }
    });
  });
  return aliases;
}

/**
 * What the rule put under an id itself (`issue.customFields["customfield_10010"] = 'Acme'`):
 * those aliases no longer hold the field object they were given. Asked of the result before it
 * is read.
 */
export function reassignedAliases(vm: QuickJSContext, result: QuickJSHandle, aliases: Aliases): Values {
  const out: Values = {};
  if (!aliases.length) return out;
  try {
    disposing(vm.getProp(result, 'issue'), (item) => isObjectHandle(vm, item) && readAliases(vm, item, aliases, out));
  } catch {
    // A getter of the rule's own that throws: reading the result says what is wrong with it.
  }
  return out;
}

function readAliases(vm: QuickJSContext, item: QuickJSHandle, aliases: Aliases, out: Values): void {
  disposing(vm.getProp(item, 'customFields'), (map) => {
    if (!isObjectHandle(vm, map)) return;
    for (const [alias, field] of aliases)
      disposing(vm.getProp(map, alias), (now) => {
        if (vm.typeof(now) !== 'undefined' && !vm.sameValue(now, field)) out[alias] = vm.dump(now);
      });
  });
}

/** What an id looks like on each tracker: a name that does not is a display name. */
const ID_FORMS: Record<NodeType, RegExp> = {
  JIRA_CLOUD: /^((customfield_)?[0-9]+|duedate|components|fixVersions|resolution)$/,
  JIRA_SERVER: /^((customfield_)?[0-9]+|duedate|components|fixVersions|resolution)$/,
  AZURE_DEVOPS: /\./,
  // A column's name (display names are its labels: "Customer").
  SERVICENOW: /^[a-z][a-z0-9_]*$/,
};

/**
 * The rule's `customFields` (by name or id, field objects or bare values) as the engine's values
 * by field id, what was put under an id last. Throws a message for the admin when a name is
 * none of the tracker's fields (only when the tracker listed its fields).
 */
export function customFieldsById(map: unknown, reassigned: Values, fields: TrackerField[], platform: NodeType): Values {
  const out: Values = {};
  const names = byName(fields);
  const ids = new Map<string, TrackerField>();
  for (const f of fields) for (const id of idsOf(f)) ids.set(id, f);
  const entries = [...Object.entries(map && typeof map === 'object' && !Array.isArray(map) ? (map as Values) : {}), ...Object.entries(reassigned)];
  for (const [key, v] of entries) {
    const field = names.get(key) ?? ids.get(key);
    if (!field && fields.length && !ID_FORMS[platform].test(key)) {
      const known = [...names.keys()].slice(0, 20).join(', ');
      throw new Error(`issue.customFields["${key}"]: this tracker has no field of that name (its fields: ${known || 'none'})`);
    }
    out[field?.id ?? key] = isRuleCustomField(v) ? v.value : v;
  }
  return out;
}

/**
 * Of the rule's result (values by id), the fields it changed: a value other than the one the item
 * had when the rule began (none is null). A field the rule left alone is never written, even
 * where the item the engine writes differs from the one the rule read (an interrupted create,
 * taken up again).
 */
export function changedCustomFields(result: Values | undefined, before: Values | undefined): Values | undefined {
  if (!result) return result;
  const out: Values = {};
  for (const [id, value] of Object.entries(result)) if (canonicalJson(value ?? null) !== canonicalJson(before?.[id] ?? null)) out[id] = value;
  return out;
}
