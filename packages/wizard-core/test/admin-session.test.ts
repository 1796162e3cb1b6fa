import type { NodeInfo } from '@exalate/contract';
import { AdminSession, Store, type AdminApi, type AdminHost, type NodeSettingsApi, type SyncAdminApi } from '../src/index.js';
import { connection, err, fakeApi, ok } from './fake-api.js';

const node: NodeInfo = {
  product: 'exalate',
  nodeType: 'JIRA_SERVER',
  trackerUrl: 'https://jira.acme.com',
  nodeUrl: 'https://exalate.acme.com/nodes/jira',
  instanceId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  version: '0.1.0',
  protocol: { min: 1, max: 1 },
  modes: ['BASIC', 'SCRIPT'],
  pollOnly: false,
};

type FullApi = AdminApi & SyncAdminApi & NodeSettingsApi;
const flush = () => new Promise((r) => setImmediate(r));

function host(saved: string | null, answers: Parameters<typeof fakeApi<FullApi>>[0] = {}) {
  const { api, calls } = fakeApi<FullApi>({
    nodeInfo: () => ok(node),
    listConnections: () => ok({ connections: [connection({ status: 'ACTIVE' })] }),
    getSettings: () => ok({ tracker: { url: node.trackerUrl, credential: { source: 'configuration', updatedAt: null, problem: null } } }),
    ...answers,
  });
  const stored: string[] = [];
  let loaded = 0;
  const h: AdminHost = {
    nodeType: 'JIRA_SERVER',
    clipboard: { writeText: async () => {} },
    loadSettings: async () => (saved ? { nodeUrl: saved } : null),
    saveSettings: async (s) => void stored.push(s.nodeUrl),
    api: () => api,
    loaded: () => void loaded++,
  };
  return { host: h, calls, stored, loaded: () => loaded };
}

describe('the admin session', () => {
  it("where the tracker's app holds the node, General settings pairs by code and the session then talks to that node", async () => {
    const h = host(null);
    const { saveSettings: _unused, ...rest } = h.host;
    const paired: string[] = [];
    const session = new AdminSession({ ...rest, pair: async (code) => (paired.push(code), ok({ nodeUrl: 'https://exalate.acme.com/nodes/jira' })) });
    await session.start();
    const screen = session.getState().screen;
    if (screen.name !== 'settings') throw new Error('expected General settings');
    expect(screen.flow.getState().kind).toBe('pairing');
    screen.flow.setPairingCode('EXPAIR1.aHR0cHM6Ly9leGFsYXRlLmFjbWUuY29tL25vZGVzL2ppcmE.0b5f4a8e-2c1d-4e3f-9a7b-6c5d4e3f2a1b.' + 'A'.repeat(43));
    expect(await screen.flow.pair()).toBe(true);
    await flush();
    expect(paired).toHaveLength(1);
    expect(session.getState()).toMatchObject({
      nodeUrl: 'https://exalate.acme.com/nodes/jira',
      local: { nodeType: 'JIRA_SERVER' },
      screen: { name: 'settings' },
    });
    session.showConnections();
    expect(session.getState().screen.name).toBe('connections');
  });

  it("starts when first watched: with a saved node, on Connections, with the node's own info", async () => {
    const h = host('https://exalate.acme.com/nodes/jira');
    const session = new AdminSession(h.host);
    expect(session.getState().screen.name).toBe('loading');
    expect(session.words).toMatchObject({ tracker: 'Jira', item: 'issue', queryLanguage: 'JQL', acceptInvitation: 'Accept the invitation' });
    const stop = session.subscribe(() => {});
    await flush();
    expect(session.getState()).toMatchObject({
      tab: 'connections',
      screen: { name: 'connections', dialog: null },
      nodeUrl: 'https://exalate.acme.com/nodes/jira',
      local: { nodeType: 'JIRA_SERVER' },
    });
    expect(h.loaded()).toBe(1);
    stop();
  });

  it('with no node saved, opens General settings; saving stays there (saying so) and makes Connections available', async () => {
    const h = host(null);
    const session = new AdminSession(h.host);
    await session.start();
    const s = session.getState();
    expect(s).toMatchObject({ tab: 'settings', screen: { name: 'settings' }, nodeUrl: null });
    session.showConnections();
    expect(session.getState().screen.name).toBe('settings');

    if (s.screen.name !== 'settings') throw new Error('not on settings');
    const settings = s.screen.flow;
    settings.setNodeUrl('https://exalate.acme.com/nodes/jira');
    expect(await settings.save()).toBe(true);
    await flush();
    expect(h.stored).toEqual(['https://exalate.acme.com/nodes/jira']);
    expect(settings.getState().notice).toBe('Settings saved');
    expect(session.getState()).toMatchObject({
      tab: 'settings',
      screen: { name: 'settings' },
      nodeUrl: 'https://exalate.acme.com/nodes/jira',
      local: { nodeType: 'JIRA_SERVER' },
    });
    session.showConnections();
    expect(session.getState().screen.name).toBe('connections');
  });

  it('opens Initiate and Accept as dialogs over a list, and a new list (without the old notice) each visit', async () => {
    const h = host('https://exalate.acme.com/nodes/jira', { deactivateConnection: () => ok(connection({ status: 'DEACTIVATED' })) });
    const session = new AdminSession(h.host);
    await session.start();
    await flush();
    const first = session.getState().screen;
    if (first.name !== 'connections') throw new Error('not on connections');
    await first.list.load();
    await first.list.perform(connection().id, 'deactivate');
    expect(first.list.getState().notice).toBe('Connection deactivated');

    await session.openInitiate();
    const withDialog = session.getState().screen;
    expect(withDialog).toMatchObject({ name: 'connections', dialog: { name: 'initiate' } });
    if (withDialog.name !== 'connections' || withDialog.dialog?.name !== 'initiate') throw new Error('no dialog');
    expect(withDialog.list).toBe(first.list);
    expect(withDialog.dialog.flow.modeChoices.filter((c) => c.available).map((c) => c.mode)).toEqual(['BASIC', 'SCRIPT']);
    session.closeDialog();
    expect(session.getState().screen).toMatchObject({ name: 'connections', dialog: null });

    session.showSettings();
    session.showConnections();
    const again = session.getState().screen;
    if (again.name !== 'connections') throw new Error('not on connections');
    expect(again.list).not.toBe(first.list);
    expect(again.list.getState().notice).toBeNull();

    session.openAccept();
    const accept = session.getState().screen;
    if (accept.name !== 'connections' || accept.dialog?.name !== 'accept') throw new Error('no accept dialog');
    // "Configure Sync" at the end of Accept leads to the connection's sync settings.
    session.configure('c1');
    expect(session.getState()).toMatchObject({ tab: 'connections', screen: { name: 'configure', flow: { connectionId: 'c1' } } });
  });

  it('Done on the invitation closes the dialog and reads the list again', async () => {
    const h = host('https://exalate.acme.com/nodes/jira', {
      listProjects: () => ok({ projects: [{ key: 'SUP', name: 'Support' }] }),
      initiateConnection: () => ok({ connection: connection(), invitationCode: 'CODE' }),
    });
    const session = new AdminSession(h.host);
    await session.start();
    await flush();
    await session.openInitiate();
    const screen = session.getState().screen;
    if (screen.name !== 'connections' || screen.dialog?.name !== 'initiate') throw new Error('no dialog');
    const flow = screen.dialog.flow;
    flow.setField('noUrl', true);
    await flow.next();
    flow.setField('localShortName', 'jira');
    flow.setField('remoteShortName', 'ado');
    await flow.next();
    await flow.next();
    expect(flow.getState().step).toBe('invitation');
    const before = h.calls.filter((c) => c.method === 'listConnections').length;
    await flow.next();
    expect(session.getState().screen).toMatchObject({ name: 'connections', dialog: null });
    expect(h.calls.filter((c) => c.method === 'listConnections').length).toBe(before + 1);
  });

  it('says when the node does not answer, and Initiate waits for it', async () => {
    const h = host('https://exalate.acme.com/nodes/jira', { nodeInfo: () => err({ code: 'NETWORK_ERROR', message: 'Could not reach the Exalate node.' }) });
    const session = new AdminSession(h.host);
    await session.start();
    await flush();
    expect(session.getState()).toMatchObject({ local: null, problem: { code: 'NETWORK_ERROR' } });
    await session.openInitiate();
    expect(session.getState().screen).toMatchObject({ name: 'connections', dialog: null });
  });
});

describe('a store', () => {
  class Watched extends Store<{ n: number }> {
    events: string[] = [];
    constructor() {
      super({ n: 0 });
    }
    protected override onActive(): void {
      this.events.push('active');
    }
    protected override onInactive(): void {
      this.events.push('inactive');
    }
  }

  it('is active from its first subscriber to its last, again and again', () => {
    const store = new Watched();
    const a = store.subscribe(() => {});
    const b = store.subscribe(() => {});
    a();
    a();
    expect(store.events).toEqual(['active']);
    b();
    expect(store.events).toEqual(['active', 'inactive']);
    store.subscribe(() => {})();
    expect(store.events).toEqual(['active', 'inactive', 'active', 'inactive']);
  });
});
