import { nodeConfig, startTestServer, type TestServer } from './support.js';

// The node's HTTP server as clients meet it: idle connections are kept longer than clients keep
// theirs, so a client never sends on a connection the node is closing (ECONNRESET on a POST).

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('pglite', [nodeConfig('jira')]);
});
afterAll(async () => {
  await t?.close();
});

it('announces that it keeps an idle connection for 65 s, longer than clients and load balancers keep theirs', async () => {
  const res = await fetch(`${t.server.publicUrl}/healthz`);
  expect(res.status).toBe(200);
  expect(res.headers.get('connection')).toBe('keep-alive');
  expect(res.headers.get('keep-alive')).toBe('timeout=65');
});
