import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JiraSimulator, parseJql, jqlDate, type RunningSimulator } from '../src/index.js';

const basic = { authorization: `Basic ${Buffer.from('alice@acme.example:alice-token').toString('base64')}` };
const doc = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });
let running: RunningSimulator | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

async function start(sim: JiraSimulator) {
  running = await sim.listen();
  return (method: string, path: string, body?: unknown) =>
    fetch(`${running!.url}${path}`, {
      method,
      headers: { ...basic, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

it('delivers webhook events that match the JQL filter, signed with the secret', async () => {
  const received: Array<{ body: string; signature: string | undefined }> = [];
  const receiver = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      received.push({ body: data, signature: req.headers['x-hub-signature'] as string | undefined });
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const sim = new JiraSimulator();
  const call = await start(sim);
  const hook = await call('POST', '/rest/webhooks/1.0/webhook', {
    name: 'exalate',
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/jira`,
    events: ['jira:issue_created', 'jira:issue_updated', 'comment_created'],
    filters: { 'issue-related-events-section': 'project = SUP' },
    secret: 'hook-secret',
  });
  expect(hook.status).toBe(201);
  await call('POST', '/rest/api/3/issue', { fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: 'Watched' } });
  await call('POST', '/rest/api/3/issue', { fields: { project: { key: 'ENG' }, issuetype: { name: 'Task' }, summary: 'Not watched' } });
  await call('PUT', '/rest/api/3/issue/SUP-1', { fields: { summary: 'Watched, edited' } });
  await call('POST', '/rest/api/3/issue/SUP-1/comment', { body: doc('hi') });
  await sim.settled();
  receiver.close();
  const events = received.map((r) => JSON.parse(r.body) as { webhookEvent: string; issue: { key: string }; changelog?: { items: Array<{ field: string }> } });
  expect(events.map((e) => [e.webhookEvent, e.issue.key])).toEqual([
    ['jira:issue_created', 'SUP-1'],
    ['jira:issue_updated', 'SUP-1'],
    ['comment_created', 'SUP-1'],
  ]);
  expect(events[1]!.changelog!.items.map((i) => i.field)).toEqual(['summary']);
  for (const r of received) expect(r.signature).toBe(`sha256=${createHmac('sha256', 'hook-secret').update(r.body).digest('hex')}`);
});

it('answers 429 with Retry-After once the budget is spent, and injected 5xx', async () => {
  const sim = new JiraSimulator({ rateLimit: { limit: 1, windowMs: 60_000 } });
  const call = await start(sim);
  expect((await call('GET', '/rest/api/3/myself')).status).toBe(200);
  const limited = await call('GET', '/rest/api/3/myself');
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await limited.json()).toEqual({ errorMessages: ['Rate limit exceeded.'], errors: {} });
  const faulty = new JiraSimulator();
  await running!.close();
  const again = await start(faulty);
  faulty.faults.inject({ status: 500, times: 1 });
  const failed = await again('GET', '/rest/api/3/myself');
  expect(failed.status).toBe(500);
  expect(await failed.json()).toEqual({ errorMessages: ['Internal server error.'], errors: {} });
  expect((await again('GET', '/rest/api/3/myself')).status).toBe(200);
});

it('refuses v3 on Data Center and v2 on Cloud', async () => {
  const cloud = await start(new JiraSimulator({ seed: { flavor: 'cloud' } }));
  expect((await cloud('GET', '/rest/api/2/myself')).status).toBe(404);
  await running!.close();
  const dc = new JiraSimulator({ seed: { flavor: 'datacenter' } });
  running = await dc.listen();
  const res = await fetch(`${running.url}/rest/api/3/myself`, {
    headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` },
  });
  expect(res.status).toBe(404);
});

it('lists its custom fields and checks what an issue is given in them, as Jira does', async () => {
  const call = await start(new JiraSimulator({ seed: { customFields: [{ name: 'Region', type: 'string' }] } }));
  const fields = (await (await call('GET', '/rest/api/3/field')).json()) as Array<{ id: string; name: string; custom: boolean; schema: { type: string } }>;
  expect(fields.filter((f) => f.custom).map((f) => [f.id, f.name, f.schema.type])).toEqual([
    ['customfield_10010', 'Customer', 'string'],
    ['customfield_10011', 'Story Points', 'number'],
    ['customfield_10012', 'Target Date', 'date'],
    ['customfield_10100', 'Region', 'string'],
  ]);
  const create = (fields: Record<string, unknown>) =>
    call('POST', '/rest/api/3/issue', { fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: 'Fields', ...fields } });
  const refused = async (fields: Record<string, unknown>) => {
    const res = await create(fields);
    expect(res.status).toBe(400);
    return ((await res.json()) as { errors: Record<string, string> }).errors;
  };
  expect(await refused({ customfield_99999: 'x' })).toEqual({
    customfield_99999: "Field 'customfield_99999' cannot be set. It is not on the appropriate screen, or unknown.",
  });
  expect(await refused({ customfield_10011: 'five' })).toEqual({ customfield_10011: 'Operation value must be a number' });
  expect(await refused({ customfield_10012: '12/01/2026' })).toEqual({ customfield_10012: 'Error parsing date string: 12/01/2026' });
  const made = (await (await create({ customfield_10010: 'Acme', customfield_10011: 5, customfield_10100: 'EMEA' })).json()) as { key: string };
  await call('PUT', `/rest/api/3/issue/${made.key}`, { fields: { customfield_10010: null } });
  const issue = (await (await call('GET', `/rest/api/3/issue/${made.key}`)).json()) as { fields: Record<string, unknown> };
  expect(issue.fields['customfield_10011']).toBe(5);
  expect(issue.fields['customfield_10100']).toBe('EMEA');
  expect(issue.fields['customfield_10010'] ?? null).toBeNull();
});

it("takes a parent one level up the issue types' hierarchy only, and shows it on the child", async () => {
  const call = await start(new JiraSimulator());
  const create = async (type: string, extra: Record<string, unknown> = {}) =>
    call('POST', '/rest/api/3/issue', { fields: { project: { key: 'SUP' }, issuetype: { name: type }, summary: type, ...extra } });
  const epic = (await (await create('Epic')).json()) as { id: string; key: string };
  const task = (await (await create('Task')).json()) as { key: string };
  const refused = await create('Bug', { parent: { key: task.key } });
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ errors: { parent: 'Given parent work item does not belong to appropriate hierarchy.' } });
  const child = (await (await create('Bug', { parent: { id: epic.id } })).json()) as { key: string };
  const read = (await (await call('GET', `/rest/api/3/issue/${child.key}`)).json()) as { fields: { parent?: { key: string } } };
  expect(read.fields.parent?.key).toBe(epic.key);
});

it("keeps an issue's due date, components, fix versions and resolution, as Jira does", async () => {
  const call = await start(new JiraSimulator());
  expect(((await (await call('GET', '/rest/api/3/project/SUP/components')).json()) as Array<{ name: string }>).map((c) => c.name)).toEqual(['Web', 'API']);
  expect(((await (await call('GET', '/rest/api/3/project/SUP/versions')).json()) as Array<{ name: string }>).map((c) => c.name)).toEqual(['1.0', '2.0']);
  expect(((await (await call('GET', '/rest/api/3/resolution')).json()) as Array<{ name: string }>).map((c) => c.name)).toEqual([
    'Done',
    "Won't Do",
    'Duplicate',
  ]);
  const create = (fields: Record<string, unknown>) =>
    call('POST', '/rest/api/3/issue', { fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: 'Planned', ...fields } });
  const bad = await create({ components: [{ name: 'Mobile' }], duedate: '24.12.2026' });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { errors: Record<string, string> }).errors).toEqual({
    components: "Component name 'Mobile' is not valid",
    duedate: 'Error parsing date string: 24.12.2026',
  });
  const made = (await (await create({ duedate: '2026-12-24', components: [{ name: 'Web' }], fixVersions: [{ name: '2.0' }] })).json()) as { key: string };
  const read = async () => ((await (await call('GET', `/rest/api/3/issue/${made.key}`)).json()) as { fields: Record<string, unknown> }).fields;
  expect(await read()).toMatchObject({ duedate: '2026-12-24', components: [{ name: 'Web' }], fixVersions: [{ name: '2.0' }], resolution: null });
  // The simplified workflow: Done sets the resolution, leaving Done clears it.
  await call('POST', `/rest/api/3/issue/${made.key}/transitions`, { transition: { id: '31' } });
  expect((await read())['resolution']).toMatchObject({ name: 'Done' });
  await call('POST', `/rest/api/3/issue/${made.key}/transitions`, { transition: { id: '21' } });
  expect((await read())['resolution']).toBeNull();
});

describe('JQL', () => {
  it('parses what triggers use and reports errors as Jira does', () => {
    expect(
      parseJql('project = SUP AND (labels in (a, "b c") OR status != Done) AND updated >= "2024/01/02 10:30" ORDER BY updated ASC, key DESC'),
    ).toMatchObject({
      orderBy: [
        { field: 'updated', descending: false },
        { field: 'key', descending: true },
      ],
    });
    expect(() => parseJql('project = ')).toThrow(/Expecting either a value, list or function/);
    expect(() => parseJql('project SUP')).toThrow(/Expecting operator/);
    expect(() => parseJql('summary ~ "unterminated')).toThrow(/has not been completed/);
  });

  it('reads dates with minute precision and relative offsets', () => {
    expect(jqlDate({ kind: 'text', value: '2024/01/02 10:30', quoted: true })).toBe(Date.UTC(2024, 0, 2, 10, 30));
    expect(jqlDate({ kind: 'text', value: '2024-01-02', quoted: true })).toBe(Date.UTC(2024, 0, 2));
    const now = new Date('2024-05-05T12:00:00Z');
    expect(jqlDate({ kind: 'text', value: '-15m', quoted: false }, now)).toBe(now.getTime() - 15 * 60_000);
    expect(jqlDate({ kind: 'text', value: '2024-01-02T10:30:00Z', quoted: true })).toBeNull();
  });

  it('filters by updated at minute precision, as Jira does', async () => {
    const sim = new JiraSimulator();
    const call = await start(sim);
    await call('POST', '/rest/api/3/issue', { fields: { project: { key: 'SUP' }, issuetype: { name: 'Task' }, summary: 'Now' } });
    const issue = sim.state.issues[0]!;
    const minute = new Date(Date.parse(issue.updated.replace('+0000', 'Z')));
    const stamp = `${minute.getUTCFullYear()}/${String(minute.getUTCMonth() + 1).padStart(2, '0')}/${String(minute.getUTCDate()).padStart(2, '0')} ${String(minute.getUTCHours()).padStart(2, '0')}:${String(minute.getUTCMinutes()).padStart(2, '0')}`;
    const found = (await (await call('GET', `/rest/api/3/search/jql?jql=${encodeURIComponent(`updated >= "${stamp}"`)}`)).json()) as { issues: unknown[] };
    expect(found.issues).toHaveLength(1);
    const bad = await call('GET', `/rest/api/3/search/jql?jql=${encodeURIComponent('updated >= "2024-01-02T10:30:00Z"')}`);
    expect(bad.status).toBe(400);
  });
});
