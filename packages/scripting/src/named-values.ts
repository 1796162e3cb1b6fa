/**
 * Named values in a rule's object model, as Exalate scripts know them: an item's `type`,
 * `status`, `priority`, `resolution` and `project` have a `.name` (a project also its `.key`), in
 * `issue` as in `replica` and `previous`: `replica.status.name`, `statusMap[replica.status.name]`,
 * `replica.project.key`. They stay strings all the same, so `replica.status == 'Done'`,
 * `=== 'Done'`, printing them and `issue.status = replica.status` work as before, and the replica
 * on the wire keeps its shape (decision 0010). That is a `name` and a `key` on the run's own
 * `String.prototype` (a runtime is made for each run and thrown away after it, so no other run
 * sees them). A rule may also assign an object with a `name` (what `nodeHelper.getIssueType`
 * gives, or a project's `key`): the engine takes its name.
 *
 * The local item also has Exalate's `typeName` and `projectKey` (assigning them sets its type and
 * project, as Exalate's scripts do on a create), `setStatus(name)` (the engine then moves the item
 * to that status the tracker's way: a Jira transition, an Azure DevOps state, a ServiceNow state
 * choice), and `customFields`, never missing; a replica always has `customFields` and
 * `customKeys`.
 *
 * Built from the host (a few calls per run), not by evaluating JavaScript in the run: a run pays
 * no compile for it.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { isObjectHandle } from './handles.js';

/** The fields that hold a name. */
export const NAMED_FIELDS = ['type', 'status', 'priority', 'resolution', 'project'] as const;

/** What the local item's Exalate-named properties were when the rule began. */
export interface LocalNames {
  typeName: string | null;
  projectKey: string | null;
}

/**
 * Gives the run's strings their `name` and `key`, and the input (`issue`, `replica`, `previous`)
 * what Exalate's object model has. `keep` disposes a handle with the run's.
 */
export function shapeInput(vm: QuickJSContext, input: QuickJSHandle, keep: (h: QuickJSHandle) => QuickJSHandle): LocalNames {
  const itself = function (this: QuickJSHandle): QuickJSHandle {
    return this.dup();
  };
  vm.getProp(vm.global, 'String').consume((ctor) =>
    vm.getProp(ctor, 'prototype').consume((proto) => {
      for (const name of ['name', 'key']) vm.defineProp(proto, name, { configurable: true, enumerable: false, get: itself });
    }),
  );

  const setStatus = keep(
    vm.newFunction('setStatus', function (this: QuickJSHandle, status?: QuickJSHandle) {
      if (status === undefined || vm.typeof(status) === 'undefined') return { error: vm.newError('setStatus takes the name of a status') };
      vm.setProp(this, 'status', status);
      return undefined;
    }),
  );
  const isObject = (h: QuickJSHandle) => isObjectHandle(vm, h);
  const ensureObject = (thing: QuickJSHandle, prop: string) =>
    vm.getProp(thing, prop).consume((h) => {
      if (!isObject(h)) vm.newObject().consume((o) => vm.setProp(thing, prop, o));
    });
  /** `thing[from]`, when it is a string, also as `thing[to]`. */
  const alias = (thing: QuickJSHandle, from: string, to: string): string | null =>
    vm.getProp(thing, from).consume((h) => {
      if (vm.typeof(h) !== 'string') return null;
      vm.setProp(thing, to, h);
      return vm.getString(h);
    });

  const local: LocalNames = { typeName: null, projectKey: null };
  for (const part of ['issue', 'replica', 'previous'] as const) {
    vm.getProp(input, part).consume((thing) => {
      if (!isObject(thing)) return;
      ensureObject(thing, 'customFields');
      if (part !== 'issue') return ensureObject(thing, 'customKeys');
      local.typeName = alias(thing, 'type', 'typeName');
      local.projectKey = alias(thing, 'project', 'projectKey');
      vm.defineProp(thing, 'setStatus', { value: setStatus, configurable: true, enumerable: false });
    });
  }
  return local;
}

/**
 * A rule's result as the engine takes it: an object with a name in a named field becomes that
 * name (a project's key), and, for the local item (`local` given), `typeName` and `projectKey`
 * become its type and project when the rule changed them.
 */
export function plainNames(result: unknown, local: LocalNames | null): unknown {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return result;
  const out = { ...(result as Record<string, unknown>) };
  for (const field of NAMED_FIELDS) {
    const value = out[field];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const named = value as Record<string, unknown>;
      const text = field === 'project' ? (named['key'] ?? named['name']) : named['name'];
      if (typeof text === 'string') out[field] = text;
    }
  }
  if (!local) {
    // A replica: empty maps are left out, so it is what it was before they always existed.
    if (isEmpty(out['customKeys'])) delete out['customKeys'];
    if (isEmpty(out['customFields'])) delete out['customFields'];
  } else {
    const { typeName, projectKey } = out;
    if (typeof typeName === 'string' && typeName !== local.typeName) out['type'] = typeName;
    if (typeof projectKey === 'string' && projectKey !== local.projectKey) out['project'] = projectKey;
    delete out['typeName'];
    delete out['projectKey'];
  }
  return out;
}

const isEmpty = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
