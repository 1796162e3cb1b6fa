/**
 * A worker thread of the rule runner: runs one task at a time (a rule, a syntax check, a text
 * conversion) in its own QuickJS module and answers it.
 *
 * States: starting (loading QuickJS) → ready ⇄ busy → exited. It exits after answering a task on
 * which the module itself failed (an abort, a trap, its own stack exhausted): that module is not
 * used again, and the runner starts another thread in its place.
 *
 * The text converter (Atlassian's wiki markup transformer and friends: some 30 MB) is loaded on a
 * thread's first need of it only: a conversion task, or a rule that calls `nodeHelper`'s
 * conversions (by its text, or, when a rule reaches them some other way, by running it again).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from 'quickjs-emscripten';
import { blockingCaller, type HostCall } from './host-calls.js';
import { ConverterNeeded, createSandbox, type Ran, type RunTask } from './sandbox.js';
import type { ScriptLimits, ScriptOutcome, TextConverter } from './types.js';
import type { TaskAnswer, TaskMessage, ThreadFailure, WorkerMessage, WorkerOptions } from './worker-protocol.js';

const port = parentPort!;
const options = workerData as WorkerOptions;
const post = (message: WorkerMessage) => port.postMessage(message);
const callNode = options.calls ? blockingCaller(options.calls) : null;

let converter: TextConverter | null = null;
async function loadConverter(): Promise<TextConverter> {
  if (converter) return converter;
  if (options.converter === null) {
    converter = () => {
      throw new Error('this node has no text converter');
    };
    return converter;
  }
  const module = (await import(options.converter)) as { convertText?: TextConverter };
  if (typeof module.convertText !== 'function') throw new Error(`${options.converter} exports no convertText`);
  converter = module.convertText;
  return converter;
}

const USES_CONVERSION = /\b(stripHtml|toHtml|toWiki)\b/;

/**
 * The module's memory, and with it the true bound on a run's: the module starts with 16 MB (its
 * least) and may grow by the runner's memory limit, no further. QuickJS's own limit cannot be that
 * bound in this build: without malloc_usable_size it counts each allocation as 8 bytes whatever its
 * size, so a run of large strings passes it by hundreds of megabytes. At the bound the module's
 * allocations fail and QuickJS throws "out of memory", as for its own limit.
 */
// Node's global; the ES library types this project compiles with do not declare it.
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };
const PAGE = 64 * 1024;
const BASE_PAGES = 256;
const MAX_BYTES = (BASE_PAGES + Math.ceil(options.memoryBytes / PAGE)) * PAGE;
const memory = new WebAssembly.Memory({ initial: BASE_PAGES, maximum: MAX_BYTES / PAGE });
/** Within a megabyte of its bound: a run that grew it there was out of memory. */
const memoryFull = () => memory.buffer.byteLength + 16 * PAGE >= MAX_BYTES;
/** The module never gives memory back: a thread that a run grew this far retires after that run. */
const RETIRE_BYTES = BASE_PAGES * PAGE + options.memoryBytes / 4;
const sandbox = createSandbox(await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: memory })), memoryFull);

/** The answer, and why the module is not to be used again (null while it is sound and small). */
type Answered = { answer: TaskAnswer; unsound: string | null };

/** Loads the converter for task `id`, with the task's time limit set aside meanwhile. */
async function loadFor(id: number): Promise<void> {
  post({ kind: 'clock', id, loading: true });
  try {
    await loadConverter();
  } finally {
    post({ kind: 'clock', id, loading: false });
  }
}

async function run(id: number, task: RunTask, limits: ScriptLimits): Promise<Answered> {
  if (!converter && USES_CONVERSION.test(task.script)) await loadFor(id);
  let ran: Ran<ScriptOutcome<unknown>>;
  const call = callNode && ((c: HostCall, deadline: number) => callNode(id, c, deadline));
  try {
    ran = sandbox.run(task, limits, converter, call);
  } catch (error) {
    if (!(error instanceof ConverterNeeded)) throw error;
    await loadFor(id);
    ran = sandbox.run(task, limits, converter, call);
  }
  // A run that grew the module a lot leaves it that large: the thread hands over to a fresh one.
  const retire = memory.buffer.byteLength > RETIRE_BYTES ? `a run grew its memory to ${Math.round(memory.buffer.byteLength / 2 ** 20)} MB` : null;
  return { answer: { id, kind: 'run', outcome: ran.value }, unsound: ran.unsound ?? retire };
}

async function answer(message: TaskMessage): Promise<Answered> {
  const sound = (answer: TaskAnswer): Answered => ({ answer, unsound: null });
  switch (message.kind) {
    case 'run':
      return run(message.id, message.task, message.limits);
    case 'check': {
      const ran = sandbox.checkSyntax(message.script, message.direction);
      return { answer: { id: message.id, kind: 'check', error: ran.value }, unsound: ran.unsound };
    }
    case 'convert': {
      let convert: TextConverter;
      try {
        // Loading the converter is no part of the conversion's time.
        if (!converter) await loadFor(message.id);
        convert = await loadConverter();
      } catch (error) {
        return sound(failed(message.id, { reason: 'converter-unavailable', message: (error as Error).message }));
      }
      try {
        return sound({ id: message.id, kind: 'convert', text: convert(message.text, message.to) });
      } catch (error) {
        return sound(failed(message.id, { reason: 'conversion-failed', message: (error as Error).message }));
      }
    }
  }
}

const failed = (id: number, failure: ThreadFailure): TaskAnswer => ({ id, kind: 'failed', failure });

// One task at a time: the runner sends the next only after this one's answer. A module that
// failed (SandboxUnsound, or something unforeseen) is in an unknown state: the thread answers,
// says it is exiting, and exits; the runner starts another.
port.on('message', (message: TaskMessage) => {
  void answer(message).then(
    ({ answer: result, unsound }) => {
      post({ kind: 'done', answer: result, exiting: unsound });
      if (unsound !== null) process.exit(1);
    },
    (error: unknown) => {
      const text = String((error as Error)?.message ?? error);
      const overflow = /Maximum call stack size exceeded/.test(text);
      post({ kind: 'done', answer: failed(message.id, { reason: overflow ? 'stack-overflow' : 'unsound', message: text }), exiting: text });
      process.exit(1);
    },
  );
});
post({ kind: 'ready' });
