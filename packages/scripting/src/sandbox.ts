import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSContext, type QuickJSHandle, type QuickJSWASMModule } from 'quickjs-emscripten';
import { ReplicaSchema, type NodeType, type Replica, type RichText, type TextFormat } from '@exalate/contract';
import type { z } from 'zod';
import { EPILOGUE, PRELUDE, ScriptItemSchema, nativeTextFormat, type ScriptItem } from './object-model.js';

export type ScriptDirection = 'outgoing' | 'incoming';

export interface ScriptLimits {
  /** How long one run may compute. The run is synchronous, so this is its CPU time. */
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

/**
 * Runs sync rules. Each run gets a fresh QuickJS runtime: nothing survives between runs, and the
 * script reaches nothing of the host: no network, files, timers or `process`, only plain data in
 * and out and the text converter.
 */
export class ScriptRunner {
  private constructor(
    private readonly quickjs: QuickJSWASMModule,
    private readonly limits: ScriptLimits,
  ) {}

  static async create(limits: Partial<ScriptLimits> = {}): Promise<ScriptRunner> {
    return new ScriptRunner(await getQuickJS(), { ...DEFAULT_LIMITS, ...limits });
  }

  /** Whether a rule parses, without running it: the syntax error with its line, or null. */
  checkSyntax(script: string, direction: ScriptDirection): ScriptError | null {
    const runtime = this.quickjs.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    const vm = runtime.newContext();
    try {
      const compiled = vm.evalCode(script, `${direction}.js`, { compileOnly: true });
      if (!compiled.error) {
        compiled.value.dispose();
        return null;
      }
      const dumped = vm.dump(compiled.error) as unknown;
      compiled.error.dispose();
      return { ...describe(dumped, `${direction}.js`), direction };
    } finally {
      vm.dispose();
      runtime.dispose();
    }
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

  private run<T>(
    direction: ScriptDirection,
    script: string,
    input: { issue: ScriptItem; replica: unknown; previous: Replica | null; firstSync: boolean },
    host: ScriptHost,
    read: (out: { replica: unknown; issue: unknown }) => { ok: true; value: T } | { ok: false; message: string },
  ): ScriptOutcome<T> {
    const runtime = this.quickjs.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    runtime.setMaxStackSize(512 * 1024);
    const vm = runtime.newContext();
    const fail = (error: Omit<ScriptError, 'direction'>, logs: string[] = []): ScriptOutcome<T> => ({ ok: false, error: { ...error, direction }, logs });
    try {
      const inputJson = JSON.stringify({ ...input, itemTypes: host.itemTypes });
      vm.newString(inputJson).consume((h) => vm.setProp(vm.global, '__input', h));
      vm.newFunction('__convert', (textHandle: QuickJSHandle, toHandle: QuickJSHandle) => {
        const raw = JSON.parse(vm.getString(textHandle)) as unknown;
        const to = vm.getString(toHandle) as TextFormat;
        const text: RichText = typeof raw === 'string' ? { format: nativeTextFormat(host.platform), value: raw } : (raw as RichText);
        try {
          return vm.newString(host.convert(text, to));
        } catch (error) {
          return { error: vm.newError(`cannot convert this text: ${(error as Error).message}`) };
        }
      }).consume((fn) => vm.setProp(vm.global, '__convert', fn));

      runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + this.limits.timeoutMs));
      const prelude = vm.evalCode(PRELUDE, 'exalate-prelude.js');
      if (prelude.error) {
        const dumped = vm.dump(prelude.error) as unknown;
        prelude.error.dispose();
        return fail(describe(dumped, `${direction}.js`));
      }
      prelude.value.dispose();

      const rule = vm.evalCode(script, `${direction}.js`);
      const logsNow = () => readLogs(vm);
      if (rule.error) {
        const dumped = vm.dump(rule.error) as unknown;
        rule.error.dispose();
        return fail(describe(dumped, `${direction}.js`), logsNow());
      }
      rule.value.dispose();

      const result = vm.evalCode(EPILOGUE, 'exalate-epilogue.js');
      if (result.error) {
        const dumped = vm.dump(result.error) as unknown;
        result.error.dispose();
        const described = describe(dumped, `${direction}.js`);
        // Building the result fails on what the rule left behind (a cycle, a BigInt).
        return fail({ ...described, code: described.code === 'SCRIPT_ERROR' ? 'SCRIPT_RESULT_INVALID' : described.code, message: `the result cannot be read: ${described.message}` });
      }
      const out = JSON.parse(vm.getString(result.value)) as { replica: unknown; issue: unknown; logs: string[] };
      result.value.dispose();
      const parsed = read(out);
      if (!parsed.ok) return fail({ code: 'SCRIPT_RESULT_INVALID', message: parsed.message, line: null, column: null }, out.logs);
      return { ok: true, value: parsed.value, logs: out.logs };
    } finally {
      vm.dispose();
      runtime.dispose();
    }
  }
}

function readLogs(vm: QuickJSContext): string[] {
  const r = vm.evalCode('JSON.stringify(__logs)');
  if (r.error) {
    r.error.dispose();
    return [];
  }
  const logs = JSON.parse(vm.getString(r.value)) as string[];
  r.value.dispose();
  return logs;
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
