import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdoSimulator, type RunningSimulator } from '../src/index.js';

const auth = (pat = 'alice-pat') => ({ authorization: `Basic ${Buffer.from(`:${pat}`).toString('base64')}` });
let sim: AdoSimulator;
let running: RunningSimulator;
const started: RunningSimulator[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.close();
});
async function start(s: AdoSimulator) {
  sim = s;
  running = await s.listen();
  started.push(running);
  return running;
}
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${running.url}/acme${path}`, {
    method,
    headers: {
      ...auth(),
      ...(body === undefined ? {} : { 'content-type': Array.isArray(body) ? 'application/json-patch+json' : 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('api-version', () => {
  beforeEach(() => start(new AdoSimulator()));

  it('is required, in the query or the Accept header', async () => {
    const none = await call('GET', '/_apis/projects');
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ typeKey: 'VssVersionNotSpecifiedException', message: expect.stringMatching(/No api-version was supplied/) });
    expect((await call('GET', '/_apis/projects?api-version=7.1')).status).toBe(200);
    expect((await call('GET', '/_apis/projects', undefined, { accept: 'application/json; api-version=7.1' })).status).toBe(200);
  });

  it('refuses a version above 7.2 and a preview resource called without -preview', async () => {
    expect(await (await call('GET', '/_apis/projects?api-version=9.0')).json()).toMatchObject({ typeKey: 'VssVersionOutOfRangeException' });
    await call('POST', '/Development/_apis/wit/workitems/$Bug?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: 'x' }]);
    const res = await call('GET', '/Development/_apis/wit/workitems/1/comments?api-version=7.1');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ typeKey: 'VssInvalidPreviewVersionException' });
  });

  it('requires the JSON Patch media type for work item writes', async () => {
    const res = await fetch(`${running.url}/acme/Development/_apis/wit/workitems/$Bug?api-version=7.1`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '[]',
    });
    expect(res.status).toBe(415);
  });
});

describe('rate limiting and faults', () => {
  it('answers 429 with Retry-After and X-RateLimit-* once the budget is spent', async () => {
    await start(new AdoSimulator({ rateLimit: { limit: 2, windowMs: 60_000 } }));
    expect((await call('GET', '/_apis/projects?api-version=7.1')).headers.get('x-ratelimit-remaining')).toBe('1');
    expect((await call('GET', '/_apis/projects?api-version=7.1')).status).toBe(200);
    const limited = await call('GET', '/_apis/projects?api-version=7.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-resource')).toBe('Core');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
    expect(await limited.json()).toMatchObject({ typeKey: 'RequestThrottledException' });
    // The budget is per identity.
    expect((await call('GET', '/_apis/projects?api-version=7.1', undefined, auth('sync-pat'))).status).toBe(200);
  });

  it('answers injected faults, then recovers', async () => {
    await start(new AdoSimulator());
    sim.faults.inject({ status: 503, times: 2, retryAfter: 3, match: /projects/ });
    const first = await call('GET', '/_apis/projects?api-version=7.1');
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('3');
    expect((await call('GET', '/_apis/projects?api-version=7.1')).status).toBe(503);
    expect((await call('GET', '/_apis/projects?api-version=7.1')).status).toBe(200);
    expect(sim.faults.answered.map((a) => a.status)).toEqual([503, 503, 200]);
  });

  it('holds a request until something else has happened, then answers it as usual', async () => {
    await start(new AdoSimulator());
    const order: string[] = [];
    sim.faults.inject({
      times: 1,
      match: /projects\/Development/,
      until: async () => {
        order.push('held');
        // Another request while the first one waits: the simulator keeps serving.
        expect((await call('GET', '/_apis/projects?api-version=7.1')).status).toBe(200);
        order.push('other answered');
      },
    });
    const held = await call('GET', '/_apis/projects/Development?api-version=7.1');
    order.push('held answered');
    expect(held.status).toBe(200);
    expect(order).toEqual(['held', 'other answered', 'held answered']);
    expect((await call('GET', '/_apis/projects/Development?api-version=7.1')).status).toBe(200);
    expect(sim.faults.answered.map((a) => a.status)).toEqual([200, 200, 200]);
  });
});

describe('service hooks', () => {
  it('POSTs workitem.created, workitem.updated and workitem.commented events with basic auth', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event payloads are read field by field
    const received: Array<{ headers: IncomingMessage['headers']; body: Record<string, any> }> = [];
    const receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(data) });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await start(new AdoSimulator());
    const project = (await (await call('GET', '/_apis/projects/Development?api-version=7.1')).json()) as { id: string };
    for (const eventType of ['workitem.created', 'workitem.updated', 'workitem.commented']) {
      const res = await call('POST', '/_apis/hooks/subscriptions?api-version=7.1', {
        publisherId: 'tfs',
        eventType,
        resourceVersion: '1.0',
        consumerId: 'webHooks',
        consumerActionId: 'httpRequest',
        publisherInputs: { projectId: project.id },
        consumerInputs: { url: hook, basicAuthUsername: 'exalate', basicAuthPassword: 's3cret' },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { consumerInputs: Record<string, string> }).consumerInputs['basicAuthPassword']).toBe('********');
    }
    await call('POST', '/Development/_apis/wit/workitems/$Bug?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: 'Hooked' }]);
    await call('PATCH', '/_apis/wit/workitems/1?api-version=7.1', [{ op: 'add', path: '/fields/System.State', value: 'Active' }]);
    await call('POST', '/Development/_apis/wit/workitems/1/comments?api-version=7.1-preview.4', { text: 'Looking' });
    // Items in another project do not match the subscriptions.
    await call('POST', '/Operations/_apis/wit/workitems/$Issue?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: 'Elsewhere' }]);
    await sim.settled();
    receiver.close();
    expect(received.map((r) => r.body['eventType'])).toEqual(['workitem.created', 'workitem.updated', 'workitem.commented']);
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('exalate:s3cret').toString('base64')}`);
    expect(received[0]!.body['resource']).toMatchObject({ id: 1, fields: { 'System.Title': 'Hooked' } });
    expect(received[1]!.body['resource']).toMatchObject({
      workItemId: 1,
      fields: { 'System.State': { oldValue: 'New', newValue: 'Active' } },
      revision: { id: 1, rev: 2 },
    });
    expect(received[2]!.body['resource']).toMatchObject({ id: 1, fields: { 'System.History': 'Looking' } });
    expect(received[0]!.body['resourceContainers']).toMatchObject({ project: { id: project.id } });
  });
});

describe('service hook payloads', () => {
  it('carry as much of the resource and the messages as the subscription asks for, as the service does', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event payloads are read field by field
    const received = new Map<string, Record<string, any>>();
    const receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.set(String(req.url), JSON.parse(data));
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    await start(new AdoSimulator());
    const project = (await (await call('GET', '/_apis/projects/Development?api-version=7.1')).json()) as { id: string };
    const subscribe = (path: string, eventType: string, inputs: Record<string, string>, scoped = true) =>
      call('POST', '/_apis/hooks/subscriptions?api-version=7.1', {
        publisherId: 'tfs',
        eventType,
        resourceVersion: '1.0',
        consumerId: 'webHooks',
        consumerActionId: 'httpRequest',
        publisherInputs: scoped ? { projectId: project.id } : {},
        consumerInputs: { url: `${base}${path}`, ...inputs },
      });
    expect((await subscribe('/all', 'workitem.updated', { resourceDetailsToSend: 'all', messagesToSend: 'text', detailedMessagesToSend: 'none' })).status).toBe(
      200,
    );
    expect(
      (await subscribe('/minimal', 'workitem.updated', { resourceDetailsToSend: 'minimal', messagesToSend: 'none', detailedMessagesToSend: 'markdown' }))
        .status,
    ).toBe(200);
    expect((await subscribe('/none', 'workitem.created', { resourceDetailsToSend: 'none' })).status).toBe(200);
    // Without the controls: everything for a project's subscription, the minimum for the collection's.
    expect((await subscribe('/project-default', 'workitem.created', {})).status).toBe(200);
    expect((await subscribe('/collection-default', 'workitem.created', {}, false)).status).toBe(200);
    const refused = await subscribe('/bad', 'workitem.created', { resourceDetailsToSend: 'everything' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ message: expect.stringContaining('resourceDetailsToSend') });

    await call('POST', '/Development/_apis/wit/workitems/$Bug?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: 'Shaped' }]);
    await call('PATCH', '/_apis/wit/workitems/1?api-version=7.1', [{ op: 'add', path: '/fields/System.State', value: 'Active' }]);
    await sim.settled();
    receiver.close();
    const all = received.get('/all')!;
    expect(all['resource']).toMatchObject({ workItemId: 1, rev: 2, revision: { id: 1, rev: 2 } });
    expect(all['message']).toEqual({ text: expect.stringContaining('#1 (Shaped) updated') });
    expect(all['detailedMessage']).toBeNull();
    const minimal = received.get('/minimal')!;
    expect(minimal['resource']).toEqual({ id: expect.any(Number), workItemId: 1, url: expect.stringContaining('/_apis/wit/workItems/1/updates/') });
    expect(minimal['message']).toBeNull();
    expect(Object.keys(minimal['detailedMessage'])).toEqual(['markdown']);
    expect(received.get('/none')!['resource']).toBeNull();
    const projectDefault = received.get('/project-default')!;
    expect(projectDefault['resource']).toMatchObject({ id: 1, rev: 1, fields: { 'System.Title': 'Shaped' } });
    expect(Object.keys(projectDefault['message']).sort()).toEqual(['html', 'markdown', 'text']);
    const collectionDefault = received.get('/collection-default')!;
    expect(collectionDefault['resource']).toEqual({ id: 1, url: expect.stringContaining('/_apis/wit/workItems/1') });
    expect(collectionDefault['message']).toBeNull();
  });
});

describe('project-scoped routes', () => {
  beforeEach(() => start(new AdoSimulator()));

  it('answer a project that does not hold the work item as a missing work item', async () => {
    await call('POST', '/Development/_apis/wit/workitems/$Bug?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: 'Scoped' }]);
    const added = await call('POST', '/Development/_apis/wit/workitems/1/comments?api-version=7.1-preview.4', { text: 'Here' });
    expect(added.status).toBe(200);
    const { id } = (await added.json()) as { id: number };
    for (const [method, path, body] of [
      ['POST', '/Operations/_apis/wit/workitems/1/comments?api-version=7.1-preview.4', { text: 'There' }],
      ['GET', '/Operations/_apis/wit/workitems/1/comments?api-version=7.1-preview.4', undefined],
      ['PATCH', `/Operations/_apis/wit/workitems/1/comments/${id}?api-version=7.1-preview.4`, { text: 'Edited' }],
    ] as const) {
      const res = await call(method, path, body);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ typeKey: 'WorkItemUnauthorizedAccessException', message: expect.stringContaining('TF401232') });
    }
    // The project's id works like its name.
    const project = (await (await call('GET', '/_apis/projects/Development?api-version=7.1')).json()) as { id: string };
    expect((await call('GET', `/${project.id}/_apis/wit/workitems/1/comments?api-version=7.1-preview.4`)).status).toBe(200);
  });
});

describe('state file', () => {
  it('keeps work items across a restart', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'ado-sim-')), 'state.json');
    await start(new AdoSimulator({ stateFile }));
    await call('POST', '/Development/_apis/wit/workitems/$Task?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: 'Persisted' }]);
    sim.save();
    await start(new AdoSimulator({ stateFile }));
    expect(await (await call('GET', '/_apis/wit/workitems/1?api-version=7.1')).json()).toMatchObject({ fields: { 'System.Title': 'Persisted' } });
  });
});

describe('fields', () => {
  it('lists the organization’s fields, custom ones with their types, and checks a value by the field’s type', async () => {
    await start(new AdoSimulator({ seed: { customFields: [{ referenceName: 'Custom.Region', name: 'Region', type: 'string' }] } }));
    const listed = (await (await call('GET', '/Development/_apis/wit/fields?api-version=7.1')).json()) as {
      count: number;
      value: Array<{ referenceName: string; name: string; type: string }>;
    };
    expect(listed.count).toBe(listed.value.length);
    expect(listed.value.filter((f) => f.referenceName.startsWith('Custom.'))).toEqual([
      expect.objectContaining({ referenceName: 'Custom.Customer', name: 'Customer', type: 'string' }),
      expect.objectContaining({ referenceName: 'Custom.Effort', name: 'Effort', type: 'double' }),
      expect.objectContaining({ referenceName: 'Custom.Region', name: 'Region', type: 'string' }),
    ]);
    expect((await call('GET', '/Nowhere/_apis/wit/fields?api-version=7.1')).status).toBe(404);
    const bad = await call('POST', '/Development/_apis/wit/workitems/$Task?api-version=7.1', [
      { op: 'add', path: '/fields/System.Title', value: 'Effort' },
      { op: 'add', path: '/fields/Custom.Effort', value: 'lots' },
    ]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('is not a number');
    const made = await call('POST', '/Development/_apis/wit/workitems/$Task?api-version=7.1', [
      { op: 'add', path: '/fields/System.Title', value: 'Effort' },
      { op: 'add', path: '/fields/Effort', value: '2.5' },
    ]);
    expect(((await made.json()) as { fields: Record<string, unknown> }).fields['Custom.Effort']).toBe(2.5);
  });
});

describe('links', () => {
  it('a work item has one parent link at most', async () => {
    await start(new AdoSimulator());
    const make = async (title: string) =>
      (
        (await (
          await call('POST', '/Development/_apis/wit/workitems/$Epic?api-version=7.1', [{ op: 'add', path: '/fields/System.Title', value: title }])
        ).json()) as { id: number }
      ).id;
    const [a, b] = [await make('A'), await make('B')];
    const parent = (id: number) => ({
      op: 'add',
      path: '/relations/-',
      value: { rel: 'System.LinkTypes.Hierarchy-Reverse', url: `${running.url}/acme/_apis/wit/workItems/${id}` },
    });
    const child = await call('POST', '/Development/_apis/wit/workitems/$Task?api-version=7.1', [
      { op: 'add', path: '/fields/System.Title', value: 'C' },
      parent(a),
      parent(b),
    ]);
    expect(child.status).toBe(400);
    expect(((await child.json()) as { message: string }).message).toContain('TF201036');
  });
});
