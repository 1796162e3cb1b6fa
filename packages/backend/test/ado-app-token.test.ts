import { AdoSimulator, type InstalledExtension, type RunningSimulator } from '@exalate/simulators';
import { resolve } from 'node:path';
import { startTestServer, type TestServer } from './support.js';

// The Exalate hub inside Azure DevOps signs in with the extension's app token plus the user's access
// token for the organization; the node verifies both (admin/ado-app-token.ts).
const MANIFEST = resolve(import.meta.dirname, '../../../vss-extension.json');
const KEY = 'the-extension-key-from-the-marketplace';
const APP_ID = '2c7b1c1e-8a9e-4a0b-9d53-0c1f3f0b9e11';

let acme: AdoSimulator;
let globex: AdoSimulator;
let running: RunningSimulator[] = [];
let ext: { acme: InstalledExtension; globex: InstalledExtension };
let t: TestServer;

beforeAll(async () => {
  acme = new AdoSimulator({ seed: { organization: 'acme' } });
  globex = new AdoSimulator({ seed: { organization: 'globex' } });
  ext = {
    acme: acme.installExtension({ manifestPath: MANIFEST, secret: KEY, appId: APP_ID }),
    globex: globex.installExtension({ manifestPath: MANIFEST, secret: KEY, appId: APP_ID }),
  };
  running = [await acme.listen(), await globex.listen()];
  t = await startTestServer('pglite', [
    {
      id: 'ado',
      tracker: { kind: 'azure-devops', url: `${running[0]!.url}/acme`, secret: 'sync-pat', webhooks: false },
      private: false,
      modes: ['BASIC', 'VISUAL', 'SCRIPT'],
      adminToken: 'admin-token-0123456789abcdef',
      adoExtension: { secret: KEY, audience: APP_ID },
    },
  ]);
});

afterAll(async () => {
  await t?.close();
  for (const r of running) await r.close();
});

async function call(headers: Record<string, string>): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const res = await fetch(`${t.url('ado')}/api/v1/connections`, { headers });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

const owner = () => acme.state.identities[0]!;

test("admits the hub with a valid app token and the user's access token for this organization", async () => {
  const { appToken, accessToken } = await acme.extensions.issueTokens(ext.acme, owner());
  const res = await call({ authorization: `Bearer ${appToken}`, 'x-azure-devops-access-token': accessToken });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ connections: [] });
});

test("still admits the node's own admin token", async () => {
  expect((await call({ authorization: 'Bearer admin-token-0123456789abcdef' })).status).toBe(200);
});

test('refuses an app token signed with another key, and says which key to set', async () => {
  const other = acme.installExtension({ manifestPath: MANIFEST, secret: 'some-other-key', appId: APP_ID });
  try {
    const { appToken, accessToken } = await acme.extensions.issueTokens(other, owner());
    const res = await call({ authorization: `Bearer ${appToken}`, 'x-azure-devops-access-token': accessToken });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('Certificate') });
  } finally {
    ext.acme = acme.installExtension({ manifestPath: MANIFEST, secret: KEY, appId: APP_ID });
  }
});

test('refuses an expired app token and one issued to another extension', async () => {
  const expired = await acme.extensions.issueTokens(ext.acme, owner(), -120);
  const res = await call({ authorization: `Bearer ${expired.appToken}`, 'x-azure-devops-access-token': expired.accessToken });
  expect(res.status).toBe(401);
  expect(res.body.error?.message).toMatch(/expired/);

  const foreign = acme.installExtension({
    manifestPath: MANIFEST,
    secret: KEY,
    appId: '00000000-0000-0000-0000-000000000001',
    overrides: { id: 'someone-else' },
  });
  const tokens = await acme.extensions.issueTokens(foreign, owner());
  const res2 = await call({ authorization: `Bearer ${tokens.appToken}`, 'x-azure-devops-access-token': tokens.accessToken });
  expect(res2.status).toBe(401);
  expect(res2.body.error?.message).toContain(`another extension (00000000-0000-0000-0000-000000000001) than the one this node is set up for (${APP_ID})`);
});

test("refuses a valid app token from another organization's installation", async () => {
  // One extension key serves every organization that installed the extension; the access token tells them apart.
  const { appToken, accessToken } = await globex.extensions.issueTokens(ext.globex, globex.state.identities[0]!);
  const res = await call({ authorization: `Bearer ${appToken}`, 'x-azure-devops-access-token': accessToken });
  expect(res.status).toBe(401);
  expect(res.body.error?.message).toContain(`${running[0]!.url}/acme`);

  const noAccess = await call({ authorization: `Bearer ${appToken}` });
  expect(noAccess.status).toBe(401);
  expect(noAccess.body.error?.message).toMatch(/no Azure DevOps access token/);
});

test('refuses an access token of another user than the app token names', async () => {
  const a = await acme.extensions.issueTokens(ext.acme, owner());
  const b = await acme.extensions.issueTokens(ext.acme, acme.state.identities[1]!);
  const res = await call({ authorization: `Bearer ${a.appToken}`, 'x-azure-devops-access-token': b.accessToken });
  expect(res.status).toBe(401);
  expect(res.body.error?.message).toMatch(/different users/);
});

test("answers the browser's preflight for the hub's cross-origin calls", async () => {
  const res = await fetch(`${t.url('ado')}/api/v1/connections`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://exalate-oss.gallerycdn.vsassets.io',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization,x-azure-devops-access-token',
    },
  });
  expect(res.status).toBe(204);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(res.headers.get('access-control-allow-headers')).toMatch(/x-azure-devops-access-token/);
});
