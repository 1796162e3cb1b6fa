/**
 * What a rule run takes and gives: its limits, its inputs per direction, its outcome and how a
 * failure is described to the admin. Shared by the runner (main thread) and its workers.
 */
import type { NodeType, Replica, RichText, TextFormat, TrackerField } from '@exalate/contract';
import type { HostCalls } from './host-calls.js';
import type { ScriptItem } from './object-model.js';

export type ScriptDirection = 'outgoing' | 'incoming';

export interface ScriptLimits {
  /**
   * How long one run may take by the clock, everything it calls included (text conversion by
   * `nodeHelper`). Runs happen in worker threads, so a run that overruns holds up no one else.
   */
  timeoutMs: number;
  /** Memory of one run: what the thread's WebAssembly module may grow by for it. */
  memoryBytes: number;
}

export const DEFAULT_LIMITS: ScriptLimits = { timeoutMs: 1_000, memoryBytes: 32 * 1024 * 1024 };

/** `SCRIPT_UNAVAILABLE`: the rule did not run (its runner was stopping); the only one worth trying again unchanged. */
export type ScriptErrorCode =
  | 'SCRIPT_ERROR'
  | 'SCRIPT_SYNTAX'
  | 'SCRIPT_TIMEOUT'
  | 'SCRIPT_MEMORY'
  | 'SCRIPT_STACK_OVERFLOW'
  | 'SCRIPT_INPUT_TOO_LARGE'
  | 'SCRIPT_RESULT_INVALID'
  | 'SCRIPT_UNAVAILABLE';

/** Why a rule did not give a result, with where in the rule, for the admin. */
export interface ScriptError {
  code: ScriptErrorCode;
  direction: ScriptDirection;
  message: string;
  /** 1-based line and column in the rule, when known. */
  line: number | null;
  column: number | null;
  /** The rule stopped its item itself, with `message` in its own words (an `IssueTrackerException`, `debug.error`). */
  raisedByRule?: true;
}

/**
 * `returned`: the rule ended by a top-level `return` (Exalate's way to skip an item).
 * `syncBack`: the incoming rule asked for the item to go back to the partner once it is written
 * (`syncHelper.syncBackAfterProcessing()`), changes the rule made included.
 */
export type ScriptOutcome<T> = { ok: true; value: T; logs: string[]; syncBack?: true; returned?: true } | { ok: false; error: ScriptError; logs: string[] };

/** What a rule may know of the node it runs for. */
export interface ScriptHost {
  platform: NodeType;
  /** Item types of the project the item lives in (or will be created in), for `nodeHelper.getIssueType`. */
  itemTypes: string[];
  /** The statuses of those item types' workflows, for `nodeHelper.getStatus`. */
  statuses?: string[];
  /** The tracker's priorities, for `nodeHelper.getPriority`. */
  priorities?: string[];
  /** The node's tracker, for `syncHelper.getTrackerUrl()`. */
  trackerUrl?: string;
  /** The fields the item's `customFields` hold, for custom fields by display name (custom-fields.ts). */
  fields?: TrackerField[];
  /**
   * How the node answers the rule's calls (twin lookups, `httpClient`), on the main thread; the
   * rule waits for each (host-calls.ts). Without it, those helpers fail with a clear error.
   */
  calls?: HostCalls;
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

/** Converts text between the trackers' formats; what the workers load from the runner's `converter` module. */
export type TextConverter = (text: RichText, to: TextFormat) => RichText;

/** "line 3: TypeError: …" — how an error reads in the queue and the item's status. */
export function formatScriptError(error: ScriptError): string {
  const where = error.line === null ? '' : ` at line ${error.line}${error.column === null ? '' : `, column ${error.column}`}`;
  if (error.raisedByRule) return `The ${error.direction} rule stopped this item${where}: ${error.message}`;
  return `The ${error.direction} rule failed${where}: ${error.message}`;
}
