import { AdminSession, serviceNowAppHost } from '../src/index.js';

type Call = { url: string; method: string; headers: Record<string, string>; credentials: string | undefined; body: unknown };

const API = 'https://acme.service-now.com/api/x_exa_sync/exalate';

/** An instance with the Exalate application's Scripted REST API (forwarding to a node) as one fetch. */
function instance(options: { paired?: boolean; role?: boolean; htmlFor?: string } = {}) {
  const calls: Call[] = [];
  let nodeUrl: string | null = options.paired === false ? null : 'https://exalate.acme.com/nodes/snow';
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const doFetch: typeof fetch = async (input, init) => {
    const url = String(input);
    const headers = Object.fromEntries([...new Headers(init?.headers).entries()]);
    calls.push({ url, method: init?.method ?? 'GET', headers, credentials: init?.credentials, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    if (options.htmlFor && url.includes(options.htmlFor)) return new Response('<html>Log in</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    if (!url.startsWith(API)) return json(404, {});
    // The platform's own refusal (the REST API's ACL), in its own shape.
    if (options.role === false)
      return json(403, { error: { message: 'User Not Authorized', detail: 'The user does not have the role x_exa_sync.admin.' }, status: 'failure' });
    const path = url.slice(API.length);
    if (path === '/settings') return json(200, { result: { nodeUrl, pairedAt: nodeUrl ? '2026-12-01T10:00:00Z' : null } });
    if (path === '/pair') return ((nodeUrl = 'https://exalate.acme.com/nodes/snow'), json(200, { result: { nodeUrl } }));
    if (path.startsWith('/node?path=')) {
      if (!nodeUrl) return json(409, { error: { code: 'TRACKER_APP_NOT_PAIRED', message: 'Pair the application first.' } });
      const forwarded = decodeURIComponent(path.slice('/node?path='.length));
      if (forwarded === '/connections') return json(200, { connections: [] });
      if (forwarded === '/node-info') return json(200, { nodeType: 'SERVICENOW' });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'no such path' } });
  };
  let token = 'g_ck-1';
  const host = serviceNowAppHost({ apiBase: `${API}/`, userToken: () => token, clipboard: { writeText: async () => {} }, fetch: doFetch });
  return { host, calls, renewToken: (t: string) => (token = t) };
}

test("every call goes to the instance with the session and its user token, the node's through the forwarding resource", async () => {
  const { host, calls, renewToken } = instance();
  expect(host.nodeType).toBe('SERVICENOW');
  expect(host.incomingProject).toBe('incident');
  expect(await host.loadSettings()).toEqual({ nodeUrl: 'https://exalate.acme.com/nodes/snow' });
  const api = host.api('https://exalate.acme.com/nodes/snow');
  expect(await api.listConnections()).toEqual({ ok: true, value: { connections: [] } });
  renewToken('g_ck-2');
  expect((await api.nodeInfo()).ok).toBe(true);
  expect(calls.map((c) => `${c.method} ${c.url.slice(API.length)}`)).toEqual(['GET /settings', 'GET /node?path=%2Fconnections', 'GET /node?path=%2Fnode-info']);
  expect(calls.map((c) => c.headers['x-usertoken'])).toEqual(['g_ck-1', 'g_ck-1', 'g_ck-2']);
  expect(calls.every((c) => c.credentials === 'same-origin' && !c.headers['authorization'])).toBe(true);
  // Nothing ever goes to the node from the browser.
  expect(calls.some((c) => c.url.startsWith('https://exalate.acme.com'))).toBe(false);
});

test('a user without the role, an unpaired application and an ended session each say what to do', async () => {
  const noRole = instance({ role: false });
  await expect(noRole.host.loadSettings()).rejects.toThrow('ServiceNow: User Not Authorized. The user does not have the role x_exa_sync.admin.');
  expect(await noRole.host.api('https://exalate.acme.com/nodes/snow').listConnections()).toMatchObject({
    ok: false,
    error: { status: 403, message: expect.stringContaining('User Not Authorized') },
  });

  const unpaired = instance({ paired: false });
  expect(await unpaired.host.loadSettings()).toBeNull();
  expect(await unpaired.host.api('https://exalate.acme.com/nodes/snow').listConnections()).toMatchObject({
    ok: false,
    error: { code: 'TRACKER_APP_NOT_PAIRED' },
  });

  const ended = instance({ htmlFor: '/settings' });
  await expect(ended.host.loadSettings()).rejects.toThrow(/session may have ended/);
});

test('an unpaired application opens Settings, pairs there by code, then lists the connections', async () => {
  const { host, calls } = instance({ paired: false });
  const session = new AdminSession(host);
  await session.start();
  const screen = session.getState().screen;
  if (screen.name !== 'settings') throw new Error('expected Settings');
  await screen.flow.load();
  expect(screen.flow.getState().kind).toBe('pairing');
  const code = `EXPAIR1.${Buffer.from('https://exalate.acme.com/nodes/snow').toString('base64url')}.3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77.${'s'.repeat(43)}`;
  screen.flow.setPairingCode(code);
  expect(await screen.flow.pair()).toBe(true);
  expect(calls.find((c) => c.url.endsWith('/pair'))!.body).toEqual({ pairingCode: code });
  expect(session.getState().nodeUrl).toBe('https://exalate.acme.com/nodes/snow');
});
