/**
 * How a QuickJS error reads for the admin: a stable code (time, memory, stack, syntax or the
 * rule's own error), the message, and the line and column in the rule where it happened.
 */
import type { ScriptError } from './types.js';

export type DescribedError = Omit<ScriptError, 'direction'>;

/** A QuickJS error, dumped to plain data, as the admin should read it. */
export function describeQuickJsError(dumped: unknown, fileName: string): DescribedError {
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
  if (name === 'InternalError' && message === 'stack overflow') {
    return {
      code: 'SCRIPT_STACK_OVERFLOW',
      message: 'the rule called functions too deeply (a function that calls itself without end?) and was stopped',
      line,
      column,
    };
  }
  if (name === 'SyntaxError') return { code: 'SCRIPT_SYNTAX', message: `SyntaxError: ${message}`, line, column };
  // Raised by the rule to stop its item (\`throw new com.exalate.api.exception.IssueTrackerException(…)\`, \`debug.error(…)\`): its own words.
  if (name === 'IssueTrackerException') return { code: 'SCRIPT_ERROR', message, line, column, raisedByRule: true };
  return { code: 'SCRIPT_ERROR', message: `${name}: ${message}`, line, column };
}
