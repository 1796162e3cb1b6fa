/**
 * Nothing a rule run does reaches another run: a rule writes a marker (and the item's data) into
 * everything it can reach, and the same rule, run for another connection, searches everything it
 * can reach for it. The writing run searches too, so the search is shown to find what is there.
 */
import type { Replica } from '@exalate/contract';
import { ScriptRunner, formatScriptError, type ScriptHost } from '@exalate/scripting';

const host: ScriptHost = { platform: 'JIRA_CLOUD', itemTypes: ['Bug'] };

/** Writes when the item is A's (Q's: quietly), searches always; what it finds goes out in `replica.found`. */
const RULE = String.raw`
// Made, not written: the rule's own source must not hold the marker it searches for.
var MARK = ['exalate', 'marker', '7f3a'].join('-');
// The rule's own arguments: its function is what a rule reaches as arguments.callee.
var ruleArguments = arguments;
// Appends without Array.prototype.push, which the writing run replaces.
function add(list) { for (var i = 1; i < arguments.length; i++) list[list.length] = arguments[i]; }
var model = [issue, replica, previous, debug, commentHelper, attachmentHelper, nodeHelper];
function roots() {
  var r = [globalThis, Object.getPrototypeOf(globalThis), ruleArguments, ruleArguments.callee, roots, Function.prototype, Object.prototype];
  try { add(r, Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}), Symbol.for(MARK)); } catch (e) {}
  return r.concat(model);
}
function each(visit) {
  var seen = new Set(), queue = roots(), n = 0, next = 0;
  while (next < queue.length && n < 50000) {
    var o = queue[next++];
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o); n++;
    visit(o);
    add(queue, Object.getPrototypeOf(o));
    var keys = [];
    try { keys = Reflect.ownKeys(o); } catch (e) {}
    for (var i = 0; i < keys.length; i++) {
      var d;
      try { d = Object.getOwnPropertyDescriptor(o, keys[i]); } catch (e) { continue; }
      if (!d) continue;
      if ('value' in d) add(queue, d.value); else { add(queue, d.get); add(queue, d.set); }
    }
  }
  return n;
}
function write(quietly) {
  var secret = issue.summary;
  // Quietly: plain assignments only, nothing on the global object (a sandbox that only checks for
  // what a run left there finds nothing to object to).
  if (quietly) {
    each(function (o) { if (o !== globalThis) try { o.exalateMarker = MARK + secret; } catch (e) {} });
    try { ruleArguments.callee.kept = secret; } catch (e) {}
    return;
  }
  each(function (o) {
    try { o.exalateMarker = MARK + secret; } catch (e) {}
    try { Object.defineProperty(o, Symbol.for(MARK), { value: secret, configurable: false }); } catch (e) {}
    try { Object.defineProperty(o, 'exalateGetter', { get: function () { return MARK + secret; } }); } catch (e) {}
  });
  globalThis[MARK] = secret;
  try { ruleArguments.callee.kept = secret; } catch (e) {}
  try { var stringify = JSON.stringify; JSON.stringify = function (v) { return MARK + stringify(v); }; } catch (e) {}
  try { Array.prototype.push = function () { return MARK; }; } catch (e) {}
  try { String.prototype.trim = function () { return MARK; }; } catch (e) {}
  try { Object.prototype.toString = function () { return MARK; }; } catch (e) {}
  try { Math.random = function () { return 7.3; }; } catch (e) {}
  try { Error.prototype.message = MARK; } catch (e) {}
  try { Symbol.prototype.description = MARK; } catch (e) {}
  try { new WeakRef(ruleArguments.callee); } catch (e) {}
}
function search() {
  var found = [];
  var has = function (v) { return typeof v === 'string' && v.indexOf(MARK) >= 0; };
  each(function (o) {
    var keys = [];
    try { keys = Reflect.ownKeys(o); } catch (e) {}
    for (var i = 0; i < keys.length; i++) {
      var k = keys[i];
      if (typeof k === 'symbol' ? has(k.description) || has(Symbol.keyFor(k)) : has(k)) add(found, 'key ' + String(k.description || k));
      var d = Object.getOwnPropertyDescriptor(o, k);
      if (d && 'value' in d && has(d.value)) add(found, 'value of ' + String(k.description || k));
      if (d && d.get && has(String(d.get))) add(found, 'getter ' + String(k.description || k));
    }
    if (typeof o === 'function') { try { if (has(Function.prototype.toString.call(o))) add(found, 'function source'); } catch (e) {} }
  });
  if (has(JSON.stringify({ a: 1 }))) add(found, 'JSON.stringify');
  if (' a '.trim() !== 'a') add(found, 'String.prototype.trim');
  if (Math.random() === 7.3) add(found, 'Math.random');
  if (Object.prototype.toString.call([]) !== '[object Array]') add(found, 'Object.prototype.toString');
  if ([1].push(2) !== 2) add(found, 'Array.prototype.push');
  if (ruleArguments.callee.kept !== undefined) add(found, 'arguments.callee');
  return found;
}
var objects = each(function () {});
if (issue.key === 'A-1') write(false);
if (issue.key === 'Q-1') write(true);
replica.key = issue.key;
replica.found = search();
replica.objects = objects;
`;

let runner: ScriptRunner;
afterEach(() => runner.close());

describe.each([1, 2])('with %i rule thread(s)', (threads) => {
  it('a run on connection B finds nothing that connection A’s run wrote, by any path', async () => {
    // Room for the writing run's markers on every object (the limits are not what this is about).
    runner = await ScriptRunner.create({ threads, timeoutMs: 10_000, memoryBytes: 256 * 1024 * 1024 });
    const run = async (key: string, summary: string): Promise<Replica> => {
      const out = await runner.runOutgoing(RULE, { issue: { key, summary }, previous: null, firstSync: true }, host);
      if (!out.ok) throw new Error(formatScriptError(out.error));
      return out.value;
    };
    const quiet = await run('Q-1', 'company A’s secret');
    expect(quiet['found']).toEqual(expect.arrayContaining(['arguments.callee', 'value of exalateMarker']));
    const a = await run('A-1', 'company A’s secret');
    // The search finds what is there: A's own run sees its markers everywhere it put them.
    expect((a['found'] as string[]).length).toBeGreaterThan(50);
    expect(a['found']).toEqual(
      expect.arrayContaining([
        'arguments.callee',
        'JSON.stringify',
        'Array.prototype.push',
        'String.prototype.trim',
        'Math.random',
        'value of exalateMarker',
        'key exalate-marker-7f3a',
      ]),
    );
    for (let i = 0; i < threads * 3; i += 1) {
      const b = await run(`B-${i}`, 'company B’s item');
      expect(b['found']).toEqual([]);
      // And it searched as much as A's run did before writing.
      expect(b['objects']).toBe(a['objects']);
    }
  });

  it('an incoming run after an outgoing one on the same rule text sees nothing of it either', async () => {
    // Room for the writing run's markers on every object (the limits are not what this is about).
    runner = await ScriptRunner.create({ threads, timeoutMs: 10_000, memoryBytes: 256 * 1024 * 1024 });
    const incoming = RULE.replace('replica.key = issue.key;\nreplica.found = search();\nreplica.objects = objects;', 'issue.labels = search();');
    expect(
      await runner.runIncoming(incoming, { issue: { key: 'A-1', summary: 'secret' }, replica: { key: 'X-1' }, previous: null, firstSync: false }, host),
    ).toMatchObject({ ok: true });
    expect(
      await runner.runIncoming(incoming, { issue: { key: 'B-1', summary: 'other' }, replica: { key: 'X-2' }, previous: null, firstSync: false }, host),
    ).toMatchObject({ ok: true, value: { labels: [] } });
  });
});
