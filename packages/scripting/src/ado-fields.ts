/**
 * Azure DevOps' names in a rule, as Exalate's Azure DevOps scripts use them: `workItem.areaPath`
 * and `workItem.iterationPath`, and any field by its reference name (Groovy's
 * `workItem."Microsoft.VSTS.Common.Severity"` is `workItem["Microsoft.VSTS.Common.Severity"]`).
 *
 * The engine gives the work item's fields that the model has no place for in `customFields`, by
 * reference name; these are also set on the work item under that name, and so are the ones the
 * model maps (`System.Title` is the summary, `System.State` the status, …). What the rule changed
 * under such a name goes back where it belongs: a mapped field to the model's field, any other to
 * `customFields`, which the engine writes as the work item's field of that name.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { isRuleCustomField } from './custom-fields.js';
import { isObjectHandle } from './handles.js';

type Item = Record<string, unknown>;

/** The model's fields as Azure DevOps names them, both ways. */
const MAPPED: Record<string, { read: (item: Item) => unknown; write: (item: Item, value: unknown) => void }> = {
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

/** What the names held when the rule began, to tell what it changed. */
export type AdoNames = Map<string, string>;

/** Sets the work item's fields on it by reference name, and its aliases (`input.issue`). */
export function shapeAdoItem(vm: QuickJSContext, input: QuickJSHandle, data: (value: unknown) => QuickJSHandle): AdoNames {
  const before: AdoNames = new Map();
  vm.getProp(input, 'issue').consume((issue) => {
    if (!isObjectHandle(vm, issue)) return;
    // The fields the names need, not the whole item (its comments may be many).
    const item: Item = {};
    for (const prop of ['key', 'project', 'type', 'summary', 'description', 'status', 'priority', 'labels', 'customFields'])
      item[prop] = vm.getProp(issue, prop).consume((h) => vm.dump(h));
    const custom = (item['customFields'] && typeof item['customFields'] === 'object' ? item['customFields'] : {}) as Item;
    const names: Item = {};
    for (const [ref, field] of Object.entries(MAPPED)) names[ref] = field.read(item);
    // The rule's custom fields are field objects by display name (custom-fields.ts); here, their values by reference name.
    for (const [key, value] of Object.entries(custom)) {
      if (!isRuleCustomField(value)) names[key] = value;
      else if (value.value !== null) names[value.id] = value.value;
    }
    for (const [alias, ref] of Object.entries(ALIASES)) if (names[ref] !== undefined) names[alias] = names[ref];
    for (const [name, value] of Object.entries(names)) {
      if (value === undefined) continue;
      before.set(name, JSON.stringify(value));
      data(value).consume((h) => vm.setProp(issue, name, h));
    }
  });
  return before;
}

/** The rule's work item with what it changed under Azure DevOps' names put where it belongs. */
export function plainAdoItem(result: unknown, before: AdoNames): unknown {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return result;
  const out = { ...(result as Item) };
  const custom = { ...((out['customFields'] && typeof out['customFields'] === 'object' ? out['customFields'] : {}) as Item) };
  for (const name of Object.keys(out)) {
    const ref = ALIASES[name] ?? (name.includes('.') ? name : null);
    if (ref === null) continue;
    const value = out[name];
    delete out[name];
    if (JSON.stringify(value) === before.get(name)) continue;
    const mapped = MAPPED[ref];
    if (mapped) mapped.write(out, value);
    else custom[ref] = value;
  }
  out['customFields'] = custom;
  return out;
}
