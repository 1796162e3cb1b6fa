import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { decodePairingCode, JIRA_APP_NODE_PATH } from '@exalate/contract';
import { migrate, openPglite, SecretBox, TrackerApp } from '../src/index.js';
import { nodeConfig, quietLogger, sharedTracker, startTestServer, type TestServer } from './support.js';

// The Exalate app inside Jira Data Center and its node: the one-time pairing code, the key it gets
// for it, the admin tokens it mints (each checked for signature, issuer, audience, expiry, life and
// replay), the one origin the node answers cross-origin, and a Jira URL entered as the destination.

/** A stand-in for a Jira with the Exalate app: publishes `nodeUrl()` at the app's public path. */
async function jiraWithApp(o: { nodeUrl: () => string | null; version?: string }): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const node = o.nodeUrl();
    if (req.url === JIRA_APP_NODE_PATH && node) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ product: 'exalate', nodeUrl: node }));
    } else if (req.url === '/rest/api/2/serverInfo') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, version: o.version ?? '9.12.2', deploymentType: 'Server' }),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>Not found</html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

let t: TestServer;
let jira: Awaited<ReturnType<typeof jiraWithApp>>;
let dcNodeUrl: string | null = null;
beforeAll(async () => {
  jira = await jiraWithApp({ nodeUrl: () => dcNodeUrl });
  const dcTracker = await sharedTracker('JIRA_SERVER');
  t = await startTestServer('pglite', [
    // The Data Center node's Jira is the stand-in, so its app can point at it.
    nodeConfig('dc', { tracker: { ...dcTracker, url: jira.url } }),
    nodeConfig('dc2', { nodeType: 'JIRA_SERVER' }),
    nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' }),
  ]);
  dcNodeUrl = t.url('dc');
});
afterAll(async () => {
  await t?.close();
  await jira?.close();
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const pairUrl = () => `${t.url('dc')}/api/v1/tracker-app/pair`;

async function pairingCode(node = 'dc'): Promise<string> {
  const res = await t.api(node).post('/settings/tracker-app/pairing-code');
  expect(res.status).toBe(201);
  return res.body.pairingCode as string;
}

/** Pairs the dc node with the stand-in Jira and returns the key. */
async function pair(): Promise<string> {
  const res = await post(pairUrl(), { pairingCode: await pairingCode(), trackerBaseUrl: jira.url });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { key: string; issuer: string; audience: string };
  expect(body).toEqual({ key: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), issuer: jira.url, audience: t.url('dc') });
  return body.key;
}

function token(key: string, o: { iss?: string; aud?: string; sub?: string; jti?: string | null; ttlS?: number; ageS?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000) - (o.ageS ?? 0);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(o.iss ?? jira.url)
    .setAudience(o.aud ?? t.url('dc'))
    .setSubject(o.sub ?? 'admin')
    .setIssuedAt(now)
    .setExpirationTime(now + (o.ttlS ?? 120));
  if (o.jti !== null) jwt.setJti(o.jti ?? randomUUID());
  return jwt.sign(Buffer.from(key, 'base64url'));
}

const listWith = (jwt: string, node = 'dc') => fetch(`${t.url(node)}/api/v1/connections`, { headers: { authorization: `Bearer ${jwt}` } });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe('pairing', () => {
  it('a pairing code is for the operator only, names its node, and exists only on a Data Center node', async () => {
    expect((await fetch(`${t.url('dc')}/api/v1/settings/tracker-app/pairing-code`, { method: 'POST' })).status).toBe(401);
    const code = decodePairingCode(await pairingCode());
    expect(code).toMatchObject({ nodeUrl: t.url('dc') });
    expect(await t.api('ado').post('/settings/tracker-app/pairing-code')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await post(`${t.url('ado')}/api/v1/tracker-app/pair`, { pairingCode: 'x', trackerBaseUrl: jira.url })).status).toBe(404);
  });

  it("a code pairs once, from the node's own Jira only; a newer code replaces an older one", async () => {
    const code = await pairingCode();
    // Another Jira with this node's code (the wrong tenant).
    const other = await post(pairUrl(), { pairingCode: code, trackerBaseUrl: 'https://jira.other.example.com' });
    expect(other.status).toBe(403);
    expect((await errorOf(other)).code).toBe('PAIRING_WRONG_TRACKER');
    // Another node's code.
    const foreign = await post(pairUrl(), { pairingCode: await pairingCode('dc2'), trackerBaseUrl: jira.url });
    expect((await errorOf(foreign)).code).toBe('PAIRING_CODE_INVALID');
    // A code with its secret changed.
    const parts = code.split('.');
    const forged = [...parts.slice(0, 3), 'A'.repeat(43)].join('.');
    expect((await errorOf(await post(pairUrl(), { pairingCode: forged, trackerBaseUrl: jira.url }))).code).toBe('PAIRING_CODE_INVALID');

    const newer = await pairingCode();
    expect((await errorOf(await post(pairUrl(), { pairingCode: code, trackerBaseUrl: jira.url }))).code).toBe('PAIRING_CODE_USED');
    expect((await post(pairUrl(), { pairingCode: newer, trackerBaseUrl: `${jira.url}/` })).status).toBe(200);
    expect((await errorOf(await post(pairUrl(), { pairingCode: newer, trackerBaseUrl: jira.url }))).code).toBe('PAIRING_CODE_USED');
  });

  it('refuses malformed, oversized and NUL-carrying pairing calls clearly', async () => {
    expect((await errorOf(await post(pairUrl(), '{"pairingCode":'))).code).toBe('VALIDATION_FAILED');
    expect((await errorOf(await post(pairUrl(), { pairingCode: 'EXPAIR1.x\u0000', trackerBaseUrl: jira.url }))).code).toBe('INVALID_CHARACTER');
    const big = await post(pairUrl(), { pairingCode: 'x'.repeat(20_000), trackerBaseUrl: jira.url });
    expect(big.status).toBe(413);
    expect((await errorOf(await post(pairUrl(), { pairingCode: 'not a code', trackerBaseUrl: jira.url }))).code).toBe('PAIRING_CODE_INVALID');
  });

  it('a code expires after 30 minutes', async () => {
    const db = await openPglite(null);
    await migrate(db);
    let now = Date.parse('2026-12-01T10:00:00Z');
    const config = await nodeConfig('unit', { nodeType: 'JIRA_SERVER' });
    const app = new TrackerApp({
      config,
      db,
      secrets: new SecretBox(Buffer.alloc(32, 7)),
      logger: quietLogger,
      nodeUrl: 'http://127.0.0.1:1/nodes/unit',
      now: () => now,
    });
    const { pairingCode: code, expiresAt } = await app.issuePairingCode();
    expect(expiresAt).toBe('2026-12-01T10:30:00.000Z');
    now += 31 * 60_000;
    await expect(app.pair({ pairingCode: code, trackerBaseUrl: config.tracker.url })).rejects.toMatchObject({ code: 'PAIRING_CODE_EXPIRED' });
    await db.close();
  });
});

describe("the app's admin tokens", () => {
  let key: string;
  beforeAll(async () => {
    key = await pair();
  });

  it("admit one call each, for the paired Jira's admin", async () => {
    const jwt = await token(key);
    expect((await listWith(jwt)).status).toBe(200);
    const again = await listWith(jwt);
    expect(again.status).toBe(401);
    expect((await errorOf(again)).message).toMatch(/used already/);
    // The operator's admin token still works beside them.
    expect((await t.api('dc').get('/connections')).status).toBe(200);
  });

  it('refuse another key, another Jira, another node, an expired or long-lived token, and one without an id', async () => {
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['signed with another key', token(Buffer.alloc(32, 1).toString('base64url')), /not signed with the key/],
      ['from another Jira', token(key, { iss: 'https://jira.other.example.com' }), /another Jira/],
      ['for another node', token(key, { aud: t.url('dc2') }), /another Exalate node/],
      ['expired', token(key, { ageS: 600, ttlS: 120 }), /expired/],
      ['living ten minutes', token(key, { ttlS: 600 }), /longer than 5 minutes/],
      ['without a jti', token(key, { jti: null }), /refused|jti/],
    ];
    for (const [what, jwt, message] of cases) {
      const res = await listWith(await jwt);
      expect([what, res.status]).toEqual([what, 401]);
      expect([what, (await errorOf(res)).message]).toEqual([what, expect.stringMatching(message)]);
    }
    // Another node never takes the app's tokens.
    expect((await listWith(await token(key, { aud: t.url('ado') }), 'ado')).status).toBe(401);
  });

  it('a token is checked before the body is read', async () => {
    const res = await fetch(`${t.url('dc')}/api/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(Buffer.alloc(32, 2).toString('base64url'))}`, 'content-type': 'application/json' },
      body: '{"not":"read"',
    });
    expect(res.status).toBe(401);
  });
});

describe('cross-origin calls', () => {
  const preflight = (node: string, origin: string) =>
    fetch(`${t.url(node)}/api/v1/connections`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });

  it("a Data Center node answers its Jira's origin only; an Azure DevOps node any (its hub is served from the Marketplace)", async () => {
    expect((await preflight('dc', jira.url)).headers.get('access-control-allow-origin')).toBe(jira.url);
    expect((await preflight('dc', 'https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('ado', 'https://acme.gallerycdn.vsassets.io')).headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('a Jira URL entered as the destination', () => {
  it('leads to the node its Exalate app publishes', async () => {
    const probe = await t.api('ado').post('/destinations/probe', { url: jira.url });
    expect(probe).toMatchObject({ status: 200, body: { url: t.url('dc'), nodeType: 'JIRA_SERVER', trackerUrl: jira.url } });
  });

  it('a Jira without the app is told apart, with what to enter instead', async () => {
    // A Jira answers its server info without sign-in; without the app there is no node to publish.
    const plain = await jiraWithApp({ nodeUrl: () => null, version: '10.3.1' });
    try {
      const probe = await t.api('ado').post('/destinations/probe', { url: plain.url });
      expect(probe).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'DESTINATION_IS_TRACKER',
            message: expect.stringContaining("Enter the partner's Exalate URL"),
            fields: { destinationUrl: expect.any(String) },
          },
        },
      });
      expect(probe.body.error.message).toContain('Jira 10.3.1');
    } finally {
      await plain.close();
    }
  });

  it('an app that names a node of another tracker is refused', async () => {
    const liar = await jiraWithApp({ nodeUrl: () => t.url('dc') });
    try {
      const probe = await t.api('ado').post('/destinations/probe', { url: liar.url });
      expect(probe).toMatchObject({
        status: 502,
        body: { error: { code: 'DESTINATION_NOT_A_NODE', message: expect.stringContaining('serves another tracker') } },
      });
    } finally {
      await liar.close();
    }
  });
});
