/**
 * One rule run in a QuickJS runtime made for it alone (this is what a worker thread does with a
 * task; see runner.ts for the pool around it). The rule reaches nothing of the host (no network,
 * files, timers or `process`): plain data in and out, and the text converter through `nodeHelper`.
 *
 * The runtime and its context are new for every run and disposed after it, so no path a rule can
 * find (its own function and `arguments.callee`, the built-ins and their prototypes, the global
 * object, the symbol registry, closures kept by built-ins) leads to anything of another run.
 * Its limits: a deadline for the whole run (host calls check it too), a memory limit, and a stack
 * limit well below the thread's own, so that deep recursion is QuickJS's own catchable error and
 * never an overflow of the thread's stack inside WebAssembly (which would leave the module unsound).
 */
import { shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten';
import { ReplicaSchema, formatBytes, type NodeType, type TrackerField } from '@exalate/contract';
import type { z } from 'zod';
import { aliasCustomFields, customFieldsById, reassignedAliases } from './custom-fields.js';
import { dataIn } from './handles.js';
import type { HostCall, HostCallAnswer } from './host-calls.js';
import { installHelpers } from './host-helpers.js';
import { plainNames, shapeInput } from './named-values.js';
import { nativeTextFormat, ScriptItemSchema } from './object-model.js';
import { addReplicaChanges } from './replica-changes.js';
import { ruleLocation, ruleSource } from './rule-source.js';
import { addTableVariables, plainTrackerNames, shapeTrackerNames } from './tracker-names.js';
import { describeQuickJsError, type DescribedError } from './script-errors.js';
import { RunTexts } from './texts.js';
import type { ScriptDirection, ScriptError, ScriptLimits, ScriptOutcome, TextConverter } from './types.js';

/** QuickJS's stack limit; the worker threads run with a native stack many times this (see runner.ts). */
export const RULE_STACK_BYTES = 512 * 1024;

/**
 * The built-ins a rule has: all of QuickJS's but the typed arrays. An ArrayBuffer's bytes are not
 * counted against a runtime's memory limit, so with them a rule could take memory without bound.
 */
const RULE_INTRINSICS = {
  BaseObjects: true,
  Date: true,
  Eval: true,
  StringNormalize: true,
  RegExp: true,
  JSON: true,
  Proxy: true,
  MapSet: true,
  Promise: true,
} as const;

export interface RunTask {
  direction: ScriptDirection;
  script: string;
  /** The run's input as JSON: `{ issue, replica, previous, firstSync }`. */
  inputJson: string;
  platform: NodeType;
  /** For `nodeHelper.getIssueType`. */
  itemTypes: string[];
  /** For `nodeHelper.getStatus`. */
  statuses: string[];
  /** For `nodeHelper.getPriority`. */
  priorities: string[];
  /** For `syncHelper.getTrackerUrl`. */
  trackerUrl: string;
  /** What the item's custom fields are (their ids, names and types). */
  fields: TrackerField[];
}

type NodeCall = (call: HostCall, deadline: number) => HostCallAnswer;

/** The converter is not loaded in this thread yet: load it and run the rule again. */
export class ConverterNeeded extends Error {}

/**
 * A failure of the WebAssembly module itself (not of the rule): the module may be in any state,
 * so the thread that owns it must not run anything in it again.
 */
export class SandboxUnsound extends Error {}

/** A result, and whether the module failed while the runtime behind it was freed (it is then not to be used again). */
export interface Ran<T> {
  value: T;
  unsound: string | null;
}

export interface Sandbox {
  /** `call`: asks the node and waits (host-calls.ts); null where the rule cannot. */
  run(task: RunTask, limits: ScriptLimits, convert: TextConverter | null, call?: NodeCall | null): Ran<ScriptOutcome<unknown>>;
  checkSyntax(script: string, direction: ScriptDirection): Ran<ScriptError | null>;
}

/**
 * `memoryFull`: whether the module's memory is at its bound (asked when a run's time is up, to tell
 * a run that was running out of memory from one that was only slow).
 */
export function createSandbox(quickjs: QuickJSWASMModule, memoryFull: () => boolean = () => false): Sandbox {
  const withRuntime = <T>(limits: ScriptLimits, fn: (runtime: QuickJSRuntime, vm: QuickJSContext) => T): Ran<T> => {
    let runtime: QuickJSRuntime | null = null;
    let vm: QuickJSContext | null = null;
    let value: T;
    try {
      runtime = quickjs.newRuntime();
      // A second line only: the thread's module memory is the real bound (rule-worker.ts).
      runtime.setMemoryLimit(limits.memoryBytes);
      runtime.setMaxStackSize(RULE_STACK_BYTES);
      vm = runtime.newContext({ intrinsics: RULE_INTRINSICS });
      value = fn(runtime, vm);
    } catch (error) {
      if (error instanceof ConverterNeeded) {
        // Run again, with the converter, in a new runtime; unless freeing this one showed the module unsound.
        const unsound = free(vm, runtime);
        if (unsound) throw new SandboxUnsound(unsound);
        throw error;
      }
      // Anything thrown by the module itself (an abort, a trap, the thread's stack exhausted inside it).
      throw new SandboxUnsound(String((error as Error)?.message ?? error));
    }
    // Freeing checks that the run left nothing allocated (QuickJS asserts it). Where it did, as
    // after some of QuickJS's own errors, the result stands but the module is not used again.
    return { value, unsound: free(vm, runtime) };
  };

  /** The rule compiled into a function of its run's model (see rule-source.ts), or its syntax error. */
  const compile = (
    vm: QuickJSContext,
    direction: ScriptDirection,
    script: string,
  ): { ok: true; rule: QuickJSHandle } | { ok: false; error: DescribedError } => {
    const wrapped = vm.evalCode(ruleSource(script), `${direction}.js`);
    if (wrapped.error) return { ok: false, error: inRule(script, errorOf(vm, wrapped.error, direction)) };
    return { ok: true, rule: wrapped.value };
  };

  return {
    checkSyntax(script, direction) {
      return withRuntime({ timeoutMs: 1_000, memoryBytes: 8 * 1024 * 1024 }, (runtime, vm) => {
        runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 1_000));
        const compiled = vm.evalCode(ruleSource(script), `${direction}.js`, { compileOnly: true });
        if (!compiled.error) {
          compiled.value.dispose();
          return null;
        }
        return { ...inRule(script, errorOf(vm, compiled.error, direction)), direction };
      });
    },

    run(task, limits, convert, call = null) {
      const { direction } = task;
      const deadline = Date.now() + limits.timeoutMs;
      let helpersUnsound: string | null = null;
      const ran = withRuntime(limits, (runtime, vm): ScriptOutcome<unknown> => {
        const wanted = { converter: false };
        const helperFailure: { reason: string | null } = { reason: null };
        const logs: string[] = [];
        const asked = { syncBack: false };
        const fail = (error: DescribedError): ScriptOutcome<unknown> => {
          // Whatever the rule did after a conversion it could not have is void: it runs again.
          if (wanted.converter) throw new ConverterNeeded();
          return { ok: false, error: { ...error, direction }, logs };
        };
        let fullAtStop = false;
        const late = shouldInterruptAfterDeadline(deadline);
        runtime.setInterruptHandler((rt) => {
          const stop = late(rt);
          if (stop) fullAtStop = memoryFull();
          return stop;
        });
        const handles: QuickJSHandle[] = [];
        const keep = (h: QuickJSHandle) => (handles.push(h), h);
        try {
          const plumbing = setUp(vm, keep);
          const texts = new RunTexts(nativeTextFormat(task.platform));
          const helpers = keep(
            installHelpers(
              vm,
              {
                platform: task.platform,
                itemTypes: task.itemTypes,
                statuses: task.statuses,
                priorities: task.priorities,
                trackerUrl: task.trackerUrl,
                deadline,
                convert,
                logs,
                wanted,
                unsound: helperFailure,
                texts,
                asked,
                call,
              },
              { ...plumbing, keep },
            ),
          );
          const compiled = compile(vm, direction, task.script);
          if (!compiled.ok) return fail(compiled.error);
          keep(compiled.rule);
          const made = vm.newString(task.inputJson).consume((json) => vm.callFunction(plumbing.parse, plumbing.json, json));
          if (made.error) return fail(stopped(fullAtStop, limits, errorOf(vm, made.error, direction, memoryFull)));
          const input = keep(made.value);
          const data = dataIn(vm, plumbing.parse);
          const local = shapeInput(vm, input, keep);
          const aliases = aliasCustomFields(vm, input, task.fields, keep);
          const trackerNames = shapeTrackerNames(vm, task.platform, input, data);
          addTableVariables(vm, task.platform, input);
          texts.toStrings(vm, input, direction);
          if (direction === 'incoming') addReplicaChanges(vm, input, data);
          const ran = vm.callFunction(compiled.rule, vm.undefined, input, helpers);
          if (wanted.converter) {
            (ran.error ?? ran.value).dispose();
            throw new ConverterNeeded();
          }
          if (ran.error) return fail(stopped(fullAtStop, limits, inRule(task.script, errorOf(vm, ran.error, direction, memoryFull))));
          const result = keep(ran.value);
          const reassigned = direction === 'incoming' ? reassignedAliases(vm, result, aliases) : {};
          const out = readResult(vm, plumbing, result, direction === 'outgoing' ? 'replica' : 'issue');
          if (out.problem === 'no memory')
            return fail({ code: 'SCRIPT_MEMORY', message: 'the result cannot be read: the rule used all of its memory', line: null, column: null });
          if (out.problem) return fail({ code: 'SCRIPT_RESULT_INVALID', message: `the result cannot be read: ${out.problem}`, line: null, column: null });
          let value: unknown;
          if (direction === 'incoming') {
            const item = texts.restore(plainNames(plainTrackerNames(out.value, trackerNames), local)) as Record<string, unknown> | undefined;
            try {
              value = item && { ...item, customFields: customFieldsById(item['customFields'], reassigned, task.fields, task.platform) };
            } catch (error) {
              return fail({ code: 'SCRIPT_RESULT_INVALID', message: (error as Error).message, line: null, column: null });
            }
          } else value = texts.restore(plainNames(out.value, null));
          const parsed = direction === 'outgoing' ? parseResult(ReplicaSchema, value, 'replica') : parseResult(ScriptItemSchema, value, 'issue');
          if (!parsed.ok) return fail({ code: 'SCRIPT_RESULT_INVALID', message: parsed.message, line: null, column: null });
          const returned = vm.getProp(result, 'returned').consume((h) => vm.typeof(h) === 'boolean' && vm.dump(h) === true);
          return {
            ok: true,
            value: parsed.value,
            logs,
            ...(asked.syncBack && direction === 'incoming' ? { syncBack: true as const } : {}),
            ...(returned ? { returned: true as const } : {}),
          };
        } finally {
          helpersUnsound = helperFailure.reason;
          for (const h of handles) if (h.alive) h.dispose();
          runtime.removeInterruptHandler();
        }
      });
      return { value: ran.value, unsound: ran.unsound ?? helpersUnsound };
    },
  };
}

/** An error's place in the compiled text as a place in the rule (see `ruleLocation`). */
function inRule(script: string, error: DescribedError): DescribedError {
  const at = ruleLocation(script, error.line, error.column);
  const pastEnd = error.line !== null && at.line !== error.line;
  if (pastEnd && error.code === 'SCRIPT_SYNTAX')
    return { ...error, ...at, message: `${error.message} (at the rule's end: a block, bracket or string left open, or a '}' too many?)` };
  return { ...error, ...at };
}

/** Frees a run's context and runtime: null, or why the module is no longer sound. */
function free(vm: QuickJSContext | null, runtime: QuickJSRuntime | null): string | null {
  try {
    vm?.dispose();
    runtime?.dispose();
    return null;
  } catch (error) {
    return String((error as Error)?.message ?? error);
  }
}

interface Plumbing {
  json: QuickJSHandle;
  parse: QuickJSHandle;
  stringify: QuickJSHandle;
  toText: QuickJSHandle;
}

/**
 * `result[name]` (the replica, or the local item) as data, written by the context's own
 * JSON.stringify as it was before the rule ran (a rule may replace the global one; a `toJSON` of
 * its own objects is still asked). The text is never empty: an empty one is a copy out of the
 * module that failed for want of memory.
 */
function readResult(
  vm: QuickJSContext,
  plumbing: Plumbing,
  result: QuickJSHandle,
  name: string,
): { value: unknown; problem: null } | { value: null; problem: string } {
  let part: QuickJSHandle;
  try {
    part = vm.getProp(result, name);
  } catch {
    return { value: null, problem: `${name} cannot be read` };
  }
  return part.consume((h) => {
    const type = vm.typeof(h);
    if (type === 'undefined') return { value: undefined, problem: null };
    if (type !== 'object') return { value: null, problem: `${name} is a ${type}, not an object` };
    const written = vm.callFunction(plumbing.stringify, plumbing.json, h);
    if (written.error) {
      written.error.dispose();
      return { value: null, problem: `${name} is not data (a cycle, a BigInt, or a toJSON that fails?)` };
    }
    const text = written.value.consume((s) => (vm.typeof(s) === 'string' ? vm.getString(s) : null));
    if (text === '') return { value: null, problem: 'no memory' };
    if (text === null) return { value: null, problem: `${name} is not data` };
    return { value: JSON.parse(text) as unknown, problem: null };
  });
}

/** What the host needs of the context's built-ins, taken before the rule runs (a rule may replace them). */
function setUp(vm: QuickJSContext, keep: (h: QuickJSHandle) => QuickJSHandle): Plumbing {
  const json = keep(vm.getProp(vm.global, 'JSON'));
  return { json, parse: keep(vm.getProp(json, 'parse')), stringify: keep(vm.getProp(json, 'stringify')), toText: keep(vm.getProp(vm.global, 'String')) };
}

/**
 * A run stopped by its deadline after it had grown the module to its bound was running out of
 * memory (the collector's passes near the bound take the time): that is what the admin is told.
 */
function stopped(fullAtStop: boolean, limits: ScriptLimits, error: DescribedError): DescribedError {
  if (error.code !== 'SCRIPT_TIMEOUT' || !fullAtStop) return error;
  return { ...error, code: 'SCRIPT_MEMORY', message: `the rule used more memory than its limit (${formatBytes(limits.memoryBytes)}) allows and was stopped` };
}

/**
 * A QuickJS error (the handle is consumed) as the admin reads it, located in the rule of
 * `direction`. Its parts are read one by one, not dumped whole: a run out of memory may not have
 * the room to turn the error into JSON, and then what could be read, or that, is what it says.
 */
function errorOf(vm: QuickJSContext, error: QuickJSHandle, direction: ScriptDirection, memoryFull: () => boolean = () => false): DescribedError {
  const read = error.consume((e) => readError(vm, e));
  if ((read === null || (read.name === undefined && read.message === undefined)) && memoryFull()) {
    return { code: 'SCRIPT_MEMORY', message: 'the rule used more memory than its limit and was stopped', line: null, column: null };
  }
  return describeQuickJsError(read, `${direction}.js`);
}

function readError(vm: QuickJSContext, e: QuickJSHandle): { name?: string; message?: string; stack?: string; lineNumber?: number } | null {
  try {
    if (vm.typeof(e) !== 'object') return { message: String(vm.dump(e)) };
    const part = (name: string): string | number | undefined => {
      const h = vm.getProp(e, name);
      try {
        const type = vm.typeof(h);
        return type === 'string' ? vm.getString(h) : type === 'number' ? vm.getNumber(h) : undefined;
      } finally {
        h.dispose();
      }
    };
    const [name, message, stack, lineNumber] = ['name', 'message', 'stack', 'lineNumber'].map(part);
    return {
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof stack === 'string' ? { stack } : {}),
      ...(typeof lineNumber === 'number' ? { lineNumber } : {}),
    };
  } catch {
    // A getter of the rule's own that throws, or no memory left to read with.
    return null;
  }
}

function parseResult<T>(schema: z.ZodType<T>, value: unknown, name: string): { ok: true; value: T } | { ok: false; message: string } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = [name, ...issue.path.map(String)].join('.');
  return { ok: false, message: `${where}: ${issue.message}` };
}
