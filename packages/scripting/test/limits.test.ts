/**
 * A rule that recurses, loops, eats memory or asks for heavy conversions fails only its own run,
 * with its own error; the runner, its other threads and the main thread go on.
 */
import { createRequire } from 'node:module';
import type { Replica } from '@exalate/contract';
import type { ScriptItem } from '@exalate/scripting';
import { MAX_RULE_INPUT_BYTES, ScriptRunner, type ScriptHost } from '@exalate/scripting';

const host: ScriptHost = { platform: 'JIRA_CLOUD', itemTypes: ['Bug'] };
const converter = createRequire(import.meta.url).resolve('@exalate/connectors/formats');
const runners: ScriptRunner[] = [];
const make = async (options: Parameters<typeof ScriptRunner.create>[0] = {}) => {
  const runner = await ScriptRunner.create({ converter, ...options });
  runners.push(runner);
  return runner;
};
afterAll(() => Promise.all(runners.map((r) => r.close())));

const incoming = (runner: ScriptRunner, script: string, issue: ScriptItem = {}) =>
  runner.runIncoming(script, { issue, replica: { key: 'R-1' }, previous: null, firstSync: false }, host);

/** Wiki markup of about `bytes`, slow to convert. */
const wiki = (bytes: number) => {
  let text = '';
  while (text.length < bytes) text += 'Some *bold* and _italic_ text, a [link|https://example.com] and {{code}}.\n* one\n* two\n\n';
  return text;
};

describe('recursion', () => {
  it('fails the run with SCRIPT_STACK_OVERFLOW and the rule’s line, however often, and the sandbox stays sound', async () => {
    const runner = await make({ threads: 1 });
    for (let i = 0; i < 25; i += 1) {
      expect(await incoming(runner, `issue.summary = 'x';\n(function f() { f(); })();`)).toMatchObject({
        ok: false,
        error: { code: 'SCRIPT_STACK_OVERFLOW', line: 2 },
      });
    }
    // Recursion by other roads than a plain call.
    const others = [
      `var o = {}; o.toString = function () { return String(o); }; issue.summary = String(o);`,
      `var o = { get x() { return o.x; } }; issue.summary = o.x;`,
      `var o = {}; o.toJSON = function () { return JSON.stringify(o); }; issue.summary = JSON.stringify(o);`,
      `function g(n) { return [n].map(function () { return g(n + 1); }); } g(0);`,
    ];
    for (const script of others) expect(await incoming(runner, script)).toMatchObject({ ok: false, error: { code: 'SCRIPT_STACK_OVERFLOW', line: 1 } });
    // QuickJS stopped each one itself: no thread had to be replaced, and the next run is fine.
    expect(runner.threadRestarts).toBe(0);
    expect(await incoming(runner, `issue.summary = 'fine';`)).toMatchObject({ ok: true, value: { summary: 'fine' } });
  });

  it("a rule's own errors inside a helper (its function given to mergeComments throws, its toString throws) replace no thread", async () => {
    const runner = await make({ threads: 1 });
    const replica = { key: 'X-1', comments: [{ id: '5', author: null, body: { format: 'html', value: '<p>hi</p>' } }] } as unknown as Replica;
    const run = (script: string) => runner.runIncoming(script, { issue: { key: 'SUP-1', comments: [] }, replica, previous: null, firstSync: false }, host);
    expect(await run(`issue.comments = commentHelper.mergeComments(issue, replica, function (c) { throw new Error('not this one'); });`)).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_ERROR', message: expect.stringContaining('not this one') },
    });
    expect(await run(`try { commentHelper.mergeComments(issue, replica, function () { throw 1; }); } catch (e) {}\nissue.summary = 'caught';`)).toMatchObject({
      ok: true,
      value: { summary: 'caught' },
    });
    expect(await run(`nodeHelper.getStatus({ toString: function () { throw new Error('no name'); } });`)).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('no name') },
    });
    expect(runner.threadRestarts).toBe(0);
  });

  it('a runtime QuickJS cannot free cleanly after the error is not used again: its thread is replaced', async () => {
    const runner = await make({ threads: 1 });
    // QuickJS's parser, stopped by the stack limit in deeply nested code, leaves objects behind
    // that freeing its runtime then finds: the module is not sound after that.
    const nested = `issue.summary = eval(new Array(20000).join('(') + '1' + new Array(20000).join(')'));`;
    expect(await incoming(runner, nested)).toMatchObject({ ok: false, error: { code: 'SCRIPT_STACK_OVERFLOW' } });
    expect(runner.threadRestarts).toBe(1);
    for (let i = 0; i < 3; i += 1)
      expect(await incoming(runner, `issue.summary = 'fine ' + ${i};`)).toMatchObject({ ok: true, value: { summary: `fine ${i}` } });
  });
});

describe('the time limit', () => {
  it('covers the helpers a rule calls: many slow conversions end with the run', async () => {
    const runner = await make({ threads: 1 });
    // 50 conversions of 200 KB take many seconds; the rule has one.
    const started = Date.now();
    const out = await runner.runOutgoing(
      `for (var i = 0; i < 50; i++) nodeHelper.toHtml(issue.description); replica.summary = 'all done';`,
      { issue: { key: 'A-1', description: { format: 'jira-wiki', value: wiki(200_000) } }, previous: null, firstSync: false },
      host,
    );
    expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_TIMEOUT' } });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await incoming(runner, `issue.summary = nodeHelper.toHtml('*ok*');`)).toMatchObject({ ok: true, value: { summary: '<p><strong>ok</strong></p>' } });
  });

  it('a conversion that never returns ends the run at its limit, and its thread is replaced', async () => {
    const runner = await make({ threads: 1, converter: new URL('./fixtures/hanging-converter.mjs', import.meta.url).href });
    const out = await incoming(runner, `issue.summary = nodeHelper.toHtml('*x*');`);
    expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_TIMEOUT', message: expect.stringContaining('text conversions included') } });
    expect(runner.threadRestarts).toBe(1);
    expect(await incoming(runner, `issue.summary = 'next';`)).toMatchObject({ ok: true, value: { summary: 'next' } });
  });

  it('refuses to convert a text larger than a replica’s text field may be', async () => {
    const runner = await make({ threads: 1 });
    const out = await runner.runOutgoing(
      `replica.summary = nodeHelper.toHtml(issue.description);`,
      { issue: { key: 'A-1', description: { format: 'jira-wiki', value: wiki(400_000) } }, previous: null, firstSync: false },
      host,
    );
    expect(out).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_ERROR', line: 1, message: expect.stringContaining('nodeHelper converts texts of at most 256 KB') },
    });
  });
});

describe('the time limit and the converter', () => {
  it('does not count the converter’s loading against a rule', async () => {
    const runner = await make({ threads: 1, converter: new URL('./fixtures/slow-loading-converter.mjs', import.meta.url).href });
    expect(await incoming(runner, `issue.summary = nodeHelper.toHtml('*x*');`)).toMatchObject({ ok: true, value: { summary: 'converted: *x*' } });
    expect(runner.threadRestarts).toBe(0);
  });
});

describe('the memory limit', () => {
  it('is reported as memory, also when the run is stopped by the clock while it holds its memory', async () => {
    const runner = await make({ threads: 1, timeoutMs: 300, memoryBytes: 8 * 1024 * 1024 });
    expect(await incoming(runner, `var a = []; while (true) a.push({ n: a.length });`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_MEMORY' } });
    // It fills its memory, catches the failure and then spins: the clock stops it, full as it is
    // (as a collector struggling near the limit would have it stopped).
    expect(
      await incoming(runner, `var keep = []; try { while (true) keep[keep.length] = 'x'.repeat(64 * 1024) + keep.length; } catch (e) {}\nwhile (true) {}`),
    ).toMatchObject({ ok: false, error: { code: 'SCRIPT_MEMORY' } });
    // A plain endless loop is still a time-out.
    expect(await incoming(runner, `while (true) {}`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_TIMEOUT' } });
  });

  it('refuses an input larger than a rule reads, before running it', async () => {
    const runner = await make({ threads: 1 });
    const out = await runner.runOutgoing(
      `replica.summary = 'x';`,
      { issue: { key: 'A-1', description: { format: 'plain', value: 'x'.repeat(MAX_RULE_INPUT_BYTES) } }, previous: null, firstSync: false },
      host,
    );
    expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_INPUT_TOO_LARGE', message: expect.stringContaining('more than a rule reads') } });
  });
});

describe('a runaway rule', () => {
  it('holds up neither the main thread nor the rules behind it', async () => {
    const runner = await make({ threads: 2 });
    let loopDone = false;
    const loop = incoming(runner, `while (true) {}`).then((out) => ((loopDone = true), out));
    // While it loops: a timer on this thread fires, and another rule runs to its end.
    await new Promise((r) => setTimeout(r, 50));
    expect(loopDone).toBe(false);
    expect(await incoming(runner, `issue.summary = 'meanwhile';`)).toMatchObject({ ok: true, value: { summary: 'meanwhile' } });
    expect(loopDone).toBe(false);
    expect(await loop).toMatchObject({ ok: false, error: { code: 'SCRIPT_TIMEOUT' } });
  });

  it('a thread that dies in the middle of a run is replaced, and only that run fails', async () => {
    const crashing = new URL('./fixtures/crashing-converter.mjs', import.meta.url).href;
    const runner = await make({ threads: 1, converter: crashing });
    expect(await incoming(runner, `issue.summary = nodeHelper.toHtml('*x*');`)).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_ERROR', message: expect.stringContaining('was replaced') },
    });
    expect(runner.threadRestarts).toBe(1);
    expect(await incoming(runner, `issue.summary = 'after';`)).toMatchObject({ ok: true, value: { summary: 'after' } });
  });
});

describe('the queue of tasks', () => {
  it('takes a syntax check before the rules waiting ahead of it', async () => {
    const runner = await make({ threads: 1, timeoutMs: 300 });
    const order: string[] = [];
    const first = incoming(runner, `while (true) {}`).then(() => order.push('first loop'));
    const second = incoming(runner, `while (true) {}`).then(() => order.push('second loop'));
    const check = runner.checkSyntax(`replica.summary = ;`, 'outgoing').then(() => order.push('check'));
    await Promise.all([first, second, check]);
    expect(order).toEqual(['first loop', 'check', 'second loop']);
  });

  it('leaves a thread for rules while long conversions run', async () => {
    const runner = await make({ threads: 2, conversionTimeoutMs: 1_500, converter: new URL('./fixtures/hanging-converter.mjs', import.meta.url).href });
    const order: string[] = [];
    const conversions = [1, 2].map((n) => runner.convert({ format: 'plain', value: String(n) }, 'html').catch(() => order.push(`conversion ${n} stopped`)));
    await new Promise((r) => setTimeout(r, 100));
    expect(await incoming(runner, `issue.summary = 'a rule';`)).toMatchObject({ ok: true });
    order.push('rule');
    await Promise.all(conversions);
    expect(order[0]).toBe('rule');
  });
});

describe('text conversion for the engine', () => {
  it('converts in a thread', async () => {
    const runner = await make({ threads: 1 });
    expect(await runner.convert({ format: 'jira-wiki', value: '*bold*' }, 'html')).toEqual({ format: 'html', value: '<p><strong>bold</strong></p>' });
    expect(await runner.convert({ format: 'html', value: '<p>x</p>' }, 'plain')).toEqual({ format: 'plain', value: 'x' });
    expect(runner.conversions).toBe(2);
  });

  it('stops a conversion at its own time limit and replaces the thread', async () => {
    const runner = await make({ threads: 1, conversionTimeoutMs: 300, converter: new URL('./fixtures/hanging-converter.mjs', import.meta.url).href });
    await expect(runner.convert({ format: 'jira-wiki', value: '*bold*' }, 'html')).rejects.toThrow(
      'converting the text took longer than 300 ms and was stopped',
    );
    expect(runner.threadRestarts).toBe(1);
    expect(await incoming(runner, `issue.summary = 'still here';`)).toMatchObject({ ok: true, value: { summary: 'still here' } });
  });
});
