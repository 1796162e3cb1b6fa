/**
 * A rule as the sandbox compiles it: a function of its run's input (the context's own JSON.parse
 * made it from the host's JSON before the rule ran) and of the helpers (host functions, see
 * host-helpers.ts, and the few written in JavaScript: `RULE_PRELUDE`), with the names a rule uses
 * bound to them. It returns what the rule built: the replica, and the local item by whichever
 * alias the rule rebound.
 *
 * A top-level `return` ends the rule, as in an Exalate script (which uses it to skip an item):
 * what the rule had built by then is its result (and `returned` says it ended so: on a first sync
 * that skips the item, see the engine's incoming stage). The rule's text sits in a labelled block inside
 * a `try`, and its `finally` makes the result, for a `return` as for the rule's end (not for an
 * error, which goes on up). The block ends with `break` to its label, which is this thread's own
 * random name: a rule that closed more than it opened (to end the function it runs in) would leave
 * that `break` outside its label, which is a syntax error. That check is the compile itself, so a
 * rule is parsed once per run.
 *
 * Each run has a context (and a runtime) of its own, made for it and thrown away after it, so
 * nothing a rule does (to the built-ins, the global object, its own function, the symbol registry)
 * can reach another run: there is nothing to clean and nothing to freeze. The host reads the result
 * by QuickJS's own JSON writer, not by the context's JSON.stringify, which a rule may replace.
 *
 * The rule starts on the header's line, so its line numbers are its own (columns on its first line
 * are shifted by `RULE_HEADER.length`, see `ruleLocation`).
 */
import { randomBytes } from 'node:crypto';

/** The rule's block's label: random per thread, always as long. */
const BODY = `__rule_${randomBytes(6).toString('hex')}`;

export const RULE_HEADER =
  '(function (__input, __helpers) { var replica = __input.replica, issue = __input.issue, previous = __input.previous, ' +
  'firstSync = __input.firstSync, workItem = issue, entity = issue, debug = __helpers.debug, commentHelper = __helpers.commentHelper, ' +
  'attachmentHelper = __helpers.attachmentHelper, nodeHelper = __helpers.nodeHelper, syncHelper = __helpers.syncHelper, httpClient = __helpers.httpClient, com = __helpers.com, ' +
  'entityType = __input.entityType, incident = __input.incident, problem = __input.problem, change_request = __input.change_request, sc_task = __input.sc_task, __failed = false, __ended = false; ' +
  `try { ${BODY}: { `;
export const RULE_FOOTER =
  `\n;__ended = true; break ${BODY}; } } catch (__error) { __failed = true; throw __error; } finally { ` +
  'if (!__failed) return { replica: replica, issue: issue !== __input.issue ? issue : workItem !== __input.issue ? workItem : entity, returned: !__ended }; ' +
  '} })';

/** The rule's text as the sandbox compiles it. */
export const ruleSource = (script: string): string => `${RULE_HEADER}${script}${RULE_FOOTER}`;

/**
 * What the rule can use that is written in JavaScript rather than given by the host: Exalate's
 * exception for a rule that stops the sync of its item with a message of its own, and what
 * `debug.error` raises. Evaluated in the rule's context (as `exalate.js`, so an error's first frame
 * in the rule is the rule's line) only when the rule first reaches for either (host-helpers.ts):
 * most rules never do, and a run is the cheaper for it.
 */
export const RULE_PRELUDE = `(function () {
  class IssueTrackerException extends Error {
    constructor(message) { super(message === undefined ? '' : String(message)); this.name = 'IssueTrackerException'; }
  }
  return {
    exalate: { api: { exception: { IssueTrackerException: IssueTrackerException } } },
    raise: function error(message) { throw new IssueTrackerException(message); },
  };
})()`;

/**
 * Where in the rule a position of the compiled text is: columns on the first line lose the
 * header, and a syntax error past the rule's end (the compiled footer's line: the rule left a
 * block open, or closed one it did not open) is put on the rule's last line.
 */
export function ruleLocation(script: string, line: number | null, column: number | null): { line: number | null; column: number | null } {
  if (line === null) return { line, column };
  const lines = script.split('\n').length;
  if (line > lines) return { line: lines, column: null };
  return { line, column: line === 1 && column !== null ? Math.max(1, column - RULE_HEADER.length) : column };
}
