import type { Replica } from '@exalate/contract';
import { ScriptRunner, type HostCall, type ScriptHost, type ScriptItem } from '@exalate/scripting';

// A rule's calls to its node (twin lookups, httpClient): answered on the main thread while the
// rule waits in its worker thread, within the rule's time limit, each run seeing its own answers.

const replica = { key: 'ADO-7', summary: 'From the partner', parentId: '41' } as Replica;
const issue: ScriptItem = { key: 'SUP-3', project: 'SUP', summary: 'Here', labels: [] };

let runner: ScriptRunner;
beforeAll(async () => {
  runner = await ScriptRunner.create({ threads: 1, timeoutMs: 500, memoryBytes: 8 * 1024 * 1024 });
});
afterAll(() => runner.close());

const host = (calls?: ScriptHost['calls']): ScriptHost => ({ platform: 'JIRA_CLOUD', itemTypes: ['Task'], ...(calls ? { calls } : {}) });
const run = (script: string, calls?: ScriptHost['calls']) => runner.runIncoming(script, { issue, replica, previous: null, firstSync: false }, host(calls));

it("syncHelper.getLocalIssueKeyFromRemoteId and nodeHelper.getLocalIssueFromRemoteId ask the node for the partner's item's twin", async () => {
  const asked: HostCall[] = [];
  const calls = async (call: HostCall) => {
    asked.push(call);
    if (call.kind === 'twin') return call.remoteId === '41' ? { id: '10041', key: 'SUP-1', urn: 'SUP-1' } : null;
    if (call.kind === 'item') return { key: 'SUP-1', summary: 'The parent', status: 'Done' };
    return null;
  };
  const out = await run(
    [
      `var parent = syncHelper.getLocalIssueKeyFromRemoteId(replica.parentId);`,
      `var none = syncHelper.getLocalIssueKeyFromRemoteId('ADO-99');`,
      `var item = nodeHelper.getLocalIssueFromRemoteId(41);`,
      `issue.labels = [parent.key, parent.id, String(none), item.summary, String(syncHelper.getLocalIssueKeyFromRemoteId(null))];`,
    ].join('\n'),
    calls,
  );
  expect(out).toMatchObject({ ok: true, value: { labels: ['SUP-1', '10041', 'null', 'The parent', 'null'] } });
  // A null id asks nothing.
  expect(asked).toEqual([
    { kind: 'twin', remoteId: '41' },
    { kind: 'twin', remoteId: 'ADO-99' },
    { kind: 'item', remoteId: '41' },
  ]);
});

it('httpClient sends the method, path and body to the node and gives the answer’s body; a refusal is the rule’s error, which it may catch', async () => {
  const asked: HostCall[] = [];
  const calls = async (call: HostCall) => {
    asked.push(call);
    if (call.kind === 'http' && call.path === '/rest/api/3/myself') return { displayName: 'Exalate Sync' };
    throw new Error('the tracker answered 404: no such thing');
  };
  const out = await run(
    [`issue.summary = httpClient.get('/rest/api/3/myself').displayName;`, `httpClient.put('/rest/api/3/issue/SUP-3/properties/x', { seen: true }) ;`].join(
      '\n',
    ),
    calls,
  );
  expect(out).toMatchObject({
    ok: false,
    error: { code: 'SCRIPT_ERROR', line: 2, message: expect.stringContaining('httpClient.put /rest/api/3/issue/SUP-3/properties/x: the tracker answered 404') },
  });
  expect(asked).toEqual([
    { kind: 'http', method: 'GET', path: '/rest/api/3/myself' },
    { kind: 'http', method: 'PUT', path: '/rest/api/3/issue/SUP-3/properties/x', body: { seen: true } },
  ]);
  const caught = await run(`try { httpClient.delete('/nope'); } catch (e) { issue.summary = 'caught: ' + e.message; }`, calls);
  expect(caught).toMatchObject({ ok: true, value: { summary: 'caught: httpClient.delete /nope: the tracker answered 404: no such thing' } });
  expect(await run(`httpClient.get(42);`, calls)).toMatchObject({ ok: false, error: { message: expect.stringContaining('takes a path') } });
});

it('a node that answers too late fails that run within its time limit, and its late answer reaches no later run', async () => {
  let release: (value: unknown) => void = () => undefined;
  const slow = (call: HostCall) => new Promise<unknown>((resolve) => (release = () => resolve({ id: 'late', key: 'LATE-1', urn: 'LATE-1', asked: call })));
  const started = Date.now();
  const out = await run(`var t = syncHelper.getLocalIssueKeyFromRemoteId('ADO-1');\nissue.summary = t.key;`, slow);
  expect(out).toMatchObject({ ok: false, error: { code: 'SCRIPT_TIMEOUT' } });
  expect(Date.now() - started).toBeLessThan(2_000);
  release(undefined);
  // The same (only) thread, a new run: it gets its own answer, not the one that came late.
  const next = await run(`issue.summary = syncHelper.getLocalIssueKeyFromRemoteId('ADO-2').key;`, async () => ({ id: '2', key: 'SUP-2', urn: 'SUP-2' }));
  expect(next).toMatchObject({ ok: true, value: { summary: 'SUP-2' } });
  expect(runner.threadRestarts).toBe(0);
});

it('without a node to ask (no calls given), the helpers say so', async () => {
  expect(await run(`syncHelper.getLocalIssueKeyFromRemoteId('ADO-1');`)).toMatchObject({
    ok: false,
    error: { message: expect.stringContaining('getLocalIssueKeyFromRemoteId: this rule cannot call its node here') },
  });
});

it("nodeHelper.getIssueType(name, projectKey) asks for another project's item types; without a project it answers from the target project's", async () => {
  const asked: HostCall[] = [];
  const calls = async (call: HostCall) => {
    asked.push(call);
    if (call.kind === 'itemTypes' && call.project === 'ENG') return ['Story', 'Bug'];
    throw new Error(`No project could be found with key '${call.kind === 'itemTypes' ? call.project : ''}'.`);
  };
  const out = await run(
    `issue.labels = [nodeHelper.getIssueType('story', 'ENG').name, String(nodeHelper.getIssueType('Task', 'ENG')), nodeHelper.getIssueType('task').name];`,
    calls,
  );
  expect(out).toMatchObject({ ok: true, value: { labels: ['Story', 'null', 'Task'] } });
  expect(asked).toEqual([
    { kind: 'itemTypes', project: 'ENG' },
    { kind: 'itemTypes', project: 'ENG' },
  ]);
  expect(await run(`nodeHelper.getIssueType('Bug', 'NOPE');`, calls)).toMatchObject({
    ok: false,
    error: { message: expect.stringContaining("getIssueType: No project could be found with key 'NOPE'.") },
  });
});

it('nodeHelper.getUser asks the node for a person of its tracker by id or email', async () => {
  const asked: HostCall[] = [];
  const calls = async (call: HostCall) => {
    asked.push(call);
    return call.kind === 'user' && call.ref === 'bob@acme.example' ? { key: '5b10ac8d', displayName: 'Bob Builder', email: 'bob@acme.example' } : null;
  };
  const out = await run(
    `var bob = nodeHelper.getUser('bob@acme.example');\nissue.labels = [bob.key, bob.displayName, String(nodeHelper.getUser('nobody')), String(nodeHelper.getUser(null))];`,
    calls,
  );
  expect(out).toMatchObject({ ok: true, value: { labels: ['5b10ac8d', 'Bob Builder', 'null', 'null'] } });
  expect(asked).toEqual([
    { kind: 'user', ref: 'bob@acme.example' },
    { kind: 'user', ref: 'nobody' },
  ]);
});
