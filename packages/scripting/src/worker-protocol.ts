/**
 * The messages between the rule runner (main thread) and its worker threads.
 *
 * A thread says `ready` once QuickJS is loaded, then takes one task at a time and answers it with
 * `done` (its task's id). `clock` with `loading: true` says the thread is loading the text converter
 * (no part of the task's time: the runner gives it a loading budget instead); `loading: false`
 * starts the task's time limit again.
 */
import type { RichText, TextFormat } from '@exalate/contract';
import type { CallChannel } from './host-calls.js';
import type { RunTask } from './sandbox.js';
import type { ScriptDirection, ScriptError, ScriptLimits, ScriptOutcome } from './types.js';

export interface WorkerOptions {
  /** Module (a file URL or a path) exporting `convertText`; null when the runner has none. */
  converter: string | null;
  /** A run's memory limit (the thread's module may grow by this much). */
  memoryBytes: number;
  /** The thread's end of its call channel (host-calls.ts); absent in the options the runner keeps. */
  calls?: CallChannel;
}

export type TaskMessage =
  | { id: number; kind: 'run'; task: RunTask; limits: ScriptLimits }
  | { id: number; kind: 'check'; script: string; direction: ScriptDirection }
  | { id: number; kind: 'convert'; text: RichText; to: TextFormat };

/** Why a task has no answer of its own: the thread could not finish it (and will be replaced). */
export interface ThreadFailure {
  reason: 'stack-overflow' | 'unsound' | 'converter-unavailable' | 'conversion-failed';
  message: string;
}

export type TaskAnswer =
  | { id: number; kind: 'run'; outcome: ScriptOutcome<unknown> }
  | { id: number; kind: 'check'; error: ScriptError | null }
  | { id: number; kind: 'convert'; text: RichText }
  | { id: number; kind: 'failed'; failure: ThreadFailure };

/**
 * `exiting`: why the thread takes no more tasks and exits after this answer (its module failed,
 * or grew too large), or null.
 */
export type WorkerMessage = { kind: 'ready' } | { kind: 'clock'; id: number; loading: boolean } | { kind: 'done'; answer: TaskAnswer; exiting: string | null };
