/**
 * Runs sync rules off the server's main thread: a few worker threads (rule-worker.ts), each taking
 * one task at a time and running a rule in a QuickJS runtime made for that run alone (sandbox.ts).
 * A rule that loops, recurses or eats memory therefore holds up one thread for its time limit at
 * most, never the event loop: the admin API, webhooks and the other items go on meanwhile.
 *
 * Tasks wait in one queue, first come first served, and go to a thread that is ready. Each task
 * has a watchdog: its time limit plus a grace. QuickJS stops a rule at its limit by itself; the
 * watchdog is for what QuickJS cannot interrupt (a text conversion a rule asked for, a collector
 * pass near the memory limit). A thread that overruns its watchdog, runs out of heap or exits is
 * ended and replaced: its task answers with the matching error, and the queue goes on in the others.
 *
 * The same threads convert large texts for the sync engine (`convert`), so that a long
 * description is not converted on the main thread either.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { formatBytes, type Replica, type RichText, type TextFormat } from '@exalate/contract';
import { changedCustomFields, customFieldsByName } from './custom-fields.js';
import { reply, type CallRequest, type HostCalls } from './host-calls.js';
import type { ScriptItem } from './object-model.js';
import {
  DEFAULT_LIMITS,
  type IncomingInput,
  type OutgoingInput,
  type ScriptDirection,
  type ScriptError,
  type ScriptHost,
  type ScriptLimits,
  type ScriptOutcome,
} from './types.js';
import type { TaskAnswer, TaskMessage, WorkerMessage, WorkerOptions } from './worker-protocol.js';

/** How long past its limit a task may go before its thread is ended: QuickJS's own check comes first. */
const GRACE_MS = 250;
/** A thread's native stack: many times QuickJS's own limit (sandbox.ts), so QuickJS's check always comes first. */
const THREAD_STACK_MB = 8;
/** A thread's JavaScript heap (the converter's trees of a large text live there). */
const THREAD_HEAP_MB = 256;
/** How long a thread may take to load the text converter, on a busy machine. */
const LOADING_MS = 30_000;
/** The largest input a rule reads (the item, the replica and the one before, as JSON). */
export const MAX_RULE_INPUT_BYTES = 6 * 1024 * 1024;

export interface ScriptRunnerOptions extends Partial<ScriptLimits> {
  /** Worker threads. */
  threads?: number;
  /**
   * A module (file URL or path) whose `convertText` the threads use for `nodeHelper`'s
   * conversions and for `convert`; without one, those fail with a clear error.
   */
  converter?: string | URL | null;
  /** How long a `convert` may take. */
  conversionTimeoutMs?: number;
  /** Told when a thread is ended and replaced (a task overran it, it failed or it ran out of heap). */
  onThreadReplaced?: (reason: string) => void;
}

export class TextConversionError extends Error {
  override readonly name = 'TextConversionError';
}

type Loss = { kind: 'lost'; reason: 'timeout' | 'memory' | 'crash' | 'closed'; message: string };

interface Job {
  message: DistributiveOmit<TaskMessage, 'id'>;
  budgetMs: number;
  /** How the node answers the run's calls (host-calls.ts), for a rule run. */
  calls?: HostCalls;
  settle(answer: TaskAnswer | Loss): void;
}
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

interface Thread {
  worker: Worker;
  /** The main thread's end of the thread's call channel, and the word the thread waits on. */
  calls: { port: MessagePort; signal: SharedArrayBuffer };
  state: 'starting' | 'idle' | 'busy' | 'gone';
  job: Job | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
  /** Why it ended, as its job is told (set before `terminate`). */
  ended: Loss | null;
}

export class ScriptRunner {
  private readonly threads = new Set<Thread>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Failures to start a thread in a row: a runner that cannot start one fails its tasks instead of waiting. */
  private startFailures = 0;
  private lastStartError = '';
  private restarts = 0;
  private converted = 0;

  private constructor(
    private readonly limits: ScriptLimits,
    private readonly options: { size: number; workerOptions: WorkerOptions; conversionTimeoutMs: number; onThreadReplaced?: (reason: string) => void },
  ) {}

  /** Starts the threads; fails when they cannot start (the build is missing, say). */
  static async create(options: ScriptRunnerOptions = {}): Promise<ScriptRunner> {
    const converter = options.converter == null ? null : String(options.converter);
    const limits = { timeoutMs: options.timeoutMs ?? DEFAULT_LIMITS.timeoutMs, memoryBytes: options.memoryBytes ?? DEFAULT_LIMITS.memoryBytes };
    const runner = new ScriptRunner(limits, {
      size: Math.max(1, options.threads ?? 2),
      workerOptions: { converter, memoryBytes: limits.memoryBytes },
      conversionTimeoutMs: options.conversionTimeoutMs ?? 20_000,
      ...(options.onThreadReplaced ? { onThreadReplaced: options.onThreadReplaced } : {}),
    });
    try {
      await Promise.all(Array.from({ length: runner.options.size }, () => runner.spawn()));
    } catch (error) {
      await runner.close();
      throw error;
    }
    return runner;
  }

  /** The outgoing rule: fills `replica` from the local `issue`. */
  runOutgoing(script: string, input: OutgoingInput, host: ScriptHost): Promise<ScriptOutcome<Replica>> {
    const seed = { key: input.issue.key ?? '' };
    return this.run('outgoing', script, { ...input, replica: seed }, host) as Promise<ScriptOutcome<Replica>>;
  }

  /** The incoming rule: changes the local `issue` (a new one on the first sync) from the partner's `replica`. */
  runIncoming(script: string, input: IncomingInput, host: ScriptHost): Promise<ScriptOutcome<ScriptItem>> {
    return (this.run('incoming', script, input, host) as Promise<ScriptOutcome<ScriptItem>>).then((out) => {
      if (!out.ok || !out.value.customFields) return out;
      return { ...out, value: { ...out.value, customFields: changedCustomFields(out.value.customFields, input.issue.customFields) } };
    });
  }

  /** Whether a rule parses, without running it: the syntax error with its line, or null. */
  checkSyntax(script: string, direction: ScriptDirection): Promise<ScriptError | null> {
    return new Promise((resolve) => {
      this.submit({
        message: { kind: 'check', script, direction },
        budgetMs: 2_000,
        settle: (answer) => {
          if (answer.kind === 'check') resolve(answer.error);
          else resolve({ code: 'SCRIPT_ERROR', direction, message: `the rule could not be checked: ${describeLoss(answer)}`, line: null, column: null });
        },
      });
    });
  }

  /** Converts a text in a worker thread; fails with TextConversionError. */
  convert(text: RichText, to: TextFormat): Promise<RichText> {
    return new Promise((resolve, reject) => {
      this.submit({
        message: { kind: 'convert', text, to },
        budgetMs: this.options.conversionTimeoutMs,
        settle: (answer) => {
          if (answer.kind === 'convert') {
            this.converted += 1;
            resolve(answer.text);
          } else if (answer.kind === 'lost' && answer.reason === 'timeout')
            reject(new TextConversionError(`converting the text took longer than ${describeMs(this.options.conversionTimeoutMs)} and was stopped`));
          else reject(new TextConversionError(`the text could not be converted: ${describeLoss(answer)}`));
        },
      });
    });
  }

  /** Threads replaced since the start, for the curious (tests, a status page). */
  get threadRestarts(): number {
    return this.restarts;
  }

  /** Threads running a task now. */
  get busy(): number {
    return [...this.threads].filter((t) => t.state === 'busy').length;
  }

  /** Texts converted in the threads (`convert`) since the start. */
  get conversions(): number {
    return this.converted;
  }

  /** Ends the threads; tasks still waiting answer with an error. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.settle({ kind: 'lost', reason: 'closed', message: 'the rule runner was closed' });
    await Promise.all(
      [...this.threads].map((t) => {
        this.end(t, { kind: 'lost', reason: 'closed', message: 'the rule runner was closed' }, false);
        return t.worker.terminate().catch(() => undefined);
      }),
    );
  }

  private run(
    direction: ScriptDirection,
    script: string,
    input: { issue: ScriptItem; replica: unknown; previous: Replica | null; firstSync: boolean },
    host: ScriptHost,
  ): Promise<ScriptOutcome<unknown>> {
    const fail = (error: Omit<ScriptError, 'direction'>): ScriptOutcome<unknown> => ({ ok: false, error: { ...error, direction }, logs: [] });
    const fields = host.fields ?? [];
    // Custom fields by display name, made here as plain data (custom-fields.ts).
    const inputJson = JSON.stringify({ ...input, issue: { ...input.issue, customFields: customFieldsByName(input.issue.customFields, fields) } });
    const bytes = Buffer.byteLength(inputJson, 'utf8');
    if (bytes > MAX_RULE_INPUT_BYTES) {
      return Promise.resolve(
        fail({
          code: 'SCRIPT_INPUT_TOO_LARGE',
          message: `the item and its replicas are ${formatBytes(bytes)} as JSON, more than a rule reads (${formatBytes(MAX_RULE_INPUT_BYTES)})`,
          line: null,
          column: null,
        }),
      );
    }
    return new Promise((resolve) => {
      this.submit({
        message: {
          kind: 'run',
          task: {
            direction,
            script,
            inputJson,
            platform: host.platform,
            itemTypes: host.itemTypes,
            statuses: host.statuses ?? [],
            priorities: host.priorities ?? [],
            trackerUrl: host.trackerUrl ?? '',
            fields,
          },
          limits: this.limits,
        },
        budgetMs: this.limits.timeoutMs,
        ...(host.calls ? { calls: host.calls } : {}),
        settle: (answer) => {
          if (answer.kind === 'run') return resolve(answer.outcome);
          resolve(fail(runFailure(answer, this.limits)));
        },
      });
    });
  }

  private submit(job: Job): void {
    if (this.closed) return job.settle({ kind: 'lost', reason: 'closed', message: 'the rule runner was closed' });
    // A syntax check is an admin waiting on a page: it goes first.
    if (job.message.kind === 'check') this.queue.unshift(job);
    else this.queue.push(job);
    this.dispatch();
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (thread.state !== 'idle') continue;
      const index = this.nextJob();
      if (index < 0) break;
      const job = this.queue.splice(index, 1)[0]!;
      thread.state = 'busy';
      thread.job = job;
      thread.jobId = this.nextId++;
      thread.worker.ref();
      this.arm(thread);
      thread.worker.postMessage({ ...job.message, id: thread.jobId } as TaskMessage);
    }
    // No thread alive and none starting: the last start failed, so waiting would be for ever.
    if (this.queue.length && ![...this.threads].some((t) => t.state !== 'gone')) {
      for (const job of this.queue.splice(0)) job.settle({ kind: 'lost', reason: 'crash', message: `the rule sandbox cannot start (${this.lastStartError})` });
    }
  }

  /**
   * The first waiting task a free thread may take. Conversions (many seconds for a long text)
   * never take the last thread that could run a rule: a partner sending long texts slows its own
   * items, not everyone's rules.
   */
  private nextJob(): number {
    const converting = [...this.threads].filter((t) => t.state === 'busy' && t.job?.message.kind === 'convert').length;
    const mayConvert = this.options.size < 2 || converting < this.options.size - 1;
    return this.queue.findIndex((j) => j.message.kind !== 'convert' || mayConvert);
  }

  private arm(thread: Thread, budgetMs?: number): void {
    if (thread.timer) clearTimeout(thread.timer);
    const budget = budgetMs ?? thread.job!.budgetMs;
    thread.timer = setTimeout(() => {
      this.end(thread, { kind: 'lost', reason: 'timeout', message: `still running ${budget + GRACE_MS} ms after it started` }, true);
    }, budget + GRACE_MS);
  }

  /** Starts a thread; resolves once it is ready, rejects when it cannot start. */
  private spawn(): Promise<void> {
    const channel = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const worker = new Worker(workerUrl(), {
      workerData: { ...this.options.workerOptions, calls: { port: channel.port2, signal } } satisfies WorkerOptions,
      transferList: [channel.port2],
      resourceLimits: { stackSizeMb: THREAD_STACK_MB, maxOldGenerationSizeMb: THREAD_HEAP_MB, maxYoungGenerationSizeMb: 4 },
      // A rule's thread needs nothing of the node's environment (its secrets among it).
      env: {},
    });
    const thread: Thread = { worker, calls: { port: channel.port1, signal }, state: 'starting', job: null, jobId: 0, timer: null, ended: null };
    channel.port1.on('message', (request: CallRequest) => this.answerCall(thread, request));
    channel.port1.unref();
    this.threads.add(thread);
    let lastError: Error | null = null;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.kind === 'ready') {
          this.startFailures = 0;
          if (thread.state === 'starting') thread.state = 'idle';
          worker.unref();
          resolve();
          this.dispatch();
        } else if (message.kind === 'clock') {
          if (thread.state === 'busy' && message.id === thread.jobId) this.arm(thread, message.loading ? LOADING_MS : undefined);
        } else if (message.kind === 'done' && thread.state === 'busy' && message.answer.id === thread.jobId) {
          const job = thread.job!;
          clearTimeout(thread.timer!);
          thread.timer = null;
          thread.job = null;
          if (message.exiting !== null) this.end(thread, null, true, message.exiting);
          else {
            thread.state = 'idle';
            worker.unref();
          }
          job.settle(message.answer);
          this.dispatch();
        }
      });
      worker.on('error', (error) => {
        lastError = error;
      });
      worker.on('exit', () => {
        if (thread.state === 'starting') {
          this.startFailures += 1;
          this.lastStartError = lastError?.message ?? 'the thread exited while starting';
          this.threads.delete(thread);
          thread.state = 'gone';
          reject(new Error(`The rule sandbox cannot start: ${this.lastStartError}`));
          // Try again later, not in a tight loop; tasks waiting meanwhile are failed by dispatch.
          if (!this.closed && this.startFailures < 5)
            setTimeout(() => void (this.closed ? undefined : this.spawn().catch(() => undefined)), 200 * 2 ** this.startFailures).unref();
          this.dispatch();
          return;
        }
        const memory = (lastError as NodeJS.ErrnoException | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        this.end(thread, { kind: 'lost', reason: memory ? 'memory' : 'crash', message: lastError?.message ?? 'the thread exited' }, true);
      });
    });
  }

  /** A call of the rule the thread runs: answered by the run's own handler, and only while that run is the thread's. */
  private answerCall(thread: Thread, request: CallRequest): void {
    const { port, signal } = thread.calls;
    const calls = thread.state === 'busy' && thread.jobId === request.task ? thread.job?.calls : undefined;
    if (!calls) return reply(port, signal, request, { ok: false, message: 'this rule cannot call its node here' });
    calls(request.call, request.deadline).then(
      (value) => {
        try {
          reply(port, signal, request, { ok: true, value });
        } catch (error) {
          // Not data that can be posted: a fault of the handler, told as such.
          reply(port, signal, request, { ok: false, message: `the node's answer could not be passed on (${(error as Error).message})` });
        }
      },
      (error: unknown) => reply(port, signal, request, { ok: false, message: String((error as Error)?.message ?? error) }),
    );
  }

  /**
   * Takes a thread out of service (its job, if any, answers with `loss`) and, unless the runner is
   * closing, starts another in its place.
   */
  private end(thread: Thread, loss: Loss | null, replace: boolean, why?: string): void {
    if (thread.state === 'gone') return;
    thread.state = 'gone';
    this.threads.delete(thread);
    if (thread.timer) clearTimeout(thread.timer);
    const job = thread.job;
    thread.job = null;
    if (job && loss) job.settle(loss);
    thread.calls.port.close();
    void thread.worker.terminate().catch(() => undefined);
    if (replace && !this.closed) {
      this.restarts += 1;
      this.options.onThreadReplaced?.(loss ? `${loss.reason}: ${loss.message}` : (why ?? 'it ended'));
      void this.spawn().catch(() => undefined);
    }
    this.dispatch();
  }
}

/** The error a rule's task answers with when its thread could not finish it. */
function runFailure(answer: TaskAnswer | Loss, limits: ScriptLimits): Omit<ScriptError, 'direction'> {
  const at = { line: null, column: null };
  if (answer.kind === 'failed' && answer.failure.reason === 'stack-overflow') {
    return {
      code: 'SCRIPT_STACK_OVERFLOW',
      message: 'the rule called functions too deeply (a function that calls itself without end?) and was stopped',
      ...at,
    };
  }
  if (answer.kind === 'lost' && answer.reason === 'timeout') {
    return {
      code: 'SCRIPT_TIMEOUT',
      message: `the rule ran longer than its time limit (${limits.timeoutMs} ms, text conversions included) and was stopped`,
      ...at,
    };
  }
  if (answer.kind === 'lost' && answer.reason === 'closed') {
    return { code: 'SCRIPT_UNAVAILABLE', message: 'the rule did not run: the node is stopping; it runs when the node is back', ...at };
  }
  if (answer.kind === 'lost' && answer.reason === 'memory') {
    return { code: 'SCRIPT_MEMORY', message: 'the rule used more memory than its limit and was stopped', ...at };
  }
  return { code: 'SCRIPT_ERROR', message: `the rule's sandbox failed (${describeLoss(answer)}); it was replaced, so try again`, ...at };
}

const describeMs = (ms: number): string => (ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

function describeLoss(answer: TaskAnswer | Loss): string {
  if (answer.kind === 'lost') return answer.message;
  if (answer.kind === 'failed') return answer.failure.message;
  return 'unexpected answer';
}

/**
 * The compiled worker. Tests run this package from its TypeScript sources, which a worker thread
 * cannot load: there it is the build's copy (`npm test` builds first).
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../dist/rule-worker.js', here) : new URL('./rule-worker.js', here);
}
