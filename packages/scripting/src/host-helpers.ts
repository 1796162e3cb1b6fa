/**
 * The helpers a rule calls, as host functions in its run's context: `debug.log` and
 * `debug.error`, `commentHelper.mergeComments`, `attachmentHelper.mergeAttachments`, `nodeHelper`
 * (`getIssueType`, `getStatus`, `getPriority`, `getUserByEmail`, `stripHtml`, `stripHtmlFromComments`, `toHtml`,
 * `toWiki`), `syncHelper.getTrackerUrl` and Exalate's `com.exalate.api.exception.IssueTrackerException`. Arguments come in as data
 * (a copy: the rule's objects are never touched), results go back as new data. Each checks the
 * run's deadline first, so a rule that calls them in a loop is still stopped on time.
 */
import { MAX_TEXT_FIELD_BYTES, formatBytes, type NodeType, type RichText, type TextFormat } from '@exalate/contract';
import { errors, type QuickJSContext, type QuickJSHandle } from 'quickjs-emscripten';
import { attachmentToMerge, commentToMerge, dataIn, disposing, HelperArgumentError, isObjectHandle, propertyData, type Entry } from './handles.js';
import type { HostCall, HostCallAnswer } from './host-calls.js';
import { nodeCallHelpers } from './node-calls.js';
import { RULE_PRELUDE } from './rule-source.js';
import type { RunTexts } from './texts.js';
import type { TextConverter } from './types.js';

const MAX_LOG_LINES = 100;
const MAX_LOG_LINE = 2_000;

export interface HelperContext {
  platform: NodeType;
  itemTypes: string[];
  statuses: string[];
  priorities: string[];
  trackerUrl: string;
  deadline: number;
  convert: TextConverter | null;
  /** The run's `debug.log` lines (kept on the host: they outlive a run that is stopped). */
  logs: string[];
  /** Set when a rule asked for a conversion before the converter was loaded (the run is then redone). */
  wanted: { converter: boolean };
  /**
   * Set when a helper failed in a way no rule's argument explains (the module's own failure, a
   * trap, an exhausted stack): the run still ends, but its thread is not used again.
   */
  unsound: { reason: string | null };
  /** The formats of the run's texts, which are strings in the rule (texts.ts). */
  texts: RunTexts;
  /** What the rule asked of the engine beyond its result. */
  asked: { syncBack: boolean };
  /** Asks the node and waits for its answer (host-calls.ts); null where the rule cannot (a syntax check, a test's sandbox). */
  call: ((call: HostCall, deadline: number) => HostCallAnswer) | null;
}

/** A function of the rule's, called by a helper, threw: its error goes on up the rule as it is. */
class RuleThrew extends Error {
  constructor(readonly handle: QuickJSHandle) {
    super('the rule threw');
  }
}

type Result = QuickJSHandle | { error: QuickJSHandle } | undefined;

/**
 * The helpers object for `model` (the handle is the caller's to dispose). `parse` and `toText` are
 * the context's own JSON.parse and String, taken before the rule ran; `keep` disposes a handle
 * with the run's.
 */
export function installHelpers(
  vm: QuickJSContext,
  run: HelperContext,
  plumbing: { parse: QuickJSHandle; toText: QuickJSHandle; keep: (h: QuickJSHandle) => QuickJSHandle },
): QuickJSHandle {
  const data = dataIn(vm, plumbing.parse);
  const read = (h: QuickJSHandle | undefined): unknown => (h === undefined ? undefined : vm.dump(h));
  /** The list a merge reads, not the whole item (its texts and fields). */
  const listIn = (thing: QuickJSHandle | undefined, list: string): Entry[] => listOf(propertyData(vm, thing, list), list);
  const text = (h: QuickJSHandle): string => vm.unwrapResult(vm.callFunction(plumbing.toText, vm.undefined, h)).consume((s) => vm.getString(s));
  const late = (): Result | null => (Date.now() >= run.deadline ? { error: vm.newError({ name: 'InternalError', message: 'interrupted' }) } : null);
  /** A host function: the deadline first, and a thrown error becomes the rule's. */
  const fn = (name: string, impl: (...args: QuickJSHandle[]) => Result) =>
    vm.newFunction(name, (...args: QuickJSHandle[]) => {
      const stop = late();
      if (stop) return stop;
      try {
        return impl(...args);
      } catch (error) {
        // The rule's own code failing in the run (a toString of its that throws, its memory spent) is its error; anything else, the module's.
        if (!(error instanceof HelperArgumentError || error instanceof errors.QuickJSUnwrapError))
          run.unsound.reason ??= `a helper failed: ${String((error as Error)?.message ?? error)}`;
        return { error: vm.newError(error instanceof Error ? error.message : String(error)) };
      }
    });

  /** A text (a string of the run's, or `{ format, value }`) in `to`, as a string; or the rule's error. */
  const convertText = (value: unknown, to: TextFormat): { text: string } | { error: QuickJSHandle } => {
    if (!run.convert) {
      // The run goes on to its end (the rule may catch this), and is then run again with the converter.
      run.wanted.converter = true;
      return { error: vm.newError('the text converter is loading') };
    }
    const bytes = JSON.stringify(value).length;
    if (bytes > MAX_TEXT_FIELD_BYTES)
      return { error: vm.newError(`nodeHelper converts texts of at most ${formatBytes(MAX_TEXT_FIELD_BYTES)}; this one is ${formatBytes(bytes)}`) };
    const source: RichText = typeof value === 'string' ? { format: run.texts.formatOf(value), value } : (value as RichText);
    if (!source || typeof source !== 'object' || typeof source.format !== 'string')
      return { error: vm.newError('nodeHelper converts a text: a string, or { format, value }') };
    let converted: RichText;
    try {
      converted = run.convert(source, to);
    } catch (error) {
      return { error: vm.newError(`cannot convert this text: ${(error as Error).message}`) };
    }
    const out = typeof converted.value === 'string' ? converted.value : JSON.stringify(converted.value);
    // What comes back is bounded as what goes in: a conversion may make a text several times longer.
    if (out.length > MAX_TEXT_FIELD_BYTES * 4)
      return {
        error: vm.newError(`the converted text would be ${formatBytes(out.length)}; nodeHelper returns at most ${formatBytes(MAX_TEXT_FIELD_BYTES * 4)}`),
      };
    run.texts.remember(out, converted.format);
    return { text: out };
  };
  const convertTo =
    (to: TextFormat) =>
    (textHandle?: QuickJSHandle): Result => {
      const value = read(textHandle);
      if (value === null || value === undefined) return vm.null;
      const converted = convertText(value, to);
      return 'error' in converted ? converted : vm.newString(converted.text);
    };

  /** RULE_PRELUDE's parts, evaluated the first time the run asks for one. */
  let prelude: QuickJSHandle | null = null;
  const preludePart = (name: 'exalate' | 'raise'): { value: QuickJSHandle } | { error: QuickJSHandle } => {
    if (!prelude) {
      const made = vm.evalCode(RULE_PRELUDE, 'exalate.js');
      if (made.error) return { error: made.error };
      prelude = plumbing.keep(made.value);
    }
    return { value: vm.getProp(prelude, name) };
  };
  const com = vm.newObject();
  vm.defineProp(com, 'exalate', {
    enumerable: true,
    get: () => {
      const part = preludePart('exalate');
      if ('error' in part) {
        // Only a run out of memory or time gets here; its own error follows at once.
        part.error.dispose();
        throw new HelperArgumentError('com.exalate cannot be made now');
      }
      return part.value;
    },
  });

  /** `entry` through the rule's function: what it returned, if an object, else the entry as it left it. */
  const throughRule = (f: QuickJSHandle, entry: Entry): Entry =>
    disposing(data(entry), (arg) => {
      const called = vm.callFunction(f, vm.undefined, arg);
      if (called.error) throw new RuleThrew(called.error);
      return disposing(called.value, (returned) => {
        const made = isObjectHandle(vm, returned) ? read(returned) : read(arg);
        if (!made || typeof made !== 'object' || Array.isArray(made)) throw new HelperArgumentError('the function given to mergeComments made no comment');
        return made as Entry;
      });
    });

  /** `{ name }` of the entry of `list` named `name` (any case), or null. */
  const named = (list: string[], name?: QuickJSHandle): QuickJSHandle => {
    if (name === undefined || vm.typeof(name) === 'undefined' || read(name) === null) return vm.null;
    const wanted = text(name).toLowerCase();
    const found = list.find((s) => s.toLowerCase() === wanted);
    return found === undefined ? vm.null : data({ name: found });
  };

  const object = (entries: Record<string, QuickJSHandle>): QuickJSHandle => {
    const o = vm.newObject();
    for (const [key, value] of Object.entries(entries)) {
      vm.setProp(o, key, value);
      value.dispose();
    }
    return o;
  };

  const calls = nodeCallHelpers(vm, run, { fn, data, read, text });
  return object({
    httpClient: object(calls.httpClient),
    debug: object({
      /** One line in the node's log, with the item's key (at most 100 lines a run, 2,000 characters a line). */
      log: fn('log', (...args) => {
        if (run.logs.length >= MAX_LOG_LINES) return undefined;
        const parts = args.map((a) => {
          if (vm.typeof(a) === 'string') return vm.getString(a);
          try {
            return JSON.stringify(read(a)) ?? String(read(a));
          } catch {
            return `[${vm.typeof(a)}]`;
          }
        });
        run.logs.push(parts.join(' ').slice(0, MAX_LOG_LINE));
        return undefined;
      }),
      /** Stops the item with the rule's message (an IssueTrackerException, as Exalate's does). */
      error: fn('error', (message) => {
        const raise = preludePart('raise');
        if ('error' in raise) return raise;
        const raised = raise.value.consume((f) => vm.callFunction(f, vm.undefined, message ?? vm.undefined));
        if (raised.error) return { error: raised.error };
        raised.value.dispose();
        return undefined;
      }),
    }),
    com,
    syncHelper: object({
      /** The node's tracker, as its admin entered it. */
      getTrackerUrl: fn('getTrackerUrl', () => vm.newString(run.trackerUrl)),
      /**
       * Sends the item back to the partner once this apply has written it, with what the rule
       * changed here (Exalate's, for a value the partner should learn from this side).
       */
      syncBackAfterProcessing: fn('syncBackAfterProcessing', () => {
        run.asked.syncBack = true;
        return undefined;
      }),
      ...calls.syncHelper,
    }),
    commentHelper: object({
      /**
       * The local comments plus the partner's: new ones appended, edited ones updated. Never
       * deletes. With a function (Exalate's closure, `{ comment -> comment.body = … }`), each of
       * the partner's comments is handed to it first, as the comment to merge: what it makes of
       * the comment (it may change it, or return another) is what is merged, on every merge, so an
       * edited comment keeps the form.
       */
      mergeComments: fn('mergeComments', (issue, replica, closure) => {
        const shape = closure !== undefined && vm.typeof(closure) === 'function' ? closure : null;
        const make = (theirs: Entry): Entry => (shape ? throughRule(shape, commentToMerge(theirs)) : commentToMerge(theirs));
        try {
          return data(mergeFromPartner(listIn(issue, 'comments'), listIn(replica, 'comments'), (mine, theirs) => (mine['body'] = make(theirs)['body']), make));
        } catch (error) {
          if (error instanceof RuleThrew) return { error: error.handle };
          throw error;
        }
      }),
    }),
    attachmentHelper: object({
      /** The local attachments plus the partner's that are not here yet. Never deletes. */
      mergeAttachments: fn('mergeAttachments', (issue, replica) =>
        data(mergeFromPartner(listIn(issue, 'attachments'), listIn(replica, 'attachments'), () => undefined, attachmentToMerge)),
      ),
    }),
    nodeHelper: object({
      /** The item type of that name (any case) in the target project, or in the project given second; null when it has none. */
      getIssueType: fn('getIssueType', (name, project) => {
        const other = project === undefined ? null : read(project);
        if (other === null || other === undefined || other === '') return named(run.itemTypes, name);
        // Another project's types: asked of the node (Exalate's getIssueType(name, projectKey)).
        const types = calls.ask('getIssueType', { kind: 'itemTypes', project: String(other) });
        if (!types || 'error' in types) return types;
        const list = disposing(types, (h) => read(h));
        return named(Array.isArray(list) ? list.map(String) : [], name);
      }),
      /** The status of that name (any case) in the item type's workflows, or null when there is none. */
      getStatus: fn('getStatus', (name) => named(run.statuses, name)),
      /** The tracker's priority of that name (any case; a number on Azure DevOps and ServiceNow), or null. */
      getPriority: fn('getPriority', (name) => named(run.priorities, name)),
      /** The comments with their bodies as plain text (Exalate's, for a partner that takes no markup). */
      stripHtmlFromComments: fn('stripHtmlFromComments', (comments) => {
        const list = comments === undefined ? [] : read(comments);
        if (list === null || list === undefined) return data([]);
        if (!Array.isArray(list)) throw new HelperArgumentError('stripHtmlFromComments takes a list of comments');
        const plain: Entry[] = [];
        for (const [i, c] of list.entries()) {
          if (!c || typeof c !== 'object') throw new HelperArgumentError(`comments[${i}] is not an object`);
          const body = (c as Entry)['body'];
          const converted = body === null || body === undefined ? null : convertText(body, 'plain');
          if (converted && 'error' in converted) return converted;
          plain.push({ ...(c as Entry), body: converted ? converted.text : body });
        }
        return data(plain);
      }),
      /** A person to assign by email; the tracker resolves it when the item is written. */
      getUserByEmail: fn('getUserByEmail', (email) => (email === undefined || !vm.dump(email) ? vm.null : data({ email: text(email) }))),
      stripHtml: fn('stripHtml', convertTo('plain')),
      toHtml: fn('toHtml', convertTo('html')),
      toWiki: fn('toWiki', convertTo('jira-wiki')),
      ...calls.nodeHelper,
    }),
  });
}

/** `value`, the list of entries (`list`) a merge reads; none when it is missing. */
function listOf(value: unknown, list: string): Entry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new HelperArgumentError(`${list} is not a list`);
  return value.map((entry, i) => {
    if (!entry || typeof entry !== 'object') throw new HelperArgumentError(`${list}[${i}] is not an object`);
    return entry as Entry;
  });
}

/**
 * The local item's list (comments or attachments) plus the partner's: one the partner sent before
 * (its id is a local entry's remoteId) goes to `known`, a new one is appended as `make` gives it.
 */
function mergeFromPartner(local: Entry[], partner: Entry[], known: (mine: Entry, theirs: Entry) => void, make: (theirs: Entry) => Entry): Entry[] {
  const merged = [...local];
  const byRemote = new Map<string, Entry>();
  for (const x of merged) if (x['remoteId'] !== undefined && x['remoteId'] !== null) byRemote.set(String(x['remoteId']), x);
  for (const theirs of partner) {
    const mine = byRemote.get(String(theirs['id']));
    if (mine) known(mine, theirs);
    else merged.push(make(theirs));
  }
  return merged;
}
