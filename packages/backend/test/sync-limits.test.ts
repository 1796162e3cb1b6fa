import { randomUUID } from 'node:crypto';
import { MAX_TEXT_FIELD_BYTES } from '@exalate/contract';
import { defaultRules } from '@exalate/scripting';
import { eventually } from './support.js';
import { pairPerTest, plain } from './sync-support.js';

/**
 * The sync's bounds hold without stopping the node: a rule that never ends runs beside the admin
 * API and the other items, a text past the sync's size limits fails only its item (with the field
 * named), and a long text is converted in a rule thread, not on the server's main thread.
 */

const pair = pairPerTest();

/** Wiki markup of about `bytes` (Jira Data Center's description format). */
const wiki = (bytes: number) => {
  let text = '';
  while (text.length < bytes) text += 'Steps to reproduce with *bold* words, _emphasis_ and a [link|https://example.com].\n* first step\n* second step\n\n';
  return text;
};

it('answers the admin API while an incoming rule loops, before the rule is stopped', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const runner = p.server('b').server.runner;
  const looping = `if (replica.summary.indexOf('loop') >= 0) { while (true) {} }\n${defaultRules('AZURE_DEVOPS').incoming}`;
  expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming: looping })).status).toBe(200);
  const loop = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'rule test: loop' });
  // The rule is running: a thread has been busy for a fifth of a second (other runs take a millisecond)…
  let busySince: number | null = null;
  await eventually(
    () => {
      busySince = runner.busy > 0 ? (busySince ?? Date.now()) : null;
      expect(busySince !== null && Date.now() - busySince >= 200).toBe(true);
    },
    20_000,
    5,
  );
  // …and meanwhile the node answers, on both of its APIs.
  const answered = await Promise.all([
    p.api('b').get('/connections'),
    p.api('b').get(`/connections/${p.connectionId}/queue`),
    fetch(`${p.server('b').url('b')}/api/v1/node-info`),
  ]);
  const stillRunning = runner.busy > 0;
  const itemThen = (await p.api('b').get(`/connections/${p.connectionId}/items/${loop.key}`)).body;
  expect(answered.map((r) => r.status)).toEqual([200, 200, 200]);
  expect(stillRunning).toBe(true);
  expect(itemThen.status).not.toBe('FAILED');
  // Then the rule is stopped at its limit, and only its item fails.
  await eventually(async () =>
    expect((await p.api('b').get(`/connections/${p.connectionId}/items/${loop.key}`)).body).toMatchObject({
      status: 'FAILED',
      error: { code: 'SCRIPT_TIMEOUT' },
    }),
  );
  const fine = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'rule test: fine' });
  await p.twinOf('a', fine.key);
});

it('fails an item whose text is larger than the sync takes, names the field, and syncs the rest', async () => {
  const p = await pair('pglite', 'jira-dc', 'ado');
  const big = await p.a.human.createItem({
    project: 'SUP',
    type: 'Bug',
    summary: 'size test: big',
    description: { format: 'jira-wiki', value: wiki(MAX_TEXT_FIELD_BYTES + 10_000) },
  });
  const small = await p.a.human.createItem({
    project: 'SUP',
    type: 'Bug',
    summary: 'size test: small',
    description: { format: 'jira-wiki', value: 'A few words.' },
  });
  await p.twinOf('a', small.key);
  const failed = await eventually(async () => {
    const item = (await p.api('a').get(`/connections/${p.connectionId}/items/${big.key}`)).body;
    expect(item).toMatchObject({ status: 'FAILED', error: { code: 'REPLICA_TOO_LARGE', direction: 'outgoing', retryable: false } });
    return item;
  });
  expect(failed.error.message).toMatch(
    new RegExp(`^${big.key} is too large to send in its description: 2\\d\\d KB, more than the 256 KB the sync takes for one text\\.`),
  );

  // An outgoing rule that leaves the long text out makes it fit; a retry then syncs it.
  expect(
    (
      await p.api('a').put(`/connections/${p.connectionId}/rules`, {
        outgoing: `${defaultRules('JIRA_SERVER').outgoing}replica.description = { format: 'plain', value: 'See the original issue.' };`,
      })
    ).status,
  ).toBe(200);
  expect((await p.api('a').post(`/connections/${p.connectionId}/items/${big.key}/retry`)).status).toBe(202);
  const twin = await p.twinOf('a', big.key);
  expect(plain((await p.b.reader.getItem(twin))!.description)).toBe('See the original issue.');
});

it('refuses a replica from the partner that is larger than the sync takes, with the partner’s field named', async () => {
  const p = await pair('pglite', 'jira', 'ado');
  const node = p.server('b').server.nodes.get('b')!;
  const row = (await node.service.repository.find(p.connectionId))!;
  // As a partner with other limits (or none) would send it.
  const replica = { key: 'SUP-999', summary: 'huge', description: { format: 'plain', value: 'x'.repeat(MAX_TEXT_FIELD_BYTES + 1) } };
  await node.engine.receive(row, [{ id: randomUUID(), seq: 999_001, kind: 'replica', itemKey: 'SUP-999', payload: { replica, twinKey: null } }]);
  const item = await eventually(async () => {
    const found = (await p.api('b').get(`/connections/${p.connectionId}/items/SUP-999`)).body;
    expect(found).toMatchObject({ status: 'FAILED', error: { code: 'REPLICA_TOO_LARGE', direction: 'incoming' } });
    return found;
  });
  expect(item.error.message).toMatch(
    /^The partner's replica of SUP-999 is too large in its description: 257 KB, more than the 256 KB the sync takes for one text\./,
  );
});

it('converts a long text in a rule thread, and the item arrives whole', async () => {
  const p = await pair('pglite', 'jira-dc', 'ado');
  const runner = p.server('a').server.runner;
  const before = runner.conversions;
  const long = wiki(120_000);
  const made = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'long text', description: { format: 'jira-wiki', value: long } });
  const twin = await p.twinOf('a', made.key);
  const html = String((await p.b.reader.getItem(twin))!.description?.value);
  expect(html).toContain('<strong>bold</strong>');
  expect(html.split('<li>').length - 1).toBe(long.split('* first step').length - 1 + long.split('* second step').length - 1);
  // Wiki markup became HTML off the main thread, on the side that applied it.
  expect(runner.conversions).toBeGreaterThan(before);
});
