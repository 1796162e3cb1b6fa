import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRules } from '@exalate/scripting';
import { adminApi, capturingLogger, eventually, startTestServer } from './support.js';
import { pairPerTest, plain, startTracker, text, type TrackerFixture } from './sync-support.js';

/**
 * The sync under failure: a tracker that answers 429 and 500, a partner node that is away, a node
 * killed in the middle of its work, and rules that throw or never end. After each, both sides
 * converge, and nothing is lost or written twice.
 */

/** Every item of `f`'s test project whose summary contains `tag`, by summary. */
async function itemsTagged(f: TrackerFixture, tag: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const found of f.reader.searchChanged({ query: '', project: f.project, changedAfter: null })) {
    const item = await f.reader.getItem(found.key);
    if (item?.summary.includes(tag)) counts.set(item.summary, (counts.get(item.summary) ?? 0) + 1);
  }
  return counts;
}

const pair = pairPerTest();

it('rides out a destination tracker that answers 429 and then 500 for a while', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // Every call to Azure DevOps fails for a while: first rate-limited with Retry-After, then down.
  p.b.faults.inject({ status: 429, times: 6, retryAfter: 1 });
  p.b.faults.inject({ status: 500, times: 6 });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Through the storm', labels: ['storm'] });
  await p.a.human.addComment(made.key, {
    format: 'adf',
    value: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'still there?' }] }] },
  });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => {
    const item = await p.b.reader.getItem(twin);
    expect(item).toMatchObject({ summary: 'Through the storm', labels: ['storm'] });
    expect(item!.comments).toHaveLength(1);
  }, 30_000);
  const statuses = p.b.faults.answered.map((a) => a.status);
  expect(statuses.filter((s) => s === 429)).toHaveLength(6);
  expect(statuses.filter((s) => s === 500)).toHaveLength(6);
  expect(await itemsTagged(p.b, 'Through the storm')).toEqual(new Map([['Through the storm', 1]]));
  expect((await p.api('b').get(`/connections/${p.connectionId}/items/${made.key}`)).body).toMatchObject({ status: 'SYNCED', error: null });
}, 120_000);

it('keeps the item a first sync created when the apply fails after the create, and finishes it on a later attempt', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // Azure DevOps takes the new work item, then refuses comments for a while.
  p.b.faults.inject({ status: 500, times: 1_000, match: /\/comments/ });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Created, then stuck' });
  await p.a.human.addComment(made.key, {
    format: 'adf',
    value: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'first words' }] }] },
  });
  // While the comment keeps failing, the twin already names the created work item.
  const pending = await eventually(async () => {
    const item = (await p.api('b').get(`/connections/${p.connectionId}/items/${made.key}`)).body;
    expect(item).toMatchObject({ status: 'PENDING', error: { code: 'TRACKER_UNAVAILABLE' }, localKey: expect.stringMatching(/^[0-9]+$/) });
    return item;
  }, 30_000);
  p.b.faults.clear();
  await eventually(async () => {
    const item = await p.b.reader.getItem(pending.localKey);
    expect(item!.comments).toHaveLength(1);
    expect((await p.api('b').get(`/connections/${p.connectionId}/items/${made.key}`)).body).toMatchObject({ status: 'SYNCED', localKey: pending.localKey });
  }, 30_000);
  expect(await itemsTagged(p.b, 'Created, then stuck')).toEqual(new Map([['Created, then stuck', 1]]));
}, 120_000);

it('does not write a comment twice when the apply that wrote it failed and the comment was edited here before the retry', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // Not matched by the active trigger: synced by name once it has its comment.
  const made = await p.a.human.createItem({ project: 'ENG', type: 'Bug', summary: 'Failed after its comment' });
  await p.a.human.addComment(made.key, text(p.a.human, 'written once'));
  // Azure DevOps takes the work item and its comment, then fails the apply's read-back once, and
  // asks for 5 s before the retry: time for someone here to reword the comment.
  p.b.faults.inject({ status: 503, times: 1, retryAfter: 5, match: /\/_apis\/wit\/workItems\/[0-9]+\?/i });
  expect((await p.api('a').post(`/connections/${p.connectionId}/sync-now`, { key: made.key })).status).toBe(202);
  const failed = await eventually(async () => {
    const item = (await p.api('b').get(`/connections/${p.connectionId}/items/${made.key}`)).body;
    expect(item).toMatchObject({ status: 'PENDING', error: { code: 'TRACKER_UNAVAILABLE' }, localKey: expect.stringMatching(/^[0-9]+$/) });
    return item;
  }, 30_000);
  const written = await p.b.human.getItem(failed.localKey);
  expect(written!.comments.map((c) => plain(c.body))).toEqual(['written once']);
  await p.b.human.updateComment(failed.localKey, written!.comments[0]!.id, text(p.b.human, 'written once, reworded here'));
  // The retry knows the comment as the one it wrote (stored when the apply failed), so it neither
  // adds it again nor, as the partner's text is unchanged, overwrites the rewording.
  await eventually(
    async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${made.key}`)).body).toMatchObject({ status: 'SYNCED', error: null }),
    30_000,
  );
  const after = await p.b.human.getItem(failed.localKey);
  expect(after!.comments.map((c) => plain(c.body))).toEqual(['written once, reworded here']);
}, 120_000);

it('bulk-syncs every matching item once, across several batches, while the source tracker answers 429 for a while', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  // Not matched by the connection's active trigger (project = SUP): only the bulk sync takes them.
  const N = 60;
  const keys: string[] = [];
  for (let i = 1; i <= N; i += 1) keys.push((await p.a.human.createItem({ project: 'ENG', type: 'Bug', summary: `bulk ${String(i).padStart(2, '0')}` })).key);
  const trigger = await p.api('a').post(`/connections/${p.connectionId}/triggers`, { query: 'project = ENG', active: false });
  expect(trigger.status).toBe(201);
  // Reads of the items the batches run fail for a while; those items are retried with backoff.
  p.a.faults.inject({ status: 429, times: 8, retryAfter: 1, match: /\/issue\/ENG-/ });
  const bulk = await p.api('a').post(`/connections/${p.connectionId}/triggers/${trigger.body.id}/bulk-sync`);
  expect(bulk.status).toBe(202);
  expect(bulk.body).toMatchObject({ total: N });
  await eventually(
    async () =>
      expect((await p.api('a').get(`/connections/${p.connectionId}/bulk-syncs/${bulk.body.id}`)).body).toMatchObject({ synced: N, failed: 0, done: true }),
    60_000,
  );
  expect(p.a.faults.answered.filter((a) => a.status === 429)).toHaveLength(8);
  const copies = await itemsTagged(p.b, 'bulk ');
  expect(copies.size).toBe(N);
  expect([...copies.values()].every((n) => n === 1)).toBe(true);
  for (const key of keys) expect((await p.api('a').get(`/connections/${p.connectionId}/items/${key}`)).body).toMatchObject({ status: 'SYNCED', error: null });
}, 120_000);

it('finishes a bulk sync that the node was stopped in the middle of, once it is started again', async () => {
  const p = await pair('pglite', 'jira', 'ado', { split: true });
  const N = 150;
  for (let i = 1; i <= N; i += 1) await p.a.human.createItem({ project: 'ENG', type: 'Bug', summary: `restarted bulk ${String(i).padStart(3, '0')}` });
  const trigger = await p.api('a').post(`/connections/${p.connectionId}/triggers`, { query: 'project = ENG', active: false });
  const bulk = await p.api('a').post(`/connections/${p.connectionId}/triggers/${trigger.body.id}/bulk-sync`);
  expect(bulk.status).toBe(202);
  await eventually(
    async () => expect((await p.api('a').get(`/connections/${p.connectionId}/bulk-syncs/${bulk.body.id}`)).body.synced).toBeGreaterThan(0),
    30_000,
  );
  await p.server('a').stop();
  await p.server('a').restart();
  await eventually(
    async () =>
      expect((await p.api('a').get(`/connections/${p.connectionId}/bulk-syncs/${bulk.body.id}`)).body).toMatchObject({ synced: N, failed: 0, done: true }),
    90_000,
  );
  const copies = await itemsTagged(p.b, 'restarted bulk');
  expect(copies.size).toBe(N);
  expect([...copies.values()].every((n) => n === 1)).toBe(true);
}, 180_000);

it('applies what the partner sent even when the run that received it never ran (the sweep)', async () => {
  const p = await pair('pglite', 'jira', 'ado', { server: { staleInboxMs: 3_000 } });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Before the stop' });
  const twin = await p.twinOf('a', made.key);
  // Node b's own runs stop, as when its process ends right after storing what arrived; the job
  // queue (another process, or this one after a restart) is still there.
  await p.server('b').server.nodes.get('b')!.engine.stop();
  await p.a.human.updateItem(made.key, { summary: 'After the stop' });
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/queue`)).body.inbox).toBeGreaterThan(0), 20_000);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.summary).toBe('After the stop'), 30_000);
}, 90_000);

describe.each([
  ['public', false],
  ['private', true],
])('a %s partner node that is down for a while', (_name, privateB) => {
  it('gets everything that happened meanwhile once it is back', async () => {
    const p = await pair('pglite', 'jira', 'ado', { split: true, privateB });
    const first = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Before the outage' });
    await p.twinOf('a', first.key);
    await p.server('b').stop();

    const during = await p.a.human.createItem({ project: 'SUP', type: 'Task', summary: 'During the outage' });
    await p.a.human.updateItem(first.key, { summary: 'Before the outage, edited during it' });
    await eventually(async () => expect((await p.api('a').get(`/connections/${p.connectionId}/queue`)).body.outbox).toBeGreaterThanOrEqual(2));
    // Long enough for several failed deliveries (or missed polls).
    await new Promise((r) => setTimeout(r, 1_500));

    await p.server('b').restart();
    const twin = await p.twinOf('a', during.key);
    await eventually(async () => {
      expect((await p.b.reader.getItem(twin))!.summary).toBe('During the outage');
      expect((await p.b.reader.getItem(await p.twinOf('a', first.key)))!.summary).toBe('Before the outage, edited during it');
    }, 30_000);
    expect(await itemsTagged(p.b, 'outage')).toEqual(
      new Map([
        ['During the outage', 1],
        ['Before the outage, edited during it', 1],
      ]),
    );
  });
});

it('finds a comment edit in Jira without webhooks, where the edit does not change the issue', async () => {
  // Jira keeps an issue's `updated` when one of its comments is edited, so the incremental query
  // does not see the edit; only the comment_updated webhook says it, and this node has none.
  const p = await pair('pglite', 'jira', 'ado', { webhooks: { a: false } });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Edited without webhooks' });
  const comment = await p.a.human.addComment(made.key, text(p.a.human, 'First words'));
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.comments.map((c) => plain(c.body))).toEqual(['First words']), 20_000);
  const before = (await p.a.reader.getItem(made.key))!.updated;
  await p.a.human.updateComment(made.key, comment.id, text(p.a.human, 'Second thoughts'));
  expect((await p.a.reader.getItem(made.key))!.updated).toBe(before);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.comments.map((c) => plain(c.body))).toEqual(['Second thoughts']), 20_000);
}, 60_000);

it('sends a local change the node had not sent yet when the partner’s change is applied over it', async () => {
  // Azure DevOps's node has no service hooks and no scan for a while: a comment made there waits
  // for its outgoing run. The partner's change arrives first and is applied over it. What the item
  // looks like after that apply is not all the partner's: the comment must still go out.
  const p = await pair('pglite', 'jira', 'ado', { webhooks: { b: false }, server: { scanIntervalMs: 600_000, refreshIntervalMs: 600_000 } });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Both sides at once' });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${twin}`)).body).toMatchObject({ status: 'SYNCED' }), 20_000);
  await p.b.human.addComment(twin, text(p.b.human, 'Said in Azure DevOps'));
  await p.a.human.updateItem(made.key, { summary: 'Both sides at once, renamed in Jira' });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.summary).toBe('Both sides at once, renamed in Jira'), 20_000);
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${twin}`)).body).toMatchObject({ status: 'SYNCED' }), 20_000);
  // The apply found the comment unsent and sends it on its own; "sync now" must not be needed.
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.comments.map((c) => plain(c.body))).toEqual(['Said in Azure DevOps']), 20_000);
  expect((await p.b.reader.getItem(twin))!.comments).toHaveLength(1);
}, 60_000);

it('keeps a field changed here and not sent yet when the partner’s change carries its older value', async () => {
  // As above, Azure DevOps' change waits for its outgoing run. Meanwhile Jira's change of other
  // fields arrives with the summary as it was: writing that would undo the rename made here. A
  // field both sides changed takes the partner's value.
  const p = await pair('pglite', 'jira', 'ado', { webhooks: { b: false }, server: { scanIntervalMs: 600_000, refreshIntervalMs: 600_000 } });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Changed on both sides', labels: ['first'] });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${twin}`)).body).toMatchObject({ status: 'SYNCED' }), 20_000);
  await p.b.human.updateItem(twin, { summary: 'Renamed in Azure DevOps', labels: ['from-ado'] });
  await p.a.human.updateItem(made.key, { labels: ['from-jira'] });
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.labels).toEqual(['from-jira']), 20_000);
  // The apply kept the rename, and its outgoing run sends it.
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.summary).toBe('Renamed in Azure DevOps'), 20_000);
  await Promise.all([p.a.settled(), p.b.settled()]);
  for (const item of [await p.a.reader.getItem(made.key), await p.b.reader.getItem(twin)])
    expect([item!.summary, item!.labels]).toEqual(['Renamed in Azure DevOps', ['from-jira']]);
}, 60_000);

/** The request by which the sync writes an item's fields, in each tracker's API. */
const FIELD_WRITE: Record<string, (key: string) => { method: string; match: RegExp }> = {
  ado: (key) => ({ method: 'PATCH', match: new RegExp(`/workitems/${key}(\\?|$)`, 'i') }),
  jira: (key) => ({ method: 'PUT', match: new RegExp(`/issue/${key}(\\?|$)`) }),
  snow: () => ({ method: 'PATCH', match: /\/api\/now\/table\/incident\/[0-9a-f]{32}(\?|$)/ }),
};

describe.each([
  ['jira', 'ado'],
  ['ado', 'jira'],
  ['jira', 'snow'],
] as const)('%s → %s', (from, to) => {
  it('sends a change someone made on the receiving side while the partner’s change was being written', async () => {
    const p = await pair('pglite', from, to);
    const made = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'Written while edited', labels: ['first'] });
    const twin = await p.twinOf('a', made.key);
    await eventually(
      async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${encodeURIComponent(twin)}`)).body).toMatchObject({ status: 'SYNCED' }),
      20_000,
    );
    // The sync's write of the item waits while someone there adds a label; the item the apply
    // then reads back has the label, which the partner has not seen.
    let labelled = false;
    p.b.faults.inject({
      times: 1,
      ...FIELD_WRITE[to]!(twin),
      until: async () => {
        await p.b.human.updateItem(twin, { labels: ['first', 'second'] });
        labelled = true;
      },
    });
    await p.a.human.updateItem(made.key, { summary: 'Written while edited, renamed' });
    await eventually(async () => expect((await p.b.reader.getItem(twin))!.summary).toBe('Written while edited, renamed'), 20_000);
    expect(labelled).toBe(true);
    await eventually(async () => expect((await p.a.reader.getItem(made.key))!.labels.sort()).toEqual(['first', 'second']), 20_000);
    expect((await p.b.reader.getItem(twin))!.labels.sort()).toEqual(['first', 'second']);
  }, 60_000);
});

it('sends a comment someone added in Jira while the partner’s change was being written there', async () => {
  // The apply writes no comment, so it does not read them back; the comment's webhook, arriving
  // while the sync writes the issue, is what tells it that someone else commented.
  const p = await pair('pglite', 'jira', 'ado');
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Commented while written' });
  const twin = await p.twinOf('a', made.key);
  await eventually(
    async () => expect((await p.api('a').get(`/connections/${p.connectionId}/items/${made.key}`)).body).toMatchObject({ status: 'SYNCED' }),
    20_000,
  );
  let commented = false;
  p.a.faults.inject({
    times: 1,
    method: 'PUT',
    match: new RegExp(`/issue/${made.key}$`),
    until: async () => {
      await p.a.human.addComment(made.key, text(p.a.human, 'Said in Jira meanwhile'));
      // Its webhook reaches the node before the sync's write is answered.
      await p.a.settled();
      commented = true;
    },
  });
  await p.b.human.updateItem(twin, { summary: 'Commented while written, renamed in Azure DevOps' });
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.summary).toBe('Commented while written, renamed in Azure DevOps'), 20_000);
  expect(commented).toBe(true);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.comments.map((c) => plain(c.body))).toEqual(['Said in Jira meanwhile']), 20_000);
}, 60_000);

describe.each([
  ['writes no comment', 'field', null],
  ['writes a comment too', 'comment', 'Said in Jira'],
] as const)('Azure DevOps, whose webhooks do not name the comment: an apply that %s', (_, held, partnerComment) => {
  it('sends a comment someone added there while the partner’s change was being written', async () => {
    // The apply does not read the comments back (its writes' answers tell it what they made), and
    // the comment's webhook names only the work item and a revision the read-back covers. No
    // refresh of recent items comes to the rescue in the meantime.
    const p = await pair('pglite', 'jira', 'ado', { server: { refreshIntervalMs: 600_000 } });
    const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Commented in Azure DevOps while written' });
    const twin = await p.twinOf('a', made.key);
    await eventually(
      async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${encodeURIComponent(twin)}`)).body).toMatchObject({ status: 'SYNCED' }),
      20_000,
    );
    let commented = false;
    const write = held === 'field' ? FIELD_WRITE['ado']!(twin) : { method: 'POST', match: new RegExp(`/workitems/${twin}/comments(\\?|$)`, 'i') };
    p.b.faults.inject({
      times: 1,
      ...write,
      until: async () => {
        await p.b.human.addComment(twin, text(p.b.human, 'Said in Azure DevOps meanwhile'));
        // Its webhook reaches the node before the sync's write is answered.
        await p.b.settled();
        commented = true;
      },
    });
    if (partnerComment) await p.a.human.addComment(made.key, text(p.a.human, partnerComment));
    else await p.a.human.updateItem(made.key, { summary: 'Commented in Azure DevOps while written, renamed' });
    await eventually(async () => expect(commented).toBe(true), 20_000);
    const expected = partnerComment ? [partnerComment, 'Said in Azure DevOps meanwhile'] : ['Said in Azure DevOps meanwhile'];
    await eventually(async () => expect((await p.a.reader.getItem(made.key))!.comments.map((c) => plain(c.body)).sort()).toEqual([...expected].sort()), 20_000);
    // Each comment once on either side.
    expect((await p.b.reader.getItem(twin))!.comments.map((c) => plain(c.body)).sort()).toEqual([...expected].sort());
  }, 60_000);
});

it('logs an outgoing rule’s debug.log lines for its real runs, not for the runs that only compare', async () => {
  const { logger, lines } = capturingLogger();
  const p = await pair('pglite', 'jira', 'ado', { logger });
  const outgoing = `${defaultRules('JIRA_CLOUD').outgoing}\ndebug.log('outgoing ran for ' + issue.summary);`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { outgoing })).status).toBe(200);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Logged' });
  const twin = await p.twinOf('a', made.key);
  const ran = () => lines().filter((l) => l['script'] === 'outgoing' && String(l['msg']).startsWith('debug.log: outgoing ran for'));
  await eventually(async () => expect(ran().map((l) => l['msg'])).toContain('debug.log: outgoing ran for Logged'), 20_000);
  await new Promise((r) => setTimeout(r, 1_000));
  const before = ran().length;
  // Applying the partner's change makes the item's outgoing replica to compare it with the
  // baseline; that run sends nothing, and says nothing in the log.
  await p.b.human.updateItem(twin, { summary: 'Logged, renamed' });
  await eventually(async () => expect((await p.a.reader.getItem(made.key))!.summary).toBe('Logged, renamed'), 20_000);
  await new Promise((r) => setTimeout(r, 1_500));
  expect(ran()).toHaveLength(before);
}, 60_000);

it('moves a few attachments at a time, however many items bring one at once, and every one arrives', async () => {
  // Each transfer holds the attachment in memory: their number, not the items', bounds the node's.
  const p = await pair('pglite', 'jira', 'ado');
  let underway = 0;
  let most = 0;
  p.a.faults.inject({
    times: 1_000,
    method: 'GET',
    match: /\/attachment\/content\//,
    until: async () => {
      underway += 1;
      most = Math.max(most, underway);
      await new Promise((r) => setTimeout(r, 300));
      underway -= 1;
    },
  });
  const bytes = (i: number) => Buffer.alloc(256 * 1024, `attachment ${i} `);
  const made = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const item = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: `Attached ${i}` });
      await p.a.human.uploadAttachment(item.key, { filename: `log-${i}.txt`, mimeType: 'text/plain', content: bytes(i) });
      return item;
    }),
  );
  for (const [i, item] of made.entries()) {
    const twin = await p.twinOf('a', item.key);
    await eventually(async () => {
      const copy = await p.b.reader.getItem(twin);
      expect(copy!.attachments.map((a) => a.filename)).toEqual([`log-${i}.txt`]);
      const download = await p.b.reader.downloadAttachment(twin, copy!.attachments[0]!.id);
      const chunks: Buffer[] = [];
      for await (const c of download.stream) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(bytes(i))).toBe(true);
    }, 40_000);
  }
  expect(most).toBeGreaterThan(0);
  expect(most).toBeLessThanOrEqual(2);
}, 120_000);

it('leaves an attachment larger than the limit out, says so in the item’s history, and syncs the rest', async () => {
  const p = await pair('pglite', 'jira', 'ado', { server: { maxAttachmentBytes: 100 * 1024 } });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'One attachment too many' });
  await p.a.human.uploadAttachment(made.key, { filename: 'core.dump', mimeType: 'application/octet-stream', content: Buffer.alloc(200 * 1024, 1) });
  await p.a.human.uploadAttachment(made.key, { filename: 'notes.txt', mimeType: 'text/plain', content: Buffer.from('small enough') });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.attachments.map((a) => a.filename)).toEqual(['notes.txt']), 20_000);
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await p.b.reader.getItem(twin))!.attachments.map((a) => a.filename)).toEqual(['notes.txt']);
  const status = (await p.api('a').get(`/connections/${p.connectionId}/items/${made.key}`)).body;
  expect(status).toMatchObject({ status: 'SYNCED', error: null });
  expect(status.history).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        direction: 'outgoing',
        outcome: 'SENT',
        message: expect.stringMatching(/^Not sent: core\.dump \(0\.2 MB\), larger than this node's limit of 0\.1 MB per attachment\.$/),
      }),
    ]),
  );
  expect((await p.api('b').get(`/connections/${p.connectionId}/items/${twin}`)).body).toMatchObject({ status: 'SYNCED', error: null });
}, 60_000);

it('names in the item’s history only the too-large attachments that the outgoing rule would have sent', async () => {
  const p = await pair('pglite', 'jira', 'ado', { server: { maxAttachmentBytes: 100 * 1024 } });
  const outgoing = `${defaultRules('JIRA_CLOUD').outgoing}\nreplica.attachments = replica.attachments.filter(function (a) { return a.filename !== 'core.dump'; });`;
  expect((await p.api('a').put(`/connections/${p.connectionId}/rules`, { outgoing })).status).toBe(200);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Two attachments too large, one of them kept here' });
  await p.a.human.uploadAttachment(made.key, { filename: 'core.dump', mimeType: 'application/octet-stream', content: Buffer.alloc(200 * 1024, 1) });
  await p.a.human.uploadAttachment(made.key, { filename: 'trace.log', mimeType: 'text/plain', content: Buffer.alloc(300 * 1024, 2) });
  await p.a.human.uploadAttachment(made.key, { filename: 'notes.txt', mimeType: 'text/plain', content: Buffer.from('small enough') });
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.attachments.map((a) => a.filename)).toEqual(['notes.txt']), 20_000);
  const notes = async () =>
    ((await p.api('a').get(`/connections/${p.connectionId}/items/${made.key}`)).body.history as { message: string | null }[])
      .map((h) => h.message)
      .filter((m) => m?.startsWith('Not sent'));
  await eventually(
    async () => expect(await notes()).toContain("Not sent: trace.log (0.3 MB), larger than this node's limit of 0.1 MB per attachment."),
    20_000,
  );
  expect((await notes()).filter((m) => m!.includes('core.dump'))).toEqual([]);
}, 60_000);

describe.each([
  { sender: 'public', args: ['ado', 'jira', {}] as const, from: 'a' as const, to: 'b' as const },
  { sender: 'private', args: ['jira', 'ado', { privateB: true }] as const, from: 'b' as const, to: 'a' as const },
])('an attachment whose size Azure DevOps does not say, larger than the limit, from a $sender node', ({ args, from, to }) => {
  it('is read once, then left out: the item syncs without it, its history says so, and nothing keeps retrying', async () => {
    const [a, b, extra] = args;
    const p = await pair('pglite', a, b, { ...extra, server: { maxAttachmentBytes: 100 * 1024 }, trackers: { [from]: { attachmentSizes: false } } });
    const source = p[from];
    const made = await source.human.createItem({ project: source.project, type: source.itemType, summary: 'Attachment of no stated size' });
    const big = await source.human.uploadAttachment(made.key, {
      filename: 'core.dump',
      mimeType: 'application/octet-stream',
      content: Buffer.alloc(200 * 1024, 1),
    });
    await source.human.uploadAttachment(made.key, { filename: 'notes.txt', mimeType: 'text/plain', content: Buffer.from('small enough') });
    expect((await source.reader.getItem(made.key))!.attachments.map((x) => x.size)).toEqual([null, null]);
    const twin = await p.twinOf(from, made.key);
    await eventually(async () => expect((await p[to].reader.getItem(twin))!.attachments.map((x) => x.filename)).toEqual(['notes.txt']), 30_000);
    const status = async (side: 'a' | 'b', key: string) => (await p.api(side).get(`/connections/${p.connectionId}/items/${key}`)).body;
    await eventually(async () => {
      expect(await status(to, twin)).toMatchObject({ status: 'SYNCED', error: null });
      expect(await status(from, made.key)).toMatchObject({ status: 'SYNCED', error: null });
    }, 30_000);
    expect((await status(from, made.key)).history).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          direction: 'outgoing',
          outcome: 'SENT',
          message: "Not sent: core.dump (over 0.1 MB), larger than this node's limit of 0.1 MB per attachment.",
        }),
      ]),
    );
    // Its bytes were read from Azure DevOps once, and are not asked for again.
    const reads = () => source.faults.calls.filter((c) => c.startsWith('GET ') && c.includes(big.id)).length;
    expect(reads()).toBe(1);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(reads()).toBe(1);
    expect(await status(to, twin)).toMatchObject({ status: 'SYNCED', error: null });
  }, 90_000);
});

it('withholds an attachment found too large up front when its item is unsynced and synced again as a new pair', async () => {
  const p = await pair('pglite', 'ado', 'jira', { server: { maxAttachmentBytes: 100 * 1024 }, trackers: { a: { attachmentSizes: false } } });
  const made = await p.a.human.createItem({ project: p.a.project, type: p.a.itemType, summary: 'Found too large, then synced anew' });
  const big = await p.a.human.uploadAttachment(made.key, { filename: 'core.dump', mimeType: 'application/octet-stream', content: Buffer.alloc(200 * 1024, 1) });
  await p.a.human.uploadAttachment(made.key, { filename: 'notes.txt', mimeType: 'text/plain', content: Buffer.from('small enough') });
  const reads = () => p.a.faults.calls.filter((c) => c.startsWith('GET ') && c.includes(big.id)).length;
  const first = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(first))!.attachments.map((x) => x.filename)).toEqual(['notes.txt']), 30_000);
  expect(reads()).toBe(1);

  expect((await p.api('a').post(`/connections/${p.connectionId}/items/${made.key}/unsync`)).status).toBe(204);
  expect((await p.api('a').post(`/connections/${p.connectionId}/sync-now`, { key: made.key })).status).toBe(202);
  const again = await eventually(async () => {
    const item = (await p.api('a').get(`/connections/${p.connectionId}/items/${made.key}`)).body;
    expect(item).toMatchObject({ status: 'SYNCED', error: null, remoteKey: expect.not.stringMatching(`^${first}$`) });
    return item.remoteKey as string;
  }, 30_000);
  await eventually(async () => expect((await p.b.reader.getItem(again))!.attachments.map((x) => x.filename)).toEqual(['notes.txt']), 30_000);
  // The new pair knew the attachment from its note: its first replica left it out, so the partner
  // never asked for it (and was never refused), and its bytes were not read a second time.
  await new Promise((r) => setTimeout(r, 1_500));
  type Entry = { direction: string; outcome: string; message: string | null };
  const history = async (side: 'a' | 'b', key: string) => (await p.api(side).get(`/connections/${p.connectionId}/items/${key}`)).body.history as Entry[];
  const sent = (await history('a', made.key)).filter((h) => h.direction === 'outgoing' && h.outcome === 'SENT');
  expect(sent.length).toBeGreaterThan(0);
  expect(sent.map((h) => h.message)).toEqual(sent.map(() => "Not sent: core.dump (over 0.1 MB), larger than this node's limit of 0.1 MB per attachment."));
  expect((await history('b', again)).filter((h) => h.outcome === 'RETRYING')).toEqual([]);
  expect(reads()).toBe(1);
  expect((await p.b.reader.getItem(again))!.attachments.map((x) => x.filename)).toEqual(['notes.txt']);
}, 90_000);

it('reads such an attachment once, however many of the replicas a private node queued while its partner was away name it', async () => {
  const p = await pair('pglite', 'jira', 'ado', {
    privateB: true,
    split: true,
    server: { maxAttachmentBytes: 100 * 1024 },
    trackers: { b: { attachmentSizes: false } },
  });
  const made = await p.b.human.createItem({ project: p.b.project, type: p.b.itemType, summary: 'Queued while Jira’s node was away' });
  const twin = await p.twinOf('b', made.key);
  await p.server('a').stop();
  const big = await p.b.human.uploadAttachment(made.key, { filename: 'core.dump', mimeType: 'application/octet-stream', content: Buffer.alloc(200 * 1024, 1) });
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/queue`)).body.outbox).toBeGreaterThanOrEqual(1));
  for (const summary of ['Renamed once', 'Renamed twice']) {
    const before = (await p.api('b').get(`/connections/${p.connectionId}/queue`)).body.outbox as number;
    await p.b.human.updateItem(made.key, { summary });
    await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/queue`)).body.outbox).toBeGreaterThan(before));
  }
  await p.server('a').restart();
  await eventually(async () => expect((await p.a.reader.getItem(twin))!.summary).toBe('Renamed twice'), 30_000);
  await eventually(
    async () => expect((await p.api('a').get(`/connections/${p.connectionId}/items/${twin}`)).body).toMatchObject({ status: 'SYNCED', error: null }),
    30_000,
  );
  expect((await p.a.reader.getItem(twin))!.attachments).toEqual([]);
  expect(p.b.faults.calls.filter((c) => c.startsWith('GET ') && c.includes(big.id))).toHaveLength(1);
}, 90_000);

it('does not read an attachment from the tracker for a partner that is away, however often a private node tries it', async () => {
  const p = await pair('pglite', 'jira', 'ado', { privateB: true, split: true });
  const made = await p.b.human.createItem({ project: p.b.project, type: p.b.itemType, summary: 'Attached while Jira’s node was away' });
  const twin = await p.twinOf('b', made.key);
  await p.server('a').stop();
  const file = await p.b.human.uploadAttachment(made.key, { filename: 'notes.txt', mimeType: 'text/plain', content: Buffer.from('read once') });
  const reads = () => p.b.faults.calls.filter((c) => c.startsWith('GET ') && c.includes(file.id)).length;
  // Every change tries the partner at once, and the retries come on top.
  for (const summary of ['Renamed once', 'Renamed twice', 'Renamed thrice']) {
    await new Promise((r) => setTimeout(r, 700));
    await p.b.human.updateItem(made.key, { summary });
  }
  await new Promise((r) => setTimeout(r, 1_500));
  const whileAway = reads();
  await p.server('a').restart();
  await eventually(async () => expect((await p.a.reader.getItem(twin))!.attachments.map((a) => a.filename)).toEqual(['notes.txt']), 30_000);
  expect((await p.a.reader.getItem(twin))!.summary).toBe('Renamed thrice');
  // The first try after the upload found the partner away only by failing to push it.
  expect(whileAway).toBeLessThanOrEqual(1);
  expect(reads()).toBeLessThanOrEqual(2);
}, 90_000);

it('does not read synced Jira issues again while Jira sends its webhooks', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Watched by webhook' });
  await p.a.human.addComment(made.key, text(p.a.human, 'Hello'));
  const twin = await p.twinOf('a', made.key);
  await eventually(async () => expect((await p.b.reader.getItem(twin))!.comments).toHaveLength(1), 20_000);
  await new Promise((r) => setTimeout(r, 1_500));
  const before = p.a.faults.calls.length;
  // Several of the tests' refresh intervals (1 s): no re-reads, as the webhooks say every change.
  await new Promise((r) => setTimeout(r, 3_500));
  expect(p.a.faults.calls.slice(before).filter((c) => c.includes(`/issue/${made.key}`))).toEqual([]);
}, 60_000);

it('tells a partner that was away when the connection was deleted, at its next delivery, and keeps what it had queued', async () => {
  const p = await pair('pglite', 'jira', 'ado', { split: true });
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Synced before the deletion' });
  const twin = await p.twinOf('a', made.key);
  await p.server('b').stop();
  // The deletion's notice cannot reach Azure DevOps's node, which still thinks the connection Active.
  expect((await p.api('a').delete(`/connections/${p.connectionId}`)).status).toBe(204);
  await p.server('b').restart();
  expect((await p.api('b').get(`/connections/${p.connectionId}`)).body.status).toBe('ACTIVE');

  const inboxOfA = async () =>
    Number(
      (
        await p.server('a').server.nodes.get('a')!.database.query<{ n: string }>(`select count(*) as n from inbox where connection_id = $1`, [p.connectionId])
      )[0]!.n,
    );
  const storedBefore = await inboxOfA();

  await p.b.human.updateItem(twin, { summary: 'Changed after the deletion' });
  await eventually(async () => {
    expect((await p.api('b').get(`/connections/${p.connectionId}`)).body).toMatchObject({
      status: 'ERROR',
      statusReason: expect.stringMatching(/partner deleted/),
    });
  }, 20_000);
  // Refused, not stored: the deleted side keeps nothing for it, and Jira is left as it was.
  expect(await inboxOfA()).toBe(storedBefore);
  expect((await p.a.reader.getItem(made.key))!.summary).toBe('Synced before the deletion');
  // The change stays in the outbox of Azure DevOps's node: nothing is lost, nothing is retried.
  expect((await p.api('b').get(`/connections/${p.connectionId}/queue`)).body).toMatchObject({ outbox: 1 });
}, 60_000);

it('catches a partner up soon after it is back, however many changes tried to reach it while it was down', async () => {
  // Every change tries the partner at once; only the retries that came due make the wait longer.
  // Were each failed try counted, a dozen changes would put the next retry near its 60 s cap.
  const p = await pair('pglite', 'jira', 'ado', { split: true });
  const first = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'backlog 00' });
  await p.twinOf('a', first.key);
  await p.server('b').stop();
  const N = 12;
  for (let i = 1; i <= N; i += 1) await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: `backlog ${String(i).padStart(2, '0')}` });
  await eventually(async () => expect((await p.api('a').get(`/connections/${p.connectionId}/queue`)).body.outbox).toBeGreaterThanOrEqual(N));
  await new Promise((r) => setTimeout(r, 1_500));
  await p.server('b').restart();
  await eventually(async () => expect((await itemsTagged(p.b, 'backlog')).size).toBe(N + 1), 15_000);
  expect([...(await itemsTagged(p.b, 'backlog')).values()].every((n) => n === 1)).toBe(true);
}, 60_000);

it('keeps queuing while the connection is Deactivated and catches up when it is activated', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  expect((await p.api('a').post(`/connections/${p.connectionId}/deactivate`)).body.status).toBe('DEACTIVATED');
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Made while deactivated' });
  await eventually(async () => expect((await p.api('a').get(`/connections/${p.connectionId}/queue`)).body.outbox).toBe(1));
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await itemsTagged(p.b, 'deactivated')).toEqual(new Map());
  expect((await p.api('a').post(`/connections/${p.connectionId}/activate`)).body.status).toBe('ACTIVE');
  const twin = await p.twinOf('a', made.key);
  expect((await p.b.reader.getItem(twin))!.summary).toBe('Made while deactivated');
});

it('unsync stops the pair on both sides and deletes nothing', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'Synced, then not' });
  const twin = await p.twinOf('a', made.key);
  expect((await p.api('a').post(`/connections/${p.connectionId}/items/${made.key}/unsync`)).status).toBe(204);
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/items/${twin}`)).body.status).toBe('UNSYNCED'));
  await p.a.human.updateItem(made.key, { summary: 'Changed after the unsync' });
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await p.b.reader.getItem(twin))!.summary).toBe('Synced, then not');
  expect((await p.a.reader.getItem(made.key))!.summary).toBe('Changed after the unsync');
  expect((await p.api('a').get(`/connections/${p.connectionId}/items/${made.key}`)).body.status).toBe('UNSYNCED');

  // "Sync now" starts it over as a new pair.
  expect((await p.api('a').post(`/connections/${p.connectionId}/sync-now`, { key: made.key })).status).toBe(202);
  const again = await eventually(async () => {
    const item = (await p.api('a').get(`/connections/${p.connectionId}/items/${made.key}`)).body;
    expect(item).toMatchObject({ status: 'SYNCED', remoteKey: expect.not.stringMatching(`^${twin}$`) });
    return item.remoteKey as string;
  }, 20_000);
  expect((await p.b.reader.getItem(again))!.summary).toBe('Changed after the unsync');
  expect((await p.b.reader.getItem(twin))!.summary).toBe('Synced, then not');
});

it('quarantines an item whose rule throws or never ends, keeps syncing the rest, and syncs it once the rule is fixed', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const base = defaultRules('AZURE_DEVOPS').incoming;
  const broken = `if (replica.summary.indexOf('loop') >= 0) { while (true) {} }\nif (replica.summary.indexOf('boom') >= 0) { throw new Error('no team owns ' + replica.key); }\n${base}`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming: broken })).status).toBe(200);
  const loop = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'rule test: loop' });
  const boom = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'rule test: boom' });
  const fine = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'rule test: fine' });
  await p.twinOf('a', fine.key);
  await eventually(async () => {
    const queue = (await p.api('b').get(`/connections/${p.connectionId}/queue`)).body;
    expect(queue.items.FAILED).toBe(2);
  });
  expect((await p.api('b').get(`/connections/${p.connectionId}/items/${loop.key}`)).body).toMatchObject({
    status: 'FAILED',
    error: { code: 'SCRIPT_TIMEOUT', direction: 'incoming', retryable: false },
  });
  expect((await p.api('b').get(`/connections/${p.connectionId}/items/${boom.key}`)).body).toMatchObject({
    status: 'FAILED',
    error: {
      code: 'SCRIPT_ERROR',
      line: 2,
      message: expect.stringMatching(new RegExp(`^The incoming rule failed at line 2, column \\d+: Error: no team owns ${boom.key}$`)),
    },
  });

  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming: null })).body.incomingIsDefault).toBe(true);
  expect((await p.api('b').post(`/connections/${p.connectionId}/retry-failed`)).body).toEqual({ retried: 2 });
  await p.twinOf('a', loop.key);
  await p.twinOf('a', boom.key);
  await eventually(async () => expect((await p.api('b').get(`/connections/${p.connectionId}/queue`)).body.items).toMatchObject({ FAILED: 0, SYNCED: 3 }));
  expect(await itemsTagged(p.b, 'rule test')).toEqual(
    new Map([
      ['rule test: loop', 1],
      ['rule test: boom', 1],
      ['rule test: fine', 1],
    ]),
  );
});

describe('a node process killed in the middle of syncing', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });

  it('is restarted and finishes the work: every item once, nothing lost', async () => {
    const ado = await startTracker('ado');
    const jiraPair = await startTracker('jira');
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'exalate-killed-'));
    const nodesFile = join(dataDir, 'nodes.json');
    writeFileSync(
      nodesFile,
      JSON.stringify([{ id: 'b', tracker: { kind: 'azure-devops', url: ado.tracker.url, secretEnv: 'ADO_PAT', webhooks: true }, adminTokenEnv: 'B_TOKEN' }]),
    );
    const env = {
      ...process.env,
      EXALATE_NODES_FILE: nodesFile,
      EXALATE_PORT: String(port),
      EXALATE_DATA_DIR: dataDir,
      EXALATE_PEER_ALLOW_LOOPBACK: 'true',
      EXALATE_SCAN_INTERVAL_MS: '200',
      EXALATE_RETRY_BASE_MS: '100',
      EXALATE_RETRY_MAX_MS: '2000',
      EXALATE_LOG_LEVEL: 'warn',
      ADO_PAT: 'sync-pat',
      B_TOKEN: 'b-admin-token-0123456789',
    };
    let child: ChildProcess | null = null;
    const startChild = async () => {
      child = spawn(process.execPath, [join(root, 'scripts/start.js')], { env, stdio: 'ignore' });
      await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200), 30_000);
    };
    const b = adminApi(() => `http://127.0.0.1:${port}/nodes/b/api/v1`, env.B_TOKEN);
    const a = await startTestServer('pglite', [
      { id: 'a', tracker: jiraPair.tracker, private: false, modes: ['SCRIPT'], adminToken: 'a-admin-token-0123456789' },
    ]);
    try {
      await startChild();
      const init = await a.api('a').post('/connections', {
        destinationUrl: `http://127.0.0.1:${port}/nodes/b`,
        mode: 'SCRIPT',
        localShortName: 'jira',
        remoteShortName: 'ado',
        project: 'SUP',
      });
      expect((await b.post('/invitations/accept', { code: init.body.invitationCode, project: 'Development' })).status).toBe(201);
      const connectionId = init.body.connection.id as string;
      await a.api('a').post(`/connections/${connectionId}/triggers`, jiraPair.trigger);

      const N = 30;
      for (let i = 0; i < N; i += 1) await jiraPair.human.createItem({ project: 'SUP', type: 'Bug', summary: `crash test ${String(i).padStart(2, '0')}` });
      // Kill it with work half done.
      await eventually(async () => expect((await b.get(`/connections/${connectionId}/queue`)).body.items.SYNCED).toBeGreaterThanOrEqual(3), 30_000);
      child!.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      await startChild();

      await eventually(
        async () => expect((await b.get(`/connections/${connectionId}/queue`)).body.items).toMatchObject({ SYNCED: N, PENDING: 0, FAILED: 0 }),
        45_000,
      );
      const counts = await itemsTagged(ado, 'crash test');
      expect(counts.size).toBe(N);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      (child as ChildProcess | null)?.kill('SIGKILL');
      await a.close();
      await Promise.all([ado.close(), jiraPair.close()]);
    }
  }, 120_000);
});
