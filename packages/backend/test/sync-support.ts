import { AdoConnector, convertText, JiraConnector, ServiceNowConnector, type RichText, type TrackerConnector } from '@exalate/connectors';
import { AdoSimulator, JiraSimulator, ServiceNowSimulator, type FaultInjector } from '@exalate/simulators';
import { createConnector, type Logger, type NodeConfig, type ServerConfig, type TrackerConfig } from '../src/index.js';
import { eventually, startTestServer, type Backend, type TestServer } from './support.js';

/** Jira Cloud, Jira Data Center (on-premise), Azure DevOps, ServiceNow. */
export type TrackerName = 'jira' | 'jira-dc' | 'ado' | 'snow';

/** One simulated tracker as a sync test uses it: the node's credentials, and a person working in it. */
export interface TrackerFixture {
  name: TrackerName;
  tracker: TrackerConfig;
  /** Alice (or the admin), making the changes the sync must carry. */
  human: TrackerConnector;
  /** What the node itself sees, to check results. */
  reader: TrackerConnector;
  project: string;
  itemType: string;
  trigger: { itemType: string | null; query: string };
  /** Injects HTTP failures into the tracker's API. */
  faults: FaultInjector;
  /** Resolves once the webhooks the tracker has sent so far were answered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** `attachmentSizes` false: Azure DevOps leaves the size out of attachment relations. */
export async function startTracker(name: TrackerName, o: { attachmentSizes?: boolean } = {}): Promise<TrackerFixture> {
  if (name === 'jira' || name === 'jira-dc') {
    // Jira Cloud (REST 3, ADF, API tokens) or on-premise Data Center (REST 2, wiki markup, personal access tokens).
    const cloud = name === 'jira';
    const sim = new JiraSimulator({ seed: { flavor: cloud ? 'cloud' : 'datacenter' } });
    const running = await sim.listen();
    const tracker: TrackerConfig = cloud
      ? { kind: 'jira-cloud', url: running.url, user: 'sync@acme.example', secret: 'sync-token' }
      : { kind: 'jira-datacenter', url: running.url, secret: 'sync-pat' };
    return {
      name,
      tracker,
      human: new JiraConnector({
        baseUrl: running.url,
        deployment: cloud ? 'cloud' : 'datacenter',
        auth: cloud ? { email: 'alice@acme.example', apiToken: 'alice-token' } : { personalAccessToken: 'alice-pat' },
      }),
      reader: createConnector(tracker),
      project: 'SUP',
      itemType: 'Bug',
      trigger: { itemType: null, query: 'project = SUP' },
      faults: sim.faults,
      settled: () => sim.settled(),
      close: () => running.close(),
    };
  }
  if (name === 'ado') {
    const sim = new AdoSimulator({ ...(o.attachmentSizes === false ? { attachmentSizes: false } : {}) });
    const running = await sim.listen();
    const url = `${running.url}/${sim.organization}`;
    const tracker: TrackerConfig = { kind: 'azure-devops', url, secret: 'sync-pat' };
    return {
      name,
      tracker,
      human: new AdoConnector({ organizationUrl: url, personalAccessToken: 'alice-pat' }),
      reader: createConnector(tracker),
      project: 'Development',
      itemType: 'Bug',
      trigger: { itemType: null, query: `[System.TeamProject] = 'Development'` },
      faults: sim.faults,
      settled: () => sim.settled(),
      close: () => running.close(),
    };
  }
  const sim = new ServiceNowSimulator();
  const running = await sim.listen();
  const tracker: TrackerConfig = { kind: 'servicenow', url: running.url, user: 'exalate', secret: 'exalate-password' };
  return {
    name,
    tracker,
    human: new ServiceNowConnector({ instanceUrl: running.url, auth: { username: 'admin', password: 'admin-password' } }),
    reader: createConnector(tracker),
    project: 'incident',
    itemType: 'incident',
    trigger: { itemType: 'incident', query: '' },
    faults: sim.faults,
    settled: () => sim.settled(),
    close: () => running.close(),
  };
}

/** Text in the tracker's own format, from plain words. */
export const text = (c: TrackerConnector, words: string): RichText => convertText({ format: 'plain', value: words }, c.textFormat);
export const plain = (t: RichText | null | undefined): string => (t ? String(convertText(t, 'plain').value).trim() : '');

export interface SyncPair {
  /** The server hosting side a or b (one server for both unless `split`). */
  server(side: 'a' | 'b'): TestServer;
  a: TrackerFixture;
  b: TrackerFixture;
  connectionId: string;
  /** The admin API of node `a` or `b`. */
  api(side: 'a' | 'b'): ReturnType<TestServer['api']>;
  /** The partner's key of a synced item, once the sync made it. */
  twinOf(side: 'a' | 'b', key: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Two trackers, a node for each, connected (b private when asked: it has no URL and polls), with a
 * trigger on both sides that takes every item of the test project.
 */
export async function startSyncPair(
  backend: Backend,
  a: TrackerName,
  b: TrackerName,
  o: {
    privateB?: boolean;
    mode?: 'BASIC' | 'SCRIPT';
    server?: Partial<ServerConfig>;
    split?: boolean;
    webhooks?: { a?: boolean; b?: boolean };
    trackers?: { a?: { attachmentSizes?: boolean }; b?: { attachmentSizes?: boolean } };
    logger?: Logger;
  } = {},
): Promise<SyncPair> {
  const [fa, fb] = await Promise.all([startTracker(a, o.trackers?.a), startTracker(b, o.trackers?.b)]);
  // A node told not to use its tracker's webhooks finds changes by its queries alone.
  for (const [side, f] of [
    ['a', fa],
    ['b', fb],
  ] as const)
    if (o.webhooks?.[side] === false) f.tracker = { ...f.tracker, webhooks: false };
  const node = (id: string, f: TrackerFixture, isPrivate: boolean): NodeConfig => ({
    id,
    tracker: f.tracker,
    private: isPrivate,
    modes: ['BASIC', 'VISUAL', 'SCRIPT'],
    adminToken: `token-${id}-0123456789abcdef`,
  });
  const nodeA = node('a', fa, false);
  const nodeB = node('b', fb, Boolean(o.privateB));
  const servers = o.split
    ? { a: await startTestServer(backend, [nodeA], o.server, o.logger), b: await startTestServer(backend, [nodeB], o.server, o.logger) }
    : await startTestServer(backend, [nodeA, nodeB], o.server, o.logger).then((t) => ({ a: t, b: t }));
  const t = { api: (side: 'a' | 'b') => servers[side].api(side), url: (side: 'a' | 'b') => servers[side].url(side) };
  const init = await t.api('a').post('/connections', {
    destinationUrl: o.privateB ? null : t.url('b'),
    mode: o.mode ?? 'SCRIPT',
    localShortName: a,
    remoteShortName: b,
    project: fa.project,
  });
  if (init.status !== 201) throw new Error(`initiate failed: ${JSON.stringify(init.body)}`);
  const accepted = await t.api('b').post('/invitations/accept', { code: init.body.invitationCode, project: fb.project });
  if (accepted.status !== 201) throw new Error(`accept failed: ${JSON.stringify(accepted.body)}`);
  const connectionId = init.body.connection.id as string;
  await eventually(async () => {
    const status = (await t.api('a').get(`/connections/${connectionId}`)).body.status;
    if (status !== 'ACTIVE') throw new Error(`connection is ${status}`);
  });
  for (const [side, f] of [
    ['a', fa],
    ['b', fb],
  ] as const) {
    const made = await t.api(side).post(`/connections/${connectionId}/triggers`, f.trigger);
    if (made.status !== 201) throw new Error(`trigger on ${side} failed: ${JSON.stringify(made.body)}`);
  }
  return {
    server: (side) => servers[side],
    a: fa,
    b: fb,
    connectionId,
    api: (side) => t.api(side),
    twinOf: (side, key) =>
      eventually(async () => {
        const item = await t.api(side).get(`/connections/${connectionId}/items/${encodeURIComponent(key)}`);
        if (!item.body?.remoteKey) throw new Error(`${key} has no twin yet: ${JSON.stringify(item.body)}`);
        return item.body.remoteKey as string;
      }, 40_000),
    close: async () => {
      await servers.a.close();
      await servers.b.close();
      await Promise.all([fa.close(), fb.close()]);
    },
  };
}

/**
 * `startSyncPair` for a test file whose every test makes its own pair: each is closed after its
 * test. Call once, at the top of the file.
 */
export function pairPerTest(): (...args: Parameters<typeof startSyncPair>) => Promise<SyncPair> {
  const pairs: SyncPair[] = [];
  afterEach(async () => {
    for (const p of pairs.splice(0)) await p.close();
  });
  return async (...args) => {
    const p = await startSyncPair(...args);
    pairs.push(p);
    return p;
  };
}
