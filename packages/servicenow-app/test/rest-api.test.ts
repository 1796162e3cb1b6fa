// The application's Scripted REST API as the instance runs it (the committed update set's own
// script include), without a browser: who may call it, what it forwards, and what it refuses.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExalateServer } from '@exalate/backend';
import { ServiceNowSimulator, type RunningSimulator } from '@exalate/simulators';
import { AdminApiClient } from '@exalate/wizard-core';
import { startTestServer } from '../../ado-hub/test/support.js';
import { UPDATE_SET } from '../build.mjs';

let sim: ServiceNowSimulator;
let instance: RunningSimulator;
/** A partner's instance, without the application: its node only initiates here. */
let partner: RunningSimulator;
let server: ExalateServer;
let dataDir: string;
const API = () => `${instance.url}/api/x_exalate_sync/exalate`;
const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}`;
const nodeUrl = () => `${server.publicUrl}/nodes/snow`;

beforeAll(async () => {
  sim = new ServiceNowSimulator();
  sim.installApp(readFileSync(UPDATE_SET, 'utf8'));
  instance = await sim.listen();
  partner = await new ServiceNowSimulator().listen();
  dataDir = mkdtempSync(join(tmpdir(), 'exalate-sn-rest-'));
  server = await startTestServer({
    dataDir,
    schemaPrefix: 'snrest_',
    nodes: [
      {
        id: 'snow',
        tracker: { kind: 'servicenow', url: instance.url, user: 'exalate', secret: 'exalate-password' },
        private: false,
        modes: ['SCRIPT'],
        adminToken: 'admin-snow-0123456789abcdef',
      },
      {
        id: 'partner',
        tracker: { kind: 'servicenow', url: partner.url, user: 'exalate', secret: 'exalate-password' },
        private: false,
        modes: ['SCRIPT'],
        adminToken: 'admin-partner-0123456789abcdef',
      },
    ],
  });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await instance?.close();
  await partner?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (path: string, o: { method?: string; auth?: string | null; headers?: Record<string, string>; body?: string } = {}) =>
  fetch(`${API()}${path}`, {
    method: o.method ?? 'GET',
    headers: { ...(o.auth === null ? {} : { authorization: o.auth ?? basic('admin') }), 'content-type': 'application/json', ...o.headers },
    ...(o.body === undefined ? {} : { body: o.body }),
  });
const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as { error?: { code?: string; message: string }; result?: unknown } });

test('before pairing: settings are empty, forwarding says to pair, nothing is published', async () => {
  expect(await json(await call('/settings'))).toEqual({ status: 200, body: { result: { nodeUrl: null, pairedAt: null, pairedBy: null } } });
  expect(await json(await call('/node?path=%2Fconnections'))).toMatchObject({ status: 409, body: { error: { code: 'TRACKER_APP_NOT_PAIRED' } } });
  expect((await call('/published-node', { auth: null })).status).toBe(404);
});

test('a session call needs its session token; no credentials, a wrong password, or a user without the role is refused before any script runs', async () => {
  expect((await call('/settings', { auth: null })).status).toBe(401);
  expect((await call('/settings', { auth: `Basic ${Buffer.from('admin:wrong').toString('base64')}` })).status).toBe(401);
  const bob = await json(await call('/settings', { auth: basic('bob') }));
  expect(bob.status).toBe(403);
  expect(bob.body.error?.message).toBe('User Not Authorized');
  // A signed-in browser without X-UserToken (a cross-site form, another origin's script).
  const login = await fetch(`${instance.url}/login.do`, {
    method: 'POST',
    body: new URLSearchParams({ user_name: 'admin', user_password: 'admin-password' }),
    redirect: 'manual',
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  expect((await call('/settings', { auth: null, headers: { cookie } })).status).toBe(401);
  expect((await call('/settings', { auth: null, headers: { cookie, 'x-usertoken': 'not-the-token' } })).status).toBe(401);
});

test("pairing: a damaged, oversized or malformed request is refused with what to do; the node's own refusal comes through", async () => {
  expect(await json(await call('/pair', { method: 'POST', body: '{"pairingCode":' }))).toMatchObject({
    status: 400,
    body: { error: { code: 'PAIRING_CODE_INVALID' } },
  });
  expect(await json(await call('/pair', { method: 'POST', body: JSON.stringify({ pairingCode: 'EXPAIR1.x\u0000.y.z' }) }))).toMatchObject({
    status: 400,
    body: { error: { code: 'PAIRING_CODE_INVALID' } },
  });
  expect(await json(await call('/pair', { method: 'POST', body: JSON.stringify({ pairingCode: 'x'.repeat(9000) }) }))).toMatchObject({
    status: 413,
    body: { error: { code: 'REQUEST_TOO_LARGE' } },
  });
  // A well-formed code the node never issued (another node's, or a forged secret).
  const forged = `EXPAIR1.${Buffer.from(nodeUrl()).toString('base64url')}.3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77.${'A'.repeat(43)}`;
  expect(await json(await call('/pair', { method: 'POST', body: JSON.stringify({ pairingCode: forged }) }))).toMatchObject({
    status: 409,
    body: { error: { code: 'PAIRING_CODE_USED' } },
  });
});

test("paired: forwards the node's admin API with the instance's key, only by a plain path of it, and the node admits nothing else", async () => {
  const issued = await new AdminApiClient({ nodeUrl: nodeUrl(), authorization: () => 'Bearer admin-snow-0123456789abcdef' }).issuePairingCode();
  if (!issued.ok) throw new Error(issued.error.message);
  expect(await json(await call('/pair', { method: 'POST', body: JSON.stringify({ pairingCode: issued.value.pairingCode }) }))).toEqual({
    status: 200,
    body: { result: { nodeUrl: nodeUrl() } },
  });
  expect((await json(await call('/settings'))).body.result).toMatchObject({ nodeUrl: nodeUrl(), pairedBy: 'admin' });
  expect(await (await call('/published-node', { auth: null })).json()).toEqual({ product: 'exalate', nodeUrl: nodeUrl() });
  // A partner who enters this instance's own address reaches its node.
  const probed = await new AdminApiClient({
    nodeUrl: `${server.publicUrl}/nodes/partner`,
    authorization: () => 'Bearer admin-partner-0123456789abcdef',
  }).probeDestination(instance.url);
  expect(probed).toMatchObject({ ok: true, value: { url: nodeUrl(), nodeType: 'SERVICENOW', trackerUrl: instance.url } });

  expect(await json(await call('/node?path=%2Fconnections'))).toEqual({ status: 200, body: { connections: [] } });
  const info = (await (await call('/node?path=%2Fnode-info')).json()) as { nodeType: string };
  expect(info.nodeType).toBe('SERVICENOW');
  // The node's own refusals come back as they are (a bad body here).
  expect(await json(await call('/node?path=%2Finvitations%2Fpreview', { method: 'POST', body: '{"code":' }))).toMatchObject({
    status: 400,
    body: { error: { code: 'VALIDATION_FAILED' } },
  });
  expect(await json(await call('/node?path=%2Finvitations%2Fpreview', { method: 'POST', body: JSON.stringify({ code: 'a\u0000b' }) }))).toMatchObject({
    status: 400,
    body: { error: { code: 'INVALID_CHARACTER' } },
  });
  expect(await json(await call('/node?path=%2Fconnections%2F%2500', {}))).toMatchObject({ status: 400, body: { error: { code: 'INVALID_CHARACTER' } } });
  // Nothing but a path of the node's admin API: no other host, no way out of /api/v1.
  for (const path of ['//evil.example.com/x', '/../../other', 'http://evil.example.com/', '', '/connections#x']) {
    expect([path, (await json(await call(`/node?path=${encodeURIComponent(path)}`))).body.error?.code]).toEqual([path, 'VALIDATION_FAILED']);
  }
  expect(
    await json(await call('/node?path=%2Finvitations%2Fpreview', { method: 'POST', body: JSON.stringify({ code: 'x'.repeat(1_100_000) }) })),
  ).toMatchObject({ status: 413, body: { error: { code: 'REQUEST_TOO_LARGE' } } });

  // The key lives in the instance's encrypted column; the node takes it only with the instance's name.
  const key = sim.state.tables['x_exalate_sync_setting']!.find((r) => r['name'] === 'key')!['secret']!;
  const direct = await fetch(`${nodeUrl()}/api/v1/connections`, {
    headers: { authorization: `Bearer ${key}`, 'x-exalate-instance': 'https://evil.service-now.com' },
  });
  expect(direct.status).toBe(401);
});
