import { nodeConfig, startTestServer, type TestServer } from './support.js';

// The Exalate application in a ServiceNow instance and its node: pairing by the node's one-time
// code, the instance's forwarded calls (its key and its name, checked before any body is read),
// no cross-origin answers at all (the page never calls the node), and where incoming records go.

let t: TestServer;
let instanceUrl: string;
beforeAll(async () => {
  t = await startTestServer('pglite', [
    nodeConfig('snow', { nodeType: 'SERVICENOW' }),
    nodeConfig('snow2', { nodeType: 'SERVICENOW' }),
    nodeConfig('jira', { nodeType: 'JIRA_CLOUD' }),
  ]);
  instanceUrl = (await t.api('snow').get('/node-info')).body.trackerUrl as string;
});
afterAll(async () => {
  await t?.close();
});

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
const pairingCode = async (node = 'snow') => (await t.api(node).post('/settings/tracker-app/pairing-code')).body.pairingCode as string;
const pair = async (node = 'snow'): Promise<string> => {
  const res = await fetch(`${t.url(node)}/api/v1/tracker-app/pair`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pairingCode: await pairingCode(node), trackerBaseUrl: instanceUrl }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { key: string }).key;
};
/** A call as the application's Scripted REST API forwards it. */
const forwarded = (key: string, o: { node?: string; instance?: string; path?: string; method?: string; body?: string } = {}) =>
  fetch(`${t.url(o.node ?? 'snow')}/api/v1${o.path ?? '/connections'}`, {
    method: o.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, 'x-exalate-instance': o.instance ?? instanceUrl, 'content-type': 'application/json' },
    ...(o.body === undefined ? {} : { body: o.body }),
  });

it('before pairing, a forwarded call is told to pair, with where to do it', async () => {
  const res = await forwarded('x'.repeat(43), { node: 'snow2' });
  expect(res.status).toBe(401);
  expect((await errorOf(res)).message).toMatch(/not paired.*All → Exalate → Settings/);
});

it("the paired instance's key admits its forwarded calls; another key, another instance or another node does not", async () => {
  const key = await pair();
  expect((await forwarded(key)).status).toBe(200);
  expect((await forwarded(key)).status).toBe(200);
  const wrongKey = await forwarded('A'.repeat(43));
  expect(wrongKey.status).toBe(401);
  expect((await errorOf(wrongKey)).message).toMatch(/not the one this node gave it/);
  const otherInstance = await forwarded(key, { instance: 'https://other.service-now.com' });
  expect(otherInstance.status).toBe(401);
  expect((await errorOf(otherInstance)).message).toMatch(/paired with the ServiceNow instance at/);
  // The wrong tenant: the same key at another ServiceNow node, and at a Jira node.
  expect((await forwarded(key, { node: 'snow2' })).status).toBe(401);
  expect((await forwarded(key, { node: 'jira' })).status).toBe(401);
  // Without the instance's header the key is no admin token.
  expect((await fetch(`${t.url('snow')}/api/v1/connections`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  // The operator's admin token still works beside it.
  expect((await t.api('snow').get('/connections')).status).toBe(200);

  // Pairing again replaces the key.
  const newer = await pair();
  expect((await forwarded(key)).status).toBe(401);
  expect((await forwarded(newer)).status).toBe(200);
});

it('a forwarded call is checked before its body is read; bad bodies are refused clearly', async () => {
  const key = await pair();
  expect((await forwarded('B'.repeat(43), { method: 'POST', path: '/invitations/preview', body: '{"not":"read"' })).status).toBe(401);
  expect((await errorOf(await forwarded(key, { method: 'POST', path: '/invitations/preview', body: '{"code":' }))).code).toBe('VALIDATION_FAILED');
  expect((await errorOf(await forwarded(key, { method: 'POST', path: '/invitations/preview', body: JSON.stringify({ code: 'a\u0000b' }) }))).code).toBe(
    'INVALID_CHARACTER',
  );
  expect((await forwarded(key, { method: 'POST', path: '/invitations/preview', body: JSON.stringify({ code: 'x'.repeat(2_000_000) }) })).status).toBe(413);
});

it('answers no browser: the page calls the instance, never the node', async () => {
  const preflight = await fetch(`${t.url('snow')}/api/v1/connections`, {
    method: 'OPTIONS',
    headers: { origin: instanceUrl, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
});

it('Configure sync changes the table incoming records go to, among those the instance has', async () => {
  const jira = t.api('jira');
  const created = await jira.post('/connections', {
    destinationUrl: t.url('snow'),
    mode: 'SCRIPT',
    localShortName: 'jira',
    remoteShortName: 'snow',
    project: (await jira.get('/projects')).body.projects[0].key,
  });
  expect(created.status).toBe(201);
  const accepted = await t.api('snow').post('/invitations/accept', { code: created.body.invitationCode, project: 'incident' });
  expect(accepted.status).toBe(201);
  const id = accepted.body.connection.id as string;
  const tables = ((await t.api('snow').get('/projects')).body.projects as Array<{ key: string }>).map((p) => p.key);
  expect(tables).toEqual(expect.arrayContaining(['incident', 'problem']));
  const moved = await t.api('snow').put(`/connections/${id}/project`, { project: 'problem' });
  expect(moved).toMatchObject({ status: 200, body: { project: 'problem' } });
  expect((await t.api('snow').get(`/connections/${id}`)).body.project).toBe('problem');
  expect(await t.api('snow').put(`/connections/${id}/project`, { project: 'sys_user' })).toMatchObject({
    status: 400,
    body: { error: { code: 'PROJECT_UNKNOWN' } },
  });
  expect(await t.api('snow').put(`/connections/${id}/project`, { project: '' })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  expect(await t.api('snow').put('/connections/3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77/project', { project: 'problem' })).toMatchObject({ status: 404 });
  expect(
    (
      await fetch(`${t.url('snow')}/api/v1/connections/${id}/project`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"project":"incident"}',
      })
    ).status,
  ).toBe(401);
});
