import { AdminSession, jiraAppHost } from '../src/index.js';

type Call = { url: string; method: string; headers: Record<string, string>; body: unknown };

/** A Jira with the Exalate app's servlet, and a node behind it, as one fetch. */
function jira(options: { paired?: boolean; admin?: boolean; htmlFor?: string } = {}) {
  const calls: Call[] = [];
  let minted = 0;
  let nodeUrl: string | null = options.paired === false ? null : 'https://exalate.acme.com/nodes/jira';
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const doFetch: typeof fetch = async (input, init) => {
    const url = String(input);
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    calls.push({ url, method: init?.method ?? 'GET', headers, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    if (options.htmlFor && url.endsWith(options.htmlFor)) return new Response('<html>Log in</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    if (url.startsWith('https://jira.acme.com/plugins/servlet/exalate/api/')) {
      if (options.admin === false)
        return json(403, { error: { code: 'TRACKER_ADMIN_REQUIRED', message: 'Only Jira system administrators can manage Exalate.' } });
      if (url.endsWith('/settings')) return json(200, { nodeUrl });
      if (url.endsWith('/pair')) return ((nodeUrl = 'https://exalate.acme.com/nodes/jira'), json(200, { nodeUrl }));
      if (url.endsWith('/token'))
        return nodeUrl
          ? json(200, { token: `token-${++minted}`, expiresIn: 300 })
          : json(409, { error: { code: 'TRACKER_APP_NOT_PAIRED', message: 'Pair the app first.' } });
    }
    if (url === 'https://exalate.acme.com/nodes/jira/api/v1/connections') return json(200, { connections: [] });
    return json(404, { error: { code: 'NOT_FOUND', message: 'no such path' } });
  };
  const host = jiraAppHost({ servletBase: 'https://jira.acme.com/plugins/servlet/exalate/', clipboard: { writeText: async () => {} }, fetch: doFetch });
  return { host, calls };
}

test("every call to the node carries a token of its own, minted by the servlet with Jira's XSRF header", async () => {
  const { host, calls } = jira();
  expect(await host.loadSettings()).toEqual({ nodeUrl: 'https://exalate.acme.com/nodes/jira' });
  const api = host.api('https://exalate.acme.com/nodes/jira');
  expect((await api.listConnections()).ok).toBe(true);
  expect((await api.listConnections()).ok).toBe(true);
  const toNode = calls.filter((c) => c.url.startsWith('https://exalate.acme.com'));
  expect(toNode.map((c) => c.headers['authorization'])).toEqual(['Bearer token-1', 'Bearer token-2']);
  const toServlet = calls.filter((c) => c.url.startsWith('https://jira.acme.com'));
  expect(toServlet.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
    'GET /plugins/servlet/exalate/api/settings',
    'POST /plugins/servlet/exalate/api/token',
    'POST /plugins/servlet/exalate/api/token',
  ]);
  expect(toServlet.every((c) => c.headers['x-atlassian-token'] === 'no-check')).toBe(true);
});

test('a non-administrator, an unpaired app and an ended Jira session each say what to do', async () => {
  const notAdmin = jira({ admin: false }).host.api('https://exalate.acme.com/nodes/jira');
  expect(await notAdmin.listConnections()).toMatchObject({
    ok: false,
    error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('Only Jira system administrators') },
  });
  await expect(jira({ admin: false }).host.loadSettings()).rejects.toThrow(/Only Jira system administrators/);

  const unpaired = jira({ paired: false });
  expect(await unpaired.host.loadSettings()).toBeNull();
  expect(await unpaired.host.api('https://exalate.acme.com/nodes/jira').listConnections()).toMatchObject({
    ok: false,
    error: { message: expect.stringContaining('Pair the app first') },
  });

  const ended = jira({ htmlFor: '/api/settings' });
  await expect(ended.host.loadSettings()).rejects.toThrow(/Jira session may have ended/);
});

test("an unpaired app opens General settings, pairs there, and then lists the node's connections", async () => {
  const { host, calls } = jira({ paired: false });
  const session = new AdminSession({ ...host, initialTab: 'connections' });
  await session.start();
  const screen = session.getState().screen;
  if (screen.name !== 'settings') throw new Error('expected General settings');
  screen.flow.setPairingCode('EXPAIR1.aHR0cHM6Ly9leGFsYXRlLmFjbWUuY29tL25vZGVzL2ppcmE.0b5f4a8e-2c1d-4e3f-9a7b-6c5d4e3f2a1b.' + 'A'.repeat(43));
  // The node-info call of the fake node is not scripted: pairing still succeeds on the listing.
  expect(await screen.flow.pair()).toBe(true);
  expect(calls.find((c) => c.url.endsWith('/api/pair'))?.body).toEqual({ pairingCode: expect.stringMatching(/^EXPAIR1\./) });
  expect(session.getState().nodeUrl).toBe('https://exalate.acme.com/nodes/jira');
});
