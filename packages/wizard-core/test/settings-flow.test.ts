import type { NodeInfo, NodeSettingsView } from '@exalate/contract';
import { encodePairingCode } from '@exalate/contract';
import { SettingsFlow, type AdminApi, type ApiResult, type NodeSettingsApi } from '../src/index.js';
import { err, fakeApi, ok } from './fake-api.js';

const node: NodeInfo = {
  product: 'exalate',
  nodeType: 'AZURE_DEVOPS',
  trackerUrl: 'https://dev.azure.com/acme',
  nodeUrl: 'https://exalate.acme.com/nodes/ado',
  instanceId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  version: '0.1.0',
  protocol: { min: 1, max: 1 },
  modes: ['SCRIPT'],
  pollOnly: false,
};
const settings = (source: 'configuration' | 'settings'): NodeSettingsView => ({
  tracker: { url: node.trackerUrl, credential: { source, updatedAt: source === 'settings' ? '2026-11-23T10:00:00.000Z' : null, problem: null } },
});

function storage(initial: string | null = null) {
  const saved: string[] = [];
  return { saved, load: async () => (initial ? { nodeUrl: initial } : null), save: async (s: { nodeUrl: string }) => void saved.push(s.nodeUrl) };
}

test("starts from the saved node URL and reads where the node's credential comes from", async () => {
  const { api } = fakeApi<AdminApi & NodeSettingsApi>({ nodeInfo: () => ok(node), getSettings: () => ok(settings('configuration')) });
  const flow = new SettingsFlow(storage('https://exalate.acme.com/nodes/ado'), () => api, 'AZURE_DEVOPS');
  await flow.load();
  expect(flow.getState()).toMatchObject({
    kind: 'url',
    loading: false,
    saved: 'https://exalate.acme.com/nodes/ado',
    node: { trackerUrl: node.trackerUrl },
    nodeSettings: { tracker: { credential: { source: 'configuration' } } },
  });
});

test('saves a node URL only when it is a node of the right tracker that admits this admin', async () => {
  let admitted = false;
  const { api, calls } = fakeApi<AdminApi & NodeSettingsApi>({
    nodeInfo: () => ok(node),
    listConnections: () =>
      admitted ? ok({ connections: [] }) : err({ code: 'UNAUTHENTICATED', message: 'You are not signed in to https://dev.azure.com/acme.' }),
    getSettings: () => ok(settings('configuration')),
  });
  const store = storage();
  const flow = new SettingsFlow(
    store,
    (url) => (url.includes('jira') ? fakeApi<AdminApi & NodeSettingsApi>({ nodeInfo: () => ok({ ...node, nodeType: 'JIRA_CLOUD' }) }).api : api),
    'AZURE_DEVOPS',
  );
  await flow.load();

  flow.setNodeUrl('nonsense');
  expect(await flow.save()).toBe(false);
  expect(flow.getState().error).toMatch(/not a URL/);

  flow.setNodeUrl('https://exalate.acme.com/nodes/jira');
  expect(await flow.save()).toBe(false);
  expect(flow.getState().error).toMatch(/serves Jira Cloud/);

  flow.setNodeUrl('https://exalate.acme.com/nodes/ado/');
  expect(await flow.save()).toBe(false);
  expect(flow.getState().banner?.code).toBe('UNAUTHENTICATED');
  expect(store.saved).toEqual([]);

  admitted = true;
  expect(await flow.save()).toBe(true);
  expect(store.saved).toEqual(['https://exalate.acme.com/nodes/ado']);
  expect(flow.getState()).toMatchObject({
    saved: 'https://exalate.acme.com/nodes/ado',
    notice: 'Settings saved',
    nodeSettings: { tracker: { url: node.trackerUrl } },
  });
  expect(calls.map((c) => c.method)).toContain('getSettings');
});

test('a node that does not answer is named as such', async () => {
  const { api } = fakeApi<AdminApi & NodeSettingsApi>({ nodeInfo: () => err({ code: 'NETWORK_ERROR', message: 'Could not reach the Exalate node.' }) });
  const flow = new SettingsFlow(storage(), () => api);
  await flow.load();
  flow.setNodeUrl('https://exalate.acme.com/nodes/ado');
  expect(await flow.save()).toBe(false);
  expect(flow.getState().error).toMatch(/No Exalate node answered/);
});

test('the token goes to the node, is never kept in the page, and a refused one is shown under the field', async () => {
  const { api, calls } = fakeApi<AdminApi & NodeSettingsApi>({
    nodeInfo: () => ok(node),
    getSettings: () => ok(settings('configuration')),
    setTrackerCredential: (secret) =>
      secret === 'good'
        ? ok(settings('settings'))
        : err({
            code: 'TRACKER_CREDENTIAL_REJECTED',
            message: 'https://dev.azure.com/acme refused this token.',
            fields: { secret: 'The tracker refused this token.' },
          }),
  });
  const flow = new SettingsFlow(storage('https://exalate.acme.com/nodes/ado'), () => api);
  await flow.load();
  expect(await flow.saveToken()).toBe(false);
  expect(flow.getState().tokenError).toMatch(/Enter the personal access token/);
  flow.setToken('bad');
  expect(await flow.saveToken()).toBe(false);
  expect(flow.getState().tokenError).toMatch(/refused this token/);
  flow.setToken('good');
  expect(await flow.saveToken()).toBe(true);
  expect(flow.getState()).toMatchObject({ token: '', nodeSettings: { tracker: { credential: { source: 'settings' } } } });
  expect(calls.filter((c) => c.method === 'setTrackerCredential').map((c) => c.args[0])).toEqual(['bad', 'good']);
});

describe('by pairing (the Jira Data Center app holds the node)', () => {
  const nodeUrl = 'https://exalate.acme.com/nodes/jira';
  const jiraNode: NodeInfo = { ...node, nodeType: 'JIRA_SERVER', trackerUrl: 'https://jira.acme.com', nodeUrl };
  const code = encodePairingCode({ nodeUrl, id: '0b5f4a8e-2c1d-4e3f-9a7b-6c5d4e3f2a1b', secret: 'A'.repeat(43) });

  test('checks the code, shows what the node refused on the field, and says which node it paired with', async () => {
    const pairs: string[] = [];
    let answer: ApiResult<{ nodeUrl: string }> = {
      ok: false,
      error: { code: 'PAIRING_CODE_EXPIRED', message: 'This pairing code expired. Ask the operator for a new one.' },
    };
    const { api } = fakeApi<AdminApi & NodeSettingsApi>({
      nodeInfo: () => ok(jiraNode),
      listConnections: () => ok({ connections: [] }),
      getSettings: () => ok(settings('configuration')),
    });
    const flow = new SettingsFlow({ load: async () => null, pair: async (c) => (pairs.push(c), answer) }, () => api, 'JIRA_SERVER');
    await flow.load();
    expect(flow.getState()).toMatchObject({ kind: 'pairing', saved: null });

    expect(await flow.pair()).toBe(false);
    expect(flow.getState().pairingError).toMatch(/Paste the pairing code/);

    flow.setPairingCode(code.slice(0, -5));
    expect(await flow.pair()).toBe(false);
    expect(flow.getState().pairingError).toMatch(/not a whole pairing code/);
    expect(pairs).toEqual([]);

    flow.setPairingCode(` ${code}\n`);
    expect(await flow.pair()).toBe(false);
    expect(flow.getState()).toMatchObject({ pairingError: 'This pairing code expired. Ask the operator for a new one.', banner: null, saved: null });

    answer = { ok: true, value: { nodeUrl: nodeUrl } };
    expect(await flow.pair()).toBe(true);
    expect(pairs).toEqual([code, code]);
    expect(flow.getState()).toMatchObject({
      saved: nodeUrl,
      pairingCode: '',
      node: { trackerUrl: 'https://jira.acme.com' },
      notice: `Paired with the Exalate node at ${nodeUrl}`,
      nodeSettings: { tracker: { url: node.trackerUrl } },
    });
  });

  test('an app already paired says with which node when the screen opens', async () => {
    const { api } = fakeApi<AdminApi & NodeSettingsApi>({ nodeInfo: () => ok(jiraNode), getSettings: () => ok(settings('configuration')) });
    const flow = new SettingsFlow(
      { load: async () => ({ nodeUrl: nodeUrl }), pair: async () => ({ ok: true, value: { nodeUrl: nodeUrl } }) },
      () => api,
      'JIRA_SERVER',
    );
    await flow.load();
    expect(flow.getState()).toMatchObject({ kind: 'pairing', saved: nodeUrl, node: { nodeUrl: nodeUrl } });
  });
});
