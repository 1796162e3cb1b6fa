import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten';
import { ReplicaSchema, type NodeType, type Replica, type RichText, type TextFormat } from '@exalate/contract';
import type { z } from 'zod';
import { RULE_FOOTER, RULE_HEADER, SANDBOX_SETUP, ScriptItemSchema, nativeTextFormat, type ScriptItem } from './object-model.js';

export type ScriptDirection = 'outgoing' | 'incoming';

export interface ScriptLimits {
  /**
   * How long one run may take, by the clock. The run is synchronous (nothing else of the node runs
   * meanwhile), so this is its CPU time unless the machine is short of CPU.
   */
  timeoutMs: number;
  /** Heap of one run's runtime. */
  memoryBytes: number;
}

export const DEFAULT_LIMITS: ScriptLimits = { timeoutMs: 1_000, memoryBytes: 32 * 1024 * 1024 };

export type ScriptErrorCode = 'SCRIPT_ERROR' | 'SCRIPT_SYNTAX' | 'SCRIPT_TIMEOUT' | 'SCRIPT_MEMORY' | 'SCRIPT_RESULT_INVALID';

/** Why a rule did not give a result, with where in the rule, for the admin. */
export interface ScriptError {
  code: ScriptErrorCode;
  direction: ScriptDirection;
  message: string;
  /** 1-based line and column in the rule, when known. */
  line: number | null;
  column: number | null;
}

export type ScriptOutcome<T> = { ok: true; value: T; logs: string[] } | { ok: false; error: ScriptError; logs: string[] };

export interface ScriptHost {
  platform: NodeType;
  /** Item types of the project the item lives in (or will be created in), for `nodeHelper.getIssueType`. */
  itemTypes: string[];
  /** Text conversion for `nodeHelper.toHtml/toWiki/stripHtml`; a string is in `platform`'s own format. */
  convert(text: RichText, to: TextFormat): string;
}

export interface OutgoingInput {
  issue: ScriptItem;
  /** The replica sent last time, null on the first sync. */
  previous: Replica | null;
  firstSync: boolean;
}

export interface IncomingInput {
  issue: ScriptItem;
  replica: Replica;
  /** The replica received before this one, null on the first sync. */
  previous: Replica | null;
  firstSync: boolean;
}

/** How many compiled rules a sandbox keeps; past that it starts again empty. */
const MAX_COMPILED_RULES = 64;

/** One QuickJS runtime and context, set up once and reused by run after run. */
interface Sandbox {
  runtime: QuickJSRuntime;
  vm: QuickJSContext;
  /** `model`, `finish`, `logs` and `cleanup` of SANDBOX_SETUP. */
  plumbing: { model: QuickJSHandle; finish: QuickJSHandle; logs: QuickJSHandle; cleanup: QuickJSHandle };
  /** Compiled rules by direction and text. */
  rules: Map<string, QuickJSHandle>;
  /** The host of the run in progress, for `convert`. */
  host: ScriptHost | null;
}

/**
 * Runs sync rules in a QuickJS sandbox: the script reaches nothing of the host (no network, files,
 * timers or `process`), only plain data in and out and the text converter.
 *
 * Setting up a sandbox and compiling the object model cost more than a default rule's run, so one
 * sandbox serves run after run, and a rule is compiled once. Nothing a rule does outlives its run:
 * each run gets its own model, the built-ins are frozen, and the globals a rule adds are removed
 * after it (see SANDBOX_SETUP). A run that fails in any way, or leaves anything behind that cannot
 * be removed (a global it made permanent, a pending promise job), throws the sandbox away; the next
 * run gets a new one.
 */
export class ScriptRunner {
  private sandbox: Sandbox | null = null;

  private constructor(
    private readonly quickjs: QuickJSWASMModule,
    private readonly limits: ScriptLimits,
  ) {}

  static async create(limits: Partial<ScriptLimits> = {}): Promise<ScriptRunner> {
    return new ScriptRunner(await getQuickJS(), { ...DEFAULT_LIMITS, ...limits });
  }

  /** Whether a rule parses, without running it: the syntax error with its line, or null. */
  checkSyntax(script: string, direction: ScriptDirection): ScriptError | null {
    const sandbox = this.open();
    const compiled = this.compile(sandbox, direction, script);
    return compiled.ok ? null : { ...compiled.error, direction };
  }

  /** The outgoing rule: fills `replica` from the local `issue`. */
  runOutgoing(script: string, input: OutgoingInput, host: ScriptHost): ScriptOutcome<Replica> {
    const seed = { key: input.issue.key ?? '' };
    return this.run('outgoing', script, { ...input, replica: seed }, host, (out) => parseResult(ReplicaSchema, out.replica, 'replica'));
  }

  /** The incoming rule: changes the local `issue` (a new one on the first sync) from the partner's `replica`. */
  runIncoming(script: string, input: IncomingInput, host: ScriptHost): ScriptOutcome<ScriptItem> {
    return this.run('incoming', script, input, host, (out) => parseResult(ScriptItemSchema, out.issue, 'issue'));
  }

  /** Frees the sandbox (a new one is made if the runner is used again). */
  dispose(): void {
    this.discard();
  }

  private run<T>(
    direction: ScriptDirection,
    script: string,
    input: { issue: ScriptItem; replica: unknown; previous: Replica | null; firstSync: boolean },
    host: ScriptHost,
    read: (out: { replica: unknown; issue: unknown }) => { ok: true; value: T } | { ok: false; message: string },
  ): ScriptOutcome<T> {
    const sandbox = this.open();
    const { vm, runtime, plumbing } = sandbox;
    let clean = false;
    const fail = (error: Omit<ScriptError, 'direction'>, logs: string[] = []): ScriptOutcome<T> => ({ ok: false, error: { ...error, direction }, logs });
    const compiled = this.compile(sandbox, direction, script);
    if (!compiled.ok) return fail(compiled.error);
    sandbox.host = host;
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + this.limits.timeoutMs));
    let model: QuickJSHandle | null = null;
    try {
      const made = vm.newString(JSON.stringify({ ...input, itemTypes: host.itemTypes })).consume((json) => vm.callFunction(plumbing.model, vm.undefined, json));
      if (made.error) return fail(shiftFirstLine(errorOf(vm, made.error, direction)));
      model = made.value;
      const ran = vm.callFunction(compiled.rule, vm.undefined, model);
      if (ran.error) {
        return fail(shiftFirstLine(errorOf(vm, ran.error, direction)), this.logsOf(sandbox, model));
      }
      ran.value.dispose();
      const result = vm.callFunction(plumbing.finish, vm.undefined, model);
      if (result.error) {
        const described = shiftFirstLine(errorOf(vm, result.error, direction));
        // Building the result fails on what the rule left behind (a cycle, a BigInt).
        return fail({ ...described, code: described.code === 'SCRIPT_ERROR' ? 'SCRIPT_RESULT_INVALID' : described.code, message: `the result cannot be read: ${described.message}` }, this.logsOf(sandbox, model));
      }
      const out = JSON.parse(result.value.consume((h) => vm.getString(h))) as { replica: unknown; issue: unknown; logs: string[] };
      clean = this.cleanUp(sandbox);
      const parsed = read(out);
      if (!parsed.ok) return fail({ code: 'SCRIPT_RESULT_INVALID', message: parsed.message, line: null, column: null }, out.logs);
      return { ok: true, value: parsed.value, logs: out.logs };
    } finally {
      model?.dispose();
      if (this.sandbox === sandbox) {
        sandbox.host = null;
        runtime.removeInterruptHandler();
        // A failed run may have stopped anywhere (out of memory, interrupted): start afresh.
        if (!clean) this.discard();
      }
    }
  }

  /** The sandbox, set up if there is none. */
  private open(): Sandbox {
    if (this.sandbox) return this.sandbox;
    const runtime = this.quickjs.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    runtime.setMaxStackSize(512 * 1024);
    const vm = runtime.newContext();
    const sandbox: Sandbox = { runtime, vm, plumbing: null as never, rules: new Map(), host: null };
    try {
      const convert = vm.newFunction('convert', (textHandle: QuickJSHandle, toHandle: QuickJSHandle) => {
        const host = sandbox.host;
        if (!host) return { error: vm.newError('text conversion is only available while a rule runs') };
        const raw = JSON.parse(vm.getString(textHandle)) as unknown;
        const to = vm.getString(toHandle) as TextFormat;
        const text: RichText = typeof raw === 'string' ? { format: nativeTextFormat(host.platform), value: raw } : (raw as RichText);
        try {
          return vm.newString(host.convert(text, to));
        } catch (error) {
          return { error: vm.newError(`cannot convert this text: ${(error as Error).message}`) };
        }
      });
      const setup = vm.evalCode(SANDBOX_SETUP, 'exalate-model.js');
      if (setup.error) throw new Error(`the rule sandbox cannot be set up: ${JSON.stringify(setup.error.consume((e) => vm.dump(e)))}`);
      const made = setup.value.consume((fn) => vm.callFunction(fn, vm.undefined, convert));
      convert.dispose();
      if (made.error) throw new Error(`the rule sandbox cannot be set up: ${JSON.stringify(made.error.consume((e) => vm.dump(e)))}`);
      sandbox.plumbing = made.value.consume((p) => ({
        model: vm.getProp(p, 'model'),
        finish: vm.getProp(p, 'finish'),
        logs: vm.getProp(p, 'logs'),
        cleanup: vm.getProp(p, 'cleanup'),
      }));
    } catch (error) {
      vm.dispose();
      runtime.dispose();
      throw error;
    }
    this.sandbox = sandbox;
    return sandbox;
  }

  private discard(): void {
    const sandbox = this.sandbox;
    if (!sandbox) return;
    this.sandbox = null;
    for (const rule of sandbox.rules.values()) rule.dispose();
    for (const handle of Object.values(sandbox.plumbing)) handle.dispose();
    sandbox.vm.dispose();
    sandbox.runtime.dispose();
  }

  /**
   * A rule compiled into a function of its run's model, or its syntax error. It is first compiled
   * alone, as the admin wrote it, so that its syntax errors carry its own line numbers and so that
   * it cannot close the function it is put in.
   */
  private compile(sandbox: Sandbox, direction: ScriptDirection, script: string): { ok: true; rule: QuickJSHandle } | { ok: false; error: Omit<ScriptError, 'direction'> } {
    const cacheKey = `${direction}\n${script}`;
    const cached = sandbox.rules.get(cacheKey);
    if (cached) return { ok: true, rule: cached };
    const { vm } = sandbox;
    const fileName = `${direction}.js`;
    const alone = vm.evalCode(script, fileName, { compileOnly: true });
    if (alone.error) return { ok: false, error: errorOf(vm, alone.error, direction) };
    alone.value.dispose();
    const wrapped = vm.evalCode(`${RULE_HEADER}${script}${RULE_FOOTER}`, fileName);
    if (wrapped.error) return { ok: false, error: shiftFirstLine(errorOf(vm, wrapped.error, direction)) };
    if (sandbox.rules.size >= MAX_COMPILED_RULES) {
      for (const rule of sandbox.rules.values()) rule.dispose();
      sandbox.rules.clear();
    }
    sandbox.rules.set(cacheKey, wrapped.value);
    return { ok: true, rule: wrapped.value };
  }

  private logsOf(sandbox: Sandbox, model: QuickJSHandle): string[] {
    const { vm, runtime } = sandbox;
    // The run may have ended on its deadline: reading the logs gets a moment of its own.
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 100));
    const r = vm.callFunction(sandbox.plumbing.logs, vm.undefined, model);
    if (r.error) {
      r.error.dispose();
      return [];
    }
    return JSON.parse(r.value.consume((h) => vm.getString(h))) as string[];
  }

  /** Removes what the run left in the sandbox; false when something cannot be removed. */
  private cleanUp(sandbox: Sandbox): boolean {
    const { vm, runtime } = sandbox;
    if (runtime.hasPendingJob()) return false;
    const r = vm.callFunction(sandbox.plumbing.cleanup, vm.undefined);
    if (r.error) {
      r.error.dispose();
      return false;
    }
    return r.value.consume((h) => vm.dump(h) === true);
  }
}

/** A QuickJS error (the handle is consumed) as the admin reads it, located in the rule of `direction`. */
function errorOf(vm: QuickJSContext, error: QuickJSHandle, direction: ScriptDirection): Omit<ScriptError, 'direction'> {
  return describe(error.consume((e) => vm.dump(e)) as unknown, `${direction}.js`);
}

/** The rule's first line follows the wrapper's header: its columns there are the rule's own minus that. */
function shiftFirstLine(error: Omit<ScriptError, 'direction'>): Omit<ScriptError, 'direction'> {
  return error.line === 1 && error.column !== null ? { ...error, column: Math.max(1, error.column - RULE_HEADER.length) } : error;
}

function parseResult<T>(schema: z.ZodType<T>, value: unknown, name: string): { ok: true; value: T } | { ok: false; message: string } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = [name, ...issue.path.map(String)].join('.');
  return { ok: false, message: `${where}: ${issue.message}` };
}

/** A QuickJS error, dumped to plain data, as the admin should read it. */
function describe(dumped: unknown, fileName: string): Omit<ScriptError, 'direction'> {
  const e = (typeof dumped === 'object' && dumped !== null ? dumped : { message: String(dumped) }) as {
    name?: string;
    message?: string;
    stack?: string;
    lineNumber?: number;
  };
  const name = e.name ?? 'Error';
  const message = e.message ?? String(dumped);
  let line: number | null = null;
  let column: number | null = null;
  // The first frame inside the rule itself, not in the helpers it called.
  const frame = new RegExp(`${fileName.replace('.', '\\.')}:(\\d+)(?::(\\d+))?`).exec(e.stack ?? '');
  if (frame) {
    line = Number(frame[1]);
    column = frame[2] ? Number(frame[2]) : null;
  } else if (typeof e.lineNumber === 'number') {
    line = e.lineNumber;
  }
  if (name === 'InternalError' && message === 'interrupted') {
    return { code: 'SCRIPT_TIMEOUT', message: 'the rule ran longer than its time limit (an endless loop?) and was stopped', line, column };
  }
  if (name === 'InternalError' && message === 'out of memory') {
    return { code: 'SCRIPT_MEMORY', message: 'the rule used more memory than its limit and was stopped', line, column };
  }
  if (name === 'SyntaxError') return { code: 'SCRIPT_SYNTAX', message: `SyntaxError: ${message}`, line, column };
  return { code: 'SCRIPT_ERROR', message: `${name}: ${message}`, line, column };
}

/** "line 3: TypeError: …" — how an error reads in the queue and the item's status. */
export function formatScriptError(error: ScriptError): string {
  const where = error.line === null ? '' : ` at line ${error.line}${error.column === null ? '' : `, column ${error.column}`}`;
  return `The ${error.direction} rule failed${where}: ${error.message}`;
}
