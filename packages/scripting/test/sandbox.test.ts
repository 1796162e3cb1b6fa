import { createRequire } from 'node:module';
import type { NodeType, Replica } from '@exalate/contract';
import { ScriptRunner, defaultRules, formatScriptError, type ScriptHost, type ScriptItem } from '@exalate/scripting';

const host = (platform: NodeType, itemTypes: string[] = ['Bug', 'Task', 'User Story']): ScriptHost => ({ platform, itemTypes });
/** The connectors' text converter, as the backend gives it to its runner. */
const converter = createRequire(import.meta.url).resolve('@exalate/connectors/formats');

const jiraIssue: ScriptItem = {
  key: 'SUP-1',
  id: '10001',
  url: 'http://jira/browse/SUP-1',
  project: 'SUP',
  type: 'Story',
  summary: 'Printer on fire',
  description: { format: 'jira-wiki', value: 'It is *really* on fire' },
  status: 'To Do',
  priority: 'High',
  labels: ['hardware'],
  assignee: null,
  reporter: { displayName: 'Alice', email: 'alice@acme.test' },
  comments: [
    { id: 'c1', body: { format: 'jira-wiki', value: 'first' }, created: '2026-11-01T10:00:00Z' },
    { id: 'c2', remoteId: '77', body: { format: 'jira-wiki', value: 'mirrored from the partner' } },
  ],
  attachments: [{ id: 'a1', filename: 'log.txt', mimeType: 'text/plain', size: 3, sha256: null }],
  customFields: {},
};

let runner: ScriptRunner;
beforeAll(async () => {
  runner = await ScriptRunner.create({ timeoutMs: 300, memoryBytes: 8 * 1024 * 1024, converter });
});
afterAll(() => runner.close());

describe('outgoing rules', () => {
  it('the default rule copies the synced fields into the replica', async () => {
    const out = await runner.runOutgoing(defaultRules('JIRA_CLOUD').outgoing, { issue: jiraIssue, previous: null, firstSync: true }, host('JIRA_CLOUD'));
    if (!out.ok) throw new Error(formatScriptError(out.error));
    expect(out.value).toMatchObject({
      key: 'SUP-1',
      type: 'Story',
      summary: 'Printer on fire',
      description: { format: 'jira-wiki', value: 'It is *really* on fire' },
      labels: ['hardware'],
      reporter: { displayName: 'Alice', email: 'alice@acme.test' },
    });
    expect(out.value.comments?.map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('keeps free properties a rule adds, and lets the rule log', async () => {
    const script = `replica.key = issue.key; replica.severity = issue.priority === 'High' ? 2 : 4; debug.log('sent', replica.severity, {a: 1});`;
    const out = await runner.runOutgoing(script, { issue: jiraIssue, previous: null, firstSync: false }, host('JIRA_CLOUD'));
    expect(out).toMatchObject({ ok: true, value: { key: 'SUP-1', severity: 2 }, logs: ['sent 2 {"a":1}'] });
  });

  it('uses the Azure DevOps alias workItem and the ServiceNow alias entity', async () => {
    const ado = await runner.runOutgoing(
      `replica.key = workItem.key; replica.summary = workItem.summary.toUpperCase();`,
      { issue: jiraIssue, previous: null, firstSync: false },
      host('AZURE_DEVOPS'),
    );
    expect(ado).toMatchObject({ ok: true, value: { summary: 'PRINTER ON FIRE' } });
    const snow = await runner.runOutgoing(defaultRules('SERVICENOW').outgoing, { issue: jiraIssue, previous: null, firstSync: false }, host('SERVICENOW'));
    expect(snow).toMatchObject({ ok: true, value: { summary: 'Printer on fire' } });
  });

  it('tells a replica without a key apart from a good one', async () => {
    const out = await runner.runOutgoing(`replica.key = 42;`, { issue: jiraIssue, previous: null, firstSync: false }, host('JIRA_CLOUD'));
    expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_RESULT_INVALID', direction: 'outgoing' } });
    if (!out.ok) expect(out.error.message).toMatch(/^replica\.key: /);
  });
});

describe('incoming rules', () => {
  const replica: Replica = {
    key: '42',
    type: 'User Story',
    summary: 'Printer on fire',
    description: { format: 'html', value: '<p>It is <strong>really</strong> on fire</p>' },
    labels: ['hardware', 'urgent'],
    comments: [
      { id: '77', body: { format: 'html', value: '<p>edited on the partner</p>' } },
      { id: '78', body: { format: 'html', value: '<p>new on the partner</p>' }, author: { displayName: 'Bob', email: 'bob@acme.test' } },
    ],
    attachments: [{ id: 'x9', filename: 'trace.log', mimeType: 'text/plain', size: 10, sha256: null }],
  };

  it('on first sync creates in the chosen project with the nearest item type', async () => {
    const out = await runner.runIncoming(
      defaultRules('JIRA_CLOUD').incoming,
      { issue: { project: 'SUP' }, replica, previous: null, firstSync: true },
      host('JIRA_CLOUD', ['Bug', 'Story', 'Task', 'Epic']),
    );
    if (!out.ok) throw new Error(formatScriptError(out.error));
    expect(out.value).toMatchObject({ project: 'SUP', type: 'Story', summary: 'Printer on fire', labels: ['hardware', 'urgent'] });
    expect(out.value.description).toEqual(replica.description);
    expect(out.value.comments).toHaveLength(2);
    expect(out.value.attachments).toEqual([{ remoteId: 'x9', filename: 'trace.log', mimeType: 'text/plain', size: 10, sha256: null }]);
  });

  it('falls back to Task, and says so when the project has no type it can use', async () => {
    const task = await runner.runIncoming(
      defaultRules('AZURE_DEVOPS').incoming,
      { issue: { project: 'Ops' }, replica: { ...replica, type: 'Widget' }, previous: null, firstSync: true },
      host('AZURE_DEVOPS', ['Task', 'Epic']),
    );
    expect(task).toMatchObject({ ok: true, value: { type: 'Task' } });
    const none = await runner.runIncoming(
      defaultRules('AZURE_DEVOPS').incoming,
      { issue: { project: 'Ops' }, replica: { ...replica, type: 'Widget' }, previous: null, firstSync: true },
      host('AZURE_DEVOPS', ['Epic']),
    );
    expect(none).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', direction: 'incoming', line: 7 } });
    if (!none.ok) expect(none.error.message).toContain('has none of the item types Widget, Task or Issue');
  });

  it('merges comments: edits the mirrored one, appends the new one, keeps local ones', async () => {
    const out = await runner.runIncoming(
      defaultRules('JIRA_CLOUD').incoming,
      { issue: jiraIssue, replica, previous: null, firstSync: false },
      host('JIRA_CLOUD'),
    );
    if (!out.ok) throw new Error(formatScriptError(out.error));
    expect(out.value.comments).toEqual([
      jiraIssue.comments![0],
      { id: 'c2', remoteId: '77', body: { format: 'html', value: '<p>edited on the partner</p>' } },
      { remoteId: '78', author: { displayName: 'Bob', email: 'bob@acme.test' }, body: { format: 'html', value: '<p>new on the partner</p>' } },
    ]);
  });

  it('merges attachments: appends the partner’s new ones once, keeps local ones', async () => {
    const issue: ScriptItem = {
      attachments: [
        { id: 'a1', filename: 'local.txt' },
        { id: 'a2', remoteId: '90', filename: 'mirrored.txt' },
      ],
    };
    const partner = {
      key: 'ADO-1',
      attachments: [
        { id: '90', filename: 'mirrored.txt' },
        { id: '91', filename: 'new.png', mimeType: 'image/png', size: 4, sha256: 'abc' },
      ],
    };
    const out = await runner.runIncoming(
      `issue.attachments = attachmentHelper.mergeAttachments(issue, replica);`,
      { issue, replica: partner as Replica, previous: null, firstSync: false },
      host('JIRA_CLOUD'),
    );
    if (!out.ok) throw new Error(formatScriptError(out.error));
    expect(out.value.attachments).toEqual([...issue.attachments!, { remoteId: '91', filename: 'new.png', mimeType: 'image/png', size: 4, sha256: 'abc' }]);
  });

  it('converts text with nodeHelper, reading plain strings in the tracker’s own format', async () => {
    const script = `issue.summary = nodeHelper.stripHtml(replica.description); issue.description = nodeHelper.toWiki(replica.description); issue.labels = [nodeHelper.toHtml('*bold*')];`;
    const out = await runner.runIncoming(script, { issue: { project: 'SUP' }, replica, previous: null, firstSync: true }, host('JIRA_SERVER'));
    expect(out).toMatchObject({
      ok: true,
      value: {
        summary: 'It is really on fire',
        // The rule's string comes back with the format it is in: what toWiki made.
        description: { format: 'jira-wiki', value: 'It is *really* on fire' },
        labels: ['<p><strong>bold</strong></p>'],
      },
    });
  });

  it('gives previous and firstSync to the rule', async () => {
    const script = `issue.summary = firstSync ? 'first' : 'was ' + previous.summary;`;
    expect(await runner.runIncoming(script, { issue: {}, replica, previous: null, firstSync: true }, host('JIRA_CLOUD'))).toMatchObject({
      ok: true,
      value: { summary: 'first' },
    });
    expect(
      await runner.runIncoming(script, { issue: {}, replica, previous: { key: '42', summary: 'old' }, firstSync: false }, host('JIRA_CLOUD')),
    ).toMatchObject({ ok: true, value: { summary: 'was old' } });
  });
});

describe('the sandbox', () => {
  const run = (script: string) => runner.runIncoming(script, { issue: {}, replica: { key: '1' }, previous: null, firstSync: false }, host('JIRA_CLOUD'));

  it('reports a thrown error with its line and column', async () => {
    const out = await run(`issue.summary = 'a';\n\nnull.boom = 1;`);
    expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', line: 3, column: 5 } });
    if (!out.ok) expect(formatScriptError(out.error)).toBe("The incoming rule failed at line 3, column 5: TypeError: cannot set property 'boom' of null");
  });

  it('checks a rule’s syntax without running it', async () => {
    expect(await runner.checkSyntax(`while (true) {}`, 'outgoing')).toBeNull();
    expect(await runner.checkSyntax(`replica.key = issue.key;\nreplica.summary = ;`, 'outgoing')).toMatchObject({
      code: 'SCRIPT_SYNTAX',
      direction: 'outgoing',
      line: 2,
    });
  });

  it('reports a syntax error with its line', async () => {
    expect(await run(`issue.summary = 'a';\nissue.summary = (;`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_SYNTAX', line: 2 } });
  });

  it('stops an endless loop at the time limit, and the next run works', async () => {
    expect(await run(`issue.summary = 'x';\nwhile (true) {}`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_TIMEOUT' } });
    expect(await run(`issue.summary = 'fine';`)).toMatchObject({ ok: true, value: { summary: 'fine' } });
  });

  it('stops a rule that eats memory', async () => {
    // Time enough that only the memory limit can stop it, on a machine as busy as it may be.
    const roomy = await ScriptRunner.create({ timeoutMs: 3_000, memoryBytes: 8 * 1024 * 1024, threads: 1 });
    try {
      const out = await roomy.runIncoming(
        `var a = []; while (true) a.push('xxxxxxxxxxxxxxxxxxxxxxxx' + a.length);`,
        { issue: {}, replica: { key: '1' }, previous: null, firstSync: false },
        host('JIRA_CLOUD'),
      );
      expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_MEMORY' } });
    } finally {
      await roomy.close();
    }
  });

  it('reaches nothing of the host', async () => {
    const out = await run(`issue.labels = [typeof process, typeof require, typeof fetch, typeof setTimeout, typeof XMLHttpRequest, typeof std, typeof os];`);
    expect(out).toMatchObject({ ok: true, value: { labels: Array(7).fill('undefined') } });
  });

  it('keeps nothing between runs', async () => {
    expect(await run(`globalThis.leak = 'secret'; issue.summary = 'a';`)).toMatchObject({ ok: true });
    expect(await run(`issue.summary = typeof leak;`)).toMatchObject({ ok: true, value: { summary: 'undefined' } });
  });

  it('gives every run pristine built-ins, whatever the run before changed', async () => {
    const meddle = [
      `Array.prototype.extra = 1; Object.prototype.polluted = 1; JSON = null; Math.random = function () { return 4; };`,
      `'use strict'; Array.prototype.extra = 1;`,
      `String.prototype.trim = function () { return 'hijacked'; };`,
      `delete Array.prototype.map; delete globalThis.JSON;`,
    ];
    for (const script of meddle) await run(script);
    expect(
      await run(`issue.labels = [typeof [].extra, typeof ({}).polluted, typeof JSON, String(Math.random() < 1), ' a '.trim(), typeof [].map];`),
    ).toMatchObject({
      ok: true,
      value: { labels: ['undefined', 'undefined', 'object', 'true', 'a', 'function'] },
    });
  });

  it('leaves nothing behind that a rule made permanent', async () => {
    expect(await run(`Object.defineProperty(globalThis, 'pinned', { value: 'secret' }); issue.summary = pinned;`)).toMatchObject({
      ok: true,
      value: { summary: 'secret' },
    });
    expect(await run(`issue.summary = typeof pinned;`)).toMatchObject({ ok: true, value: { summary: 'undefined' } });
    expect(await run(`(0, eval)('var viaEval = 1; let lexical = 2; function declared() {}'); issue.summary = 'a';`)).toMatchObject({ ok: true });
    expect(await run(`issue.labels = [typeof viaEval, typeof lexical, typeof declared];`)).toMatchObject({
      ok: true,
      value: { labels: ['undefined', 'undefined', 'undefined'] },
    });
  });

  it('lets a rule use undeclared names and override toString or message on its own objects', async () => {
    const out = await run(
      `total = 2;\nvar o = {}; o.toString = function () { return 'mine'; };\nvar e = new Error('a'); e.message = 'b'; e.name = 'Mine';\nissue.labels = [String(total), String(o), String(e)];`,
    );
    expect(out).toMatchObject({ ok: true, value: { labels: ['2', 'mine', 'Mine: b'] } });
    expect(await run(`issue.summary = typeof total;`)).toMatchObject({ ok: true, value: { summary: 'undefined' } });
  });

  it('reports the column of an error on the rule’s first line as the rule has it', async () => {
    expect(await run(`null.boom = 1;`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', line: 1, column: 5 } });
  });

  it('keeps a rule inside its run: it cannot end the function it runs in', async () => {
    for (const escape of [
      `}); globalThis.escaped = 1; (function () {`,
      `} } finally { globalThis.escaped = 1; } try { {`,
      `issue.summary = 'a';\n} } catch (e) {} finally { return { issue: { summary: 'forged' } }; } try { {`,
    ]) {
      expect([escape, await run(escape)]).toEqual([escape, expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'SCRIPT_SYNTAX' }) })]);
      expect([escape, await runner.checkSyntax(escape, 'incoming')]).toEqual([escape, expect.objectContaining({ code: 'SCRIPT_SYNTAX' })]);
    }
    expect(await run(`issue.summary = typeof escaped;`)).toMatchObject({ ok: true, value: { summary: 'undefined' } });
    // A block left open, or one brace too many, is said on the rule's last line (not past its end).
    expect(await run(`issue.summary = 'a';\nif (true) {`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_SYNTAX', line: 2 } });
    expect(await run(`issue.summary = 'a';\n}`)).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_SYNTAX', line: 2, message: expect.stringContaining("a '}' too many") },
    });
  });

  it('ends a rule at a top-level return, with what it had built by then (as an Exalate script skips an item)', async () => {
    expect(await run(`issue.summary = 'kept';\nif (replica.key === '1') return;\nissue.summary = 'not reached';`)).toMatchObject({
      ok: true,
      value: { summary: 'kept' },
      returned: true,
    });
    // A rule that runs to its end did not return (even one whose last line is a dangling `if`).
    expect(await run(`if (replica.key === '2') return;\nissue.summary = 'to the end';`)).not.toHaveProperty('returned');
    expect(await run(`issue.summary = 'x';\nif (replica.key === '1')`)).not.toHaveProperty('returned');
    expect(await run(`issue = { summary: 'rebound' };\nreturn 42;`)).toMatchObject({ ok: true, value: { summary: 'rebound' } });
    expect(await runner.checkSyntax(`if (!replica.summary) return;\nissue.summary = replica.summary;`, 'incoming')).toBeNull();
    const skipped = await runner.runOutgoing(
      `replica.key = issue.key;\nif (issue.labels.indexOf('internal') >= 0) return;\nreplica.summary = issue.summary;`,
      {
        issue: { ...jiraIssue, labels: ['internal'] },
        previous: null,
        firstSync: false,
      },
      host('JIRA_CLOUD'),
    );
    expect(skipped).toMatchObject({ ok: true, value: { key: 'SUP-1' } });
    if (skipped.ok) expect(skipped.value.summary).toBeUndefined();
    // An error is still an error: the return's result is not made for it.
    expect(await run(`try { null.boom = 1; } finally { issue.summary = 'x'; }`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', line: 1 } });
  });

  it("stops the item with the rule's own words: Exalate's IssueTrackerException and debug.error", async () => {
    const thrown = await run(`issue.summary = 'a';\nthrow new com.exalate.api.exception.IssueTrackerException('Project ' + replica.key + ' is not synced');`);
    expect(thrown).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', message: 'Project 1 is not synced', line: 2, raisedByRule: true } });
    if (!thrown.ok) expect(formatScriptError(thrown.error)).toMatch(/^The incoming rule stopped this item at line 2, column \d+: Project 1 is not synced$/);
    const debugged = await run(`\n\ndebug.error('customFields.Foo from the partner is: ' + replica.foo);\nissue.summary = 'not reached';`);
    expect(debugged).toMatchObject({ ok: false, error: { code: 'SCRIPT_ERROR', message: 'customFields.Foo from the partner is: undefined', line: 3 } });
    // The rule can tell it apart, as a Groovy script would.
    expect(
      await run(
        `try { debug.error('x'); } catch (e) { issue.summary = String(e instanceof com.exalate.api.exception.IssueTrackerException) + ' ' + e.name + ' ' + (e instanceof Error); }`,
      ),
    ).toMatchObject({ ok: true, value: { summary: 'true IssueTrackerException true' } });
  });

  it('refuses a result it cannot read', async () => {
    expect(await run(`issue.labels = 'not a list';`)).toMatchObject({
      ok: false,
      error: { code: 'SCRIPT_RESULT_INVALID', message: expect.stringMatching(/^issue\.labels: /) },
    });
    expect(await run(`issue.self = issue;`)).toMatchObject({ ok: false, error: { code: 'SCRIPT_RESULT_INVALID' } });
  });
});
