import { randomBytes } from 'node:crypto';
import { signPeerRequest } from '../src/index.js';
import { nodeConfig, startTestServer, type TestServer } from './support.js';

/**
 * Signed node-to-node requests, attacked from outside: the "partner" here is the test, holding the
 * real connection key (read through the acceptor's repository) and the real instance ids.
 */
let t: TestServer;
let connectionId: string;
let key: string;
let jiraId: string;
let adoId: string;

beforeAll(async () => {
  t = await startTestServer('pglite', [nodeConfig('jira'), nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' })]);
  const init = await t
    .api('jira')
    .post('/connections', { destinationUrl: t.url('ado'), mode: 'BASIC', localShortName: 'jira', remoteShortName: 'ado', project: 'SUP' });
  connectionId = init.body.connection.id;
  await t.api('ado').post('/invitations/accept', { code: init.body.invitationCode, project: 'SUP' });
  key = (await t.server.nodes.get('ado')!.service.repository.find(connectionId))!.connection_key!;
  jiraId = t.server.nodes.get('jira')!.nodeInfo.instanceId;
  adoId = t.server.nodes.get('ado')!.nodeInfo.instanceId;
});

const path = () => `/api/v1/peer/connections/${connectionId}/poll`;
const body = JSON.stringify({ waitMs: 0 });

async function send(token: string | null, sentBody = body): Promise<{ status: number; code?: string; message?: string }> {
  const res = await fetch(`${t.url('jira')}${path()}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: sentBody,
  });
  const json = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: json.error?.code, message: json.error?.message };
}

const sign = (overrides: { key?: string; issuer?: string; audience?: string; now?: Date; path?: string; body?: string } = {}) =>
  signPeerRequest(
    overrides.key ?? key,
    { connectionId, issuer: overrides.issuer ?? adoId, audience: overrides.audience ?? jiraId },
    { method: 'POST', path: overrides.path ?? path(), body: overrides.body ?? body },
    overrides.now,
  );

it('accepts a correctly signed request', async () => {
  expect(await send(await sign())).toEqual({ status: 200, code: undefined, message: undefined });
});

it('refuses an unsigned request', async () => {
  expect(await send(null)).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED' });
});

it('refuses a bad signature (another key)', async () => {
  expect(await send(await sign({ key: randomBytes(32).toString('base64url') }))).toMatchObject({
    status: 401,
    code: 'PEER_AUTH_FAILED',
    message: expect.stringMatching(/signature/),
  });
});

it('refuses an expired token', async () => {
  const old = new Date(Date.now() - 10 * 60_000);
  expect(await send(await sign({ now: old }))).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED', message: expect.stringMatching(/expired/) });
});

it('refuses a token issued in the future beyond the clock-skew window', async () => {
  const ahead = new Date(Date.now() + 5 * 60_000);
  expect(await send(await sign({ now: ahead }))).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED' });
});

it('refuses a replayed request (same jti)', async () => {
  const token = await sign();
  expect((await send(token)).status).toBe(200);
  expect(await send(token)).toMatchObject({ status: 401, code: 'PEER_REQUEST_REPLAYED' });
});

it('refuses a token bound to another body or path', async () => {
  expect(await send(await sign(), JSON.stringify({ waitMs: 1 }))).toMatchObject({
    status: 401,
    code: 'PEER_AUTH_FAILED',
    message: expect.stringMatching(/different request/),
  });
  expect(await send(await sign({ path: `/api/v1/peer/connections/${connectionId}/notify` }))).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED' });
});

it('refuses a token from another issuer or for another audience', async () => {
  expect(await send(await sign({ issuer: jiraId }))).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED' });
  expect(await send(await sign({ audience: adoId }))).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED' });
});

it('refuses a token signed for another connection', async () => {
  const other = await signPeerRequest(
    key,
    { connectionId: '00000000-0000-4000-8000-000000000000', issuer: adoId, audience: jiraId },
    { method: 'POST', path: path(), body },
  );
  expect(await send(other)).toMatchObject({ status: 401, code: 'PEER_AUTH_FAILED' });
});
