import { join } from 'node:path';
import { AdoSimulator } from '@exalate/simulators';
import { openPglite } from '../src/index.js';
import { eventually, nodeConfig, startTestServer } from './support.js';

/**
 * The node's webhook subscription in its tracker: made once, kept, and made again when what it
 * asks the tracker for has changed since (here: Azure DevOps service hooks that an earlier version
 * made with the minimal resource, which carries no revision).
 */
test('a node subscribes to the tracker once, and again when its stored subscription asks for other details', async () => {
  const sim = new AdoSimulator();
  const running = await sim.listen();
  const tracker = { kind: 'azure-devops' as const, url: `${running.url}/${sim.organization}`, secret: 'sync-pat' };
  const t = await startTestServer('pglite', [nodeConfig('ado', { tracker })]);
  try {
    const hookUrl = `${t.url('ado')}/api/v1/tracker-events`;
    const ours = () => sim.state.subscriptions.filter((s) => s.consumerInputs['url'] === hookUrl);
    const first = await eventually(async () => {
      expect(
        ours()
          .map((s) => s.eventType)
          .sort(),
      ).toEqual(['workitem.commented', 'workitem.created', 'workitem.deleted', 'workitem.updated']);
      return ours().map((s) => s.id);
    });
    expect(ours().every((s) => s.consumerInputs['resourceDetailsToSend'] === 'all')).toBe(true);

    // A restart keeps the subscription.
    await t.restart();
    await new Promise((r) => setTimeout(r, 500));
    expect(
      ours()
        .map((s) => s.id)
        .sort(),
    ).toEqual([...first].sort());

    // As an earlier version left it: minimal resource, and no shape stored.
    await t.stop();
    for (const s of ours()) s.consumerInputs['resourceDetailsToSend'] = 'minimal';
    const db = await openPglite(join(t.dataDir, 'ado'));
    await db.query(`update tracker_subscription set shape = null`);
    await db.close();
    await t.restart();
    await eventually(async () => {
      expect(ours()).toHaveLength(4);
      expect(ours().some((s) => first.includes(s.id))).toBe(false);
      expect(ours().every((s) => s.consumerInputs['resourceDetailsToSend'] === 'all')).toBe(true);
    });
  } finally {
    await t.close();
    await running.close();
  }
}, 60_000);

test('a node restarted at a new public URL replaces the subscription that named the old one', async () => {
  const sim = new AdoSimulator();
  const running = await sim.listen();
  const tracker = { kind: 'azure-devops' as const, url: `${running.url}/${sim.organization}`, secret: 'sync-pat' };
  const t = await startTestServer('pglite', [nodeConfig('ado', { tracker })]);
  try {
    const hooks = () => sim.state.subscriptions.map((s) => String(s.consumerInputs['url']));
    const before = `${t.url('ado')}/api/v1/tracker-events`;
    await eventually(async () => expect(hooks()).toEqual(Array(4).fill(before)));
    // The same server, now known by another name (a proxy in front of it, a new host name), while
    // Azure DevOps refuses to delete subscriptions for a while.
    sim.faults.inject({ status: 503, times: 1_000, method: 'DELETE', match: /_apis\/hooks\/subscriptions/ });
    await t.restart({ publicUrl: t.server.publicUrl.replace('127.0.0.1', 'localhost') });
    const after = `${t.url('ado')}/api/v1/tracker-events`;
    expect(after).not.toBe(before);
    await eventually(async () => expect(hooks().filter((h) => h === after)).toHaveLength(4));
    expect(hooks().filter((h) => h === before)).toHaveLength(4);
    // The removal is remembered: once deleting works again (after a restart here), the old ones go.
    await t.stop();
    sim.faults.clear();
    await t.restart({ publicUrl: t.server.publicUrl });
    // Four subscriptions, all for the new URL: no event comes twice.
    await eventually(async () => expect(hooks()).toEqual(Array(4).fill(after)));
  } finally {
    await t.close();
    await running.close();
  }
}, 60_000);
