import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { createHash } from 'node:crypto';
import { JiraConnector } from '@exalate/connectors';
import { DECLARED_ROUTES, signPeerRequest } from '../src/index.js';
import { eventually, nodeConfig, sharedTracker, startTestServer, type TestServer } from './support.js';

/**
 * docs/api/openapi.yaml against the running server: the documented routes are exactly the
 * declared ones, every documented operation is exercised, every answer matches the schema
 * documented for its status, and every request the server accepted matches the documented request body.
 */
const specPath = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/api/openapi.yaml');
type Operation = {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
};
const spec = parseYaml(readFileSync(specPath, 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, unknown> };
};

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi.json');

const pointer = (...segments: string[]) => '#/' + segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

const documented = new Set<string>();
for (const [path, item] of Object.entries(spec.paths)) {
  for (const method of Object.keys(item)) if (['get', 'post', 'delete', 'put', 'patch'].includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
}
const covered = new Set<string>();

function templateOf(method: string, concrete: string): string {
  for (const path of Object.keys(spec.paths)) {
    const re = new RegExp('^' + path.replace(/\{[^}]+\}/g, '[^/]+') + '$');
    if (re.test(concrete.split('?')[0]!) && spec.paths[path]![method.toLowerCase()]) return path;
  }
  throw new Error(`${method} ${concrete} is not documented in openapi.yaml`);
}

function validate(what: string, schemaRef: string, value: unknown) {
  const check = ajv.getSchema(`openapi.json${schemaRef}`) ?? ajv.compile({ $ref: `openapi.json${schemaRef}` });
  if (!check(value)) throw new Error(`${what} does not match openapi.yaml: ${ajv.errorsText(check.errors)}\n${JSON.stringify(value, null, 2)}`);
}

let t: TestServer;
async function call(node: string, method: string, path: string, body?: unknown, auth: string | null = `Bearer ${t.token(node)}`) {
  const template = templateOf(method, path);
  const op = spec.paths[template]![method.toLowerCase()]!;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const res = await fetch(`${t.url(node)}${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(text === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(text === undefined ? {} : { body: text }),
  });
  const binary = res.headers.get('content-type')?.startsWith('application/octet-stream') ?? false;
  const raw = binary ? '' : await res.text();
  const bytes = binary ? Buffer.from(await res.arrayBuffer()) : null;
  const json: unknown = raw ? JSON.parse(raw) : null;
  const status = String(res.status);
  const response = op.responses[status];
  if (!response) throw new Error(`${method} ${template} answered ${status}, which openapi.yaml does not document: ${raw}`);
  const resolved = response.$ref ? (spec.components.responses[response.$ref.split('/').pop()!] as typeof response) : response;
  if (binary) {
    if (!resolved.content?.['application/octet-stream']) throw new Error(`${method} ${template} ${status} sent bytes, which openapi.yaml does not document`);
  } else if (resolved.content) {
    const where = response.$ref
      ? pointer('components', 'responses', response.$ref.split('/').pop()!, 'content', 'application/json', 'schema')
      : pointer('paths', template, method.toLowerCase(), 'responses', status, 'content', 'application/json', 'schema');
    validate(`response ${status} of ${method} ${template}`, where, json);
  } else if (raw !== '') {
    throw new Error(`${method} ${template} ${status} is documented without a body but sent: ${raw}`);
  }
  // A request the server accepted must be one the document allows (bad requests are sent on purpose).
  if (body !== undefined && op.requestBody && res.ok) {
    validate(`request ${method} ${template}`, pointer('paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'), body);
  }
  covered.add(`${method} ${template}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the fields it needs
  return { status: res.status, body: json as any, bytes, headers: res.headers };
}

beforeAll(async () => {
  t = await startTestServer('pglite', [
    nodeConfig('jira'),
    nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' }),
    nodeConfig('snow', { nodeType: 'SERVICENOW', private: true }),
    nodeConfig('dc', { nodeType: 'JIRA_SERVER' }),
  ]);
});

it('documents exactly the routes the server declares', () => {
  expect([...DECLARED_ROUTES].sort()).toEqual([...documented].sort());
});

it('answers every documented operation as documented', async () => {
  expect((await call('jira', 'GET', '/api/v1/node-info', undefined, null)).body.nodeType).toBe('JIRA_CLOUD');
  expect((await call('jira', 'GET', '/api/v1/projects')).body.projects.length).toBeGreaterThan(0);
  expect((await call('jira', 'GET', '/api/v1/connections', undefined, 'Bearer wrong')).status).toBe(401);
  expect((await call('jira', 'POST', '/api/v1/destinations/probe', { url: t.url('ado') })).status).toBe(200);
  expect((await call('jira', 'POST', '/api/v1/destinations/probe', { url: 'nope' })).status).toBe(400);

  // Pairing the Exalate app in Jira Data Center
  const pairing = await call('dc', 'POST', '/api/v1/settings/tracker-app/pairing-code');
  expect(pairing.status).toBe(201);
  expect((await call('jira', 'POST', '/api/v1/settings/tracker-app/pairing-code')).status).toBe(404);
  const dcJira = (await call('dc', 'GET', '/api/v1/node-info', undefined, null)).body.trackerUrl as string;
  expect((await call('dc', 'POST', '/api/v1/tracker-app/pair', { pairingCode: pairing.body.pairingCode, trackerBaseUrl: dcJira }, null)).status).toBe(200);
  expect((await call('dc', 'POST', '/api/v1/tracker-app/pair', { pairingCode: pairing.body.pairingCode, trackerBaseUrl: dcJira }, null)).status).toBe(409);
  expect((await call('dc', 'POST', '/api/v1/tracker-app/pair', { pairingCode: 'nope', trackerBaseUrl: dcJira }, null)).status).toBe(400);

  // public – public
  const init = await call('jira', 'POST', '/api/v1/connections', {
    destinationUrl: t.url('ado'),
    mode: 'SCRIPT',
    localShortName: 'jira',
    remoteShortName: 'ado',
    project: 'SUP',
    description: 'd',
  });
  expect(init.status).toBe(201);
  expect(
    (await call('jira', 'POST', '/api/v1/connections', { destinationUrl: null, mode: 'SCRIPT', localShortName: 'a b', remoteShortName: 'ado', project: 'SUP' }))
      .status,
  ).toBe(400);
  const id = init.body.connection.id as string;
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/invitation`)).status).toBe(200);
  expect((await call('ado', 'POST', '/api/v1/invitations/preview', { code: init.body.invitationCode })).status).toBe(200);
  expect((await call('ado', 'POST', '/api/v1/invitations/preview', { code: 'garbage' })).status).toBe(400);
  expect((await call('ado', 'POST', '/api/v1/invitations/accept', { code: init.body.invitationCode, project: 'SUP' })).status).toBe(201);
  expect((await call('ado', 'POST', '/api/v1/invitations/accept', { code: init.body.invitationCode, project: 'SUP' })).status).toBe(409);
  expect((await call('jira', 'GET', `/api/v1/connections/${id}`)).body.status).toBe('ACTIVE');
  expect((await call('jira', 'GET', '/api/v1/connections/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/invitation`)).status).toBe(409);
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/deactivate`)).body.status).toBe('DEACTIVATED');
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/activate`)).body.status).toBe('ACTIVE');
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/activate`)).status).toBe(409);
  expect((await call('jira', 'PUT', `/api/v1/connections/${id}/project`, { project: 'DEV' })).body.project).toBe('DEV');
  expect((await call('jira', 'PUT', `/api/v1/connections/${id}/project`, { project: 'NOPE' })).status).toBe(400);
  expect((await call('jira', 'PUT', `/api/v1/connections/${id}/project`, { project: 'SUP' })).body.project).toBe('SUP');
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/revoke-invitation`)).status).toBe(409);

  // public – private, exercising the long poll's answer as the private node sees it
  const toPrivate = await call('jira', 'POST', '/api/v1/connections', {
    destinationUrl: null,
    mode: 'BASIC',
    localShortName: 'jira',
    remoteShortName: 'snow',
    project: 'SUP',
  });
  expect((await call('snow', 'POST', '/api/v1/invitations/accept', { code: toPrivate.body.invitationCode, project: 'incident' })).body.connection.status).toBe(
    'ACTIVE',
  );

  // Peer API, called as the partner would (the key is read from the partner's database).
  const key = (await t.server.nodes.get('ado')!.service.repository.find(id))!.connection_key!;
  const ids = { connectionId: id, issuer: t.server.nodes.get('ado')!.nodeInfo.instanceId, audience: t.server.nodes.get('jira')!.nodeInfo.instanceId };
  const signed = async (path: string, body: unknown) => `Bearer ${await signPeerRequest(key, ids, { method: 'POST', path, body: JSON.stringify(body) })}`;
  const peer = (path: string, body: unknown, auth: string | null) => call('jira', 'POST', path, body, auth);

  const confirmPath = `/api/v1/peer/connections/${id}/confirm`;
  expect((await peer(confirmPath, {}, await signed(confirmPath, {}))).status).toBe(204);
  expect((await peer(confirmPath, {}, null)).status).toBe(401);
  const pollPath = `/api/v1/peer/connections/${id}/poll`;
  expect((await peer(pollPath, { waitMs: 0 }, await signed(pollPath, { waitMs: 0 }))).body).toEqual({ status: 'ACTIVE', events: [] });
  expect((await peer(pollPath, { waitMs: -1 }, await signed(pollPath, { waitMs: -1 }))).status).toBe(400);
  const fakeNonce = 'A'.repeat(43);
  const acceptBody = { protocolVersion: 1, connectionId: id, acceptor: { node: t.server.nodes.get('ado')!.nodeInfo }, nonce: fakeNonce, proof: fakeNonce };
  expect((await peer('/api/v1/peer/handshake/accept', acceptBody, null)).status).toBe(409);
  expect((await peer('/api/v1/peer/handshake/accept', { ...acceptBody, connectionId: '00000000-0000-4000-8000-000000000000' }, null)).status).toBe(404);
  expect((await peer('/api/v1/peer/handshake/accept', { nonce: 'x' }, null)).status).toBe(400);
  const claimBody = {
    protocolVersion: 1,
    connectionId: '00000000-0000-4000-8000-000000000000',
    initiatorInstanceId: ids.issuer,
    nonce: fakeNonce,
    proof: fakeNonce,
  };
  expect((await peer('/api/v1/peer/handshake/claim', claimBody, null)).body).toEqual({ accepted: false });
  expect((await peer('/api/v1/peer/handshake/verify', { connectionId: id, nonce: fakeNonce }, null)).body).toEqual({ accepting: false });
  expect((await peer('/api/v1/peer/handshake/verify', { connectionId: id }, null)).status).toBe(400);
  const notifyPath = `/api/v1/peer/connections/${id}/notify`;
  expect((await peer(notifyPath, { event: 'connection.deleted' }, await signed(notifyPath, { event: 'connection.deleted' }))).status).toBe(204);
  expect((await call('jira', 'GET', `/api/v1/connections/${id}`)).body.status).toBe('ERROR');

  expect((await call('jira', 'DELETE', `/api/v1/connections/${id}`)).status).toBe(204);
  expect((await call('jira', 'DELETE', `/api/v1/connections/${id}`)).status).toBe(404);
  const pending = await call('jira', 'POST', '/api/v1/connections', {
    destinationUrl: null,
    mode: 'BASIC',
    localShortName: 'jira',
    remoteShortName: 'x',
    project: 'SUP',
    name: 'to-revoke',
  });
  expect((await call('jira', 'POST', `/api/v1/connections/${pending.body.connection.id}/revoke-invitation`)).status).toBe(204);
  expect((await call('ado', 'POST', '/api/v1/invitations/accept', { code: pending.body.invitationCode, project: 'SUP' })).status).toBe(410);

  await eventually(async () => expect((await call('snow', 'GET', '/api/v1/connections')).body.connections[0].status).toBe('ACTIVE'));
});

it('answers the sync operations as documented', async () => {
  const jira = await sharedTracker('JIRA_CLOUD');
  const alice = new JiraConnector({ baseUrl: jira.url, deployment: 'cloud', auth: { email: 'alice@acme.example', apiToken: 'alice-token' } });
  const init = await call('jira', 'POST', '/api/v1/connections', {
    destinationUrl: t.url('ado'),
    mode: 'SCRIPT',
    localShortName: 'jira',
    remoteShortName: 'ado',
    project: 'SUP',
    name: 'sync-ops',
  });
  const id = init.body.connection.id as string;
  expect((await call('ado', 'POST', '/api/v1/invitations/accept', { code: init.body.invitationCode, project: 'DEV' })).status).toBe(201);
  const basic = (await call('jira', 'GET', '/api/v1/connections')).body.connections.find((c: { mode: string }) => c.mode === 'BASIC');

  // Rules
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/rules`)).body).toMatchObject({ editable: true, outgoingIsDefault: true });
  expect(
    (await call('jira', 'PUT', `/api/v1/connections/${id}/rules`, { outgoing: 'replica.key = issue.key;\nreplica.summary = ;' })).body.error,
  ).toMatchObject({ code: 'SYNC_RULE_INVALID', fields: { outgoing: expect.stringContaining('line 2') } });
  const withLabel = `${(await call('jira', 'GET', `/api/v1/connections/${id}/rules`)).body.outgoing}replica.labels = (replica.labels || []).concat(['from-jira']);\n`;
  expect((await call('jira', 'PUT', `/api/v1/connections/${id}/rules`, { outgoing: withLabel })).body).toMatchObject({
    outgoingIsDefault: false,
    incomingIsDefault: true,
  });
  expect((await call('jira', 'PUT', `/api/v1/connections/${basic.id}/rules`, { outgoing: 'replica.key = issue.key;' })).status).toBe(409);
  expect((await call('jira', 'GET', '/api/v1/connections/00000000-0000-4000-8000-000000000000/rules')).status).toBe(404);

  // Triggers
  const first = await alice.createItem({ project: 'SUP', type: 'Bug', summary: 'Synced by the openapi test', labels: ['openapi'] });
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/triggers/preview`, { query: 'labels = openapi' })).body.items).toEqual([
    expect.objectContaining({ key: first.key, summary: 'Synced by the openapi test' }),
  ]);
  // What a trigger's item type is chosen from: the tracker's types, once each.
  const types = (await call('jira', 'GET', '/api/v1/item-types')).body.itemTypes as string[];
  expect(types).toEqual(expect.arrayContaining(['Bug', 'Task']));
  expect(new Set(types).size).toBe(types.length);
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/triggers`, { query: 'labels = = openapi' })).body.error.code).toBe('TRIGGER_QUERY_INVALID');
  const trigger = await call('jira', 'POST', `/api/v1/connections/${id}/triggers`, { query: 'labels = openapi' });
  expect(trigger.status).toBe(201);
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/triggers`)).body.triggers).toHaveLength(1);
  expect((await call('jira', 'PUT', `/api/v1/connections/${id}/triggers/${trigger.body.id}`, { query: 'labels = openapi', active: false })).body.active).toBe(
    false,
  );
  expect((await call('jira', 'PUT', `/api/v1/connections/${id}/triggers/00000000-0000-4000-8000-000000000000`, { query: '' })).status).toBe(404);

  // Bulk sync, sync now, items, queue
  const bulk = await call('jira', 'POST', `/api/v1/connections/${id}/triggers/${trigger.body.id}/bulk-sync`);
  expect(bulk.body).toMatchObject({ total: 1 });
  await eventually(async () =>
    expect((await call('jira', 'GET', `/api/v1/connections/${id}/bulk-syncs/${bulk.body.id}`)).body).toMatchObject({ synced: 1, done: true }),
  );
  const item = (await call('jira', 'GET', `/api/v1/connections/${id}/items/${first.key}`)).body;
  expect(item).toMatchObject({ localKey: first.key, status: 'SYNCED', localReplica: { labels: ['openapi', 'from-jira'] } });
  expect((await call('ado', 'GET', `/api/v1/connections/${id}/items/${first.key}`)).body).toMatchObject({
    remoteKey: first.key,
    remoteReplica: { summary: 'Synced by the openapi test' },
  });
  const second = await alice.createItem({ project: 'SUP', type: 'Task', summary: 'Synced now' });
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/sync-now`, { key: second.key })).status).toBe(202);
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/sync-now`, { key: 'SUP-9999' })).status).toBe(404);
  await eventually(async () => expect((await call('jira', 'GET', `/api/v1/connections/${id}/items/${second.key}`)).body.status).toBe('SYNCED'));
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/items?limit=10`)).body.items).toHaveLength(2);
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/queue`)).body).toMatchObject({ items: { SYNCED: 2, FAILED: 0 } });
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/items/${second.key}/retry`)).status).toBe(202);
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/retry-failed`)).body).toEqual({ retried: 0 });
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/items/${second.key}/unsync`)).status).toBe(204);
  expect((await call('jira', 'POST', `/api/v1/connections/${id}/items/${second.key}/retry`)).status).toBe(409);
  expect((await call('jira', 'GET', `/api/v1/connections/${id}/items/NOPE-1`)).status).toBe(404);
  expect((await call('jira', 'DELETE', `/api/v1/connections/${id}/triggers/${trigger.body.id}`)).status).toBe(204);
  expect((await call('jira', 'DELETE', `/api/v1/connections/${id}/triggers/${trigger.body.id}`)).status).toBe(404);

  // The tracker's webhooks need the subscription's secret (these nodes did not subscribe).
  expect((await call('jira', 'POST', '/api/v1/tracker-events', { webhookEvent: 'jira:issue_updated' }, null)).status).toBe(401);

  // Peer sync messages, signed as the partner signs them.
  const key = (await t.server.nodes.get('ado')!.service.repository.find(id))!.connection_key!;
  const ids = { connectionId: id, issuer: t.server.nodes.get('ado')!.nodeInfo.instanceId, audience: t.server.nodes.get('jira')!.nodeInfo.instanceId };
  const signed = async (method: string, path: string, body: unknown) =>
    `Bearer ${await signPeerRequest(key, ids, { method, path, body: body === undefined ? '' : JSON.stringify(body) })}`;
  const eventsPath = `/api/v1/peer/connections/${id}/events`;
  const events = {
    events: [{ id: '6f1c1c4e-8f1a-4c55-9d7e-2f7f6c1e0a11', seq: 1, kind: 'ack', itemKey: 'SUP-404', payload: { key: '404', url: 'http://x' } }],
  };
  expect((await call('jira', 'POST', eventsPath, events, await signed('POST', eventsPath, events))).body).toEqual({ received: 1 });
  expect((await call('jira', 'POST', eventsPath, { events: [{ seq: 0 }] }, await signed('POST', eventsPath, { events: [{ seq: 0 }] }))).status).toBe(400);
  const blobsPath = `/api/v1/peer/connections/${id}/blobs`;
  const content = Buffer.from('bytes');
  const blob = { itemKey: '7', attachmentId: 'a1', sha256: createHash('sha256').update(content).digest('hex'), contentBase64: content.toString('base64') };
  expect((await call('jira', 'POST', blobsPath, blob, await signed('POST', blobsPath, blob))).status).toBe(204);
  const bad = { ...blob, contentBase64: Buffer.from('other').toString('base64') };
  expect((await call('jira', 'POST', blobsPath, bad, await signed('POST', blobsPath, bad))).status).toBe(400);
  await alice.uploadAttachment(first.key, { filename: 'a.txt', mimeType: 'text/plain', content: Buffer.from('attached') });
  const attachment = await eventually(async () => {
    const sent = (await call('jira', 'GET', `/api/v1/connections/${id}/items/${first.key}`)).body.localReplica.attachments;
    expect(sent).toHaveLength(1);
    return sent[0].id as string;
  });
  const attachmentPath = `/api/v1/peer/connections/${id}/items/${first.key}/attachments/${attachment}`;
  const got = await call('jira', 'GET', attachmentPath, undefined, await signed('GET', attachmentPath, undefined));
  expect(got.bytes?.toString()).toBe('attached');
  expect(got.headers.get('x-exalate-sha256')).toBe(createHash('sha256').update('attached').digest('hex'));
  const otherPath = `/api/v1/peer/connections/${id}/items/${second.key}/attachments/${attachment}`;
  expect((await call('jira', 'GET', otherPath, undefined, await signed('GET', otherPath, undefined))).status).toBe(404);
});

it('answers the settings operations as documented', async () => {
  expect((await call('ado', 'GET', '/api/v1/settings')).body.tracker.credential).toEqual({ source: 'configuration', updatedAt: null, problem: null });
  expect((await call('ado', 'PUT', '/api/v1/settings/tracker-credential', { secret: '' })).status).toBe(400);
  const refused = await call('ado', 'PUT', '/api/v1/settings/tracker-credential', { secret: 'not-a-token' });
  expect(refused.status).toBe(400);
  expect(refused.body.error.code).toBe('TRACKER_CREDENTIAL_REJECTED');
  const set = await call('ado', 'PUT', '/api/v1/settings/tracker-credential', { secret: 'alice-pat' });
  expect(set.body.tracker.credential.source).toBe('settings');
  expect(JSON.stringify(set.body)).not.toContain('alice-pat');
  expect((await call('ado', 'DELETE', '/api/v1/settings/tracker-credential')).body.tracker.credential.source).toBe('configuration');
});

it('exercises every documented operation', () => {
  expect([...documented].filter((op) => !covered.has(op))).toEqual([]);
});
