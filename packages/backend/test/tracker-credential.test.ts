import { randomBytes } from 'node:crypto';
import { AdoSimulator, type RunningSimulator } from '@exalate/simulators';
import { startTestServer, type TestServer } from './support.js';

// A token set in General settings: checked against the tracker, sealed in the database, used at
// once and after a restart, and reported (not used) when the node's secret key no longer opens it.
let sim: AdoSimulator;
let running: RunningSimulator;
let t: TestServer;
const key = randomBytes(32).toString('base64');

beforeAll(async () => {
  sim = new AdoSimulator({ seed: { projects: [{ name: 'Development' }] } });
  running = await sim.listen();
  t = await startTestServer(
    'pglite',
    [
      {
        id: 'ado',
        tracker: { kind: 'azure-devops', url: `${running.url}/acme`, secret: 'sync-pat', webhooks: false },
        private: false,
        modes: ['SCRIPT'],
        adminToken: 'admin-token-0123456789abcdef',
      },
    ],
    { secretKey: key },
  );
});
afterAll(async () => {
  await t?.close();
  await running?.close();
});

const projects = () => t.api('ado').get('/projects');

test('a token set in the settings is checked, sealed at rest, and the node acts with it from then on', async () => {
  const refused = await t.api('ado').put('/settings/tracker-credential', { secret: 'expired-pat' });
  expect(refused.status).toBe(400);
  expect(refused.body.error).toMatchObject({ code: 'TRACKER_CREDENTIAL_REJECTED', fields: { secret: expect.any(String) } });

  const set = await t.api('ado').put('/settings/tracker-credential', { secret: 'alice-pat' });
  expect(set.status).toBe(200);
  expect(set.body.tracker.credential).toMatchObject({ source: 'settings', problem: null });
  const stored = await t.server.nodes.get('ado')!.database.query<{ value: unknown }>(`select value from node_settings`);
  expect(JSON.stringify(stored)).not.toContain('alice-pat');

  // Revoke alice's token in the tracker: the node's calls now fail, so it was acting with it.
  delete sim.state.tokens['alice-pat'];
  expect((await projects()).status).toBe(502);
  sim.state.tokens['alice-pat'] = sim.state.identities[0]!.id;
  expect((await projects()).status).toBe(200);
});

test("the stored token survives a restart; with another secret key it is reported and the configuration's is used", async () => {
  await t.restart({ secretKey: key });
  expect((await t.api('ado').get('/settings')).body.tracker.credential.source).toBe('settings');
  delete sim.state.tokens['alice-pat'];
  expect((await projects()).status).toBe(502);
  sim.state.tokens['alice-pat'] = sim.state.identities[0]!.id;

  await t.restart({ secretKey: randomBytes(32).toString('base64') });
  const view = (await t.api('ado').get('/settings')).body.tracker.credential;
  expect(view.source).toBe('configuration');
  expect(view.problem).toMatch(/another secret key/);
  delete sim.state.tokens['alice-pat'];
  expect((await projects()).status).toBe(200);
  sim.state.tokens['alice-pat'] = sim.state.identities[0]!.id;
});

test("clearing goes back to the configuration's credential", async () => {
  await t.restart({ secretKey: key });
  expect((await t.api('ado').put('/settings/tracker-credential', { secret: 'alice-pat' })).status).toBe(200);
  const cleared = await t.api('ado').delete('/settings/tracker-credential');
  expect(cleared.body.tracker.credential).toEqual({ source: 'configuration', updatedAt: null, problem: null });
  delete sim.state.tokens['alice-pat'];
  expect((await projects()).status).toBe(200);
});
