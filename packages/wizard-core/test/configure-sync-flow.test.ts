import type { BulkSyncView, SyncQueueView, SyncRulesView, TriggerView } from '@exalate/contract';
import { ConfigureSyncFlow, previewHeadline, type SyncAdminApi } from '../src/index.js';
import { connection, err, fakeApi, ok } from './fake-api.js';

const ID = '3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77';
const rules: SyncRulesView = {
  editable: true,
  outgoing: 'replica.summary = workItem.summary;',
  incoming: 'workItem.summary = replica.summary;',
  outgoingIsDefault: true,
  incomingIsDefault: true,
};
const trigger = (o: Partial<TriggerView> = {}): TriggerView => ({
  id: '0b7c9d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
  itemType: 'Bug',
  query: "[System.Tags] CONTAINS 'sync'",
  active: true,
  watermark: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...o,
});
const bulk = (o: Partial<BulkSyncView> = {}): BulkSyncView => ({
  id: 'b1',
  total: 2,
  synced: 0,
  failed: 0,
  startedAt: '2026-01-01T00:00:00.000Z',
  done: false,
  ...o,
});
const queue = (o: Partial<SyncQueueView> = {}): SyncQueueView => ({
  items: { PENDING: 0, SYNCED: 3, FAILED: 0, UNSYNCED: 0 },
  outbox: 0,
  inbox: 0,
  attention: [],
  ...o,
});

function loaded(extra: Parameters<typeof fakeApi<SyncAdminApi>>[0] = {}) {
  return fakeApi<SyncAdminApi>({
    getConnection: () => ok(connection({ status: 'ACTIVE' })),
    getRules: () => ok(rules),
    listTriggers: () => ok({ triggers: [trigger()] }),
    getQueue: () => ok(queue()),
    listItemTypes: () => ok({ itemTypes: ['Bug', 'Task'] }),
    listProjects: () =>
      ok({
        projects: [
          { key: 'incident', name: 'Incident' },
          { key: 'problem', name: 'Problem' },
        ],
      }),
    ...extra,
  });
}

test('loads the connection, its rules into the editors, its triggers and its queue', async () => {
  const { api } = loaded();
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  const s = flow.getState();
  expect(s.loading).toBe(false);
  expect(s.draft).toEqual({ outgoing: rules.outgoing, incoming: rules.incoming });
  expect(s.triggers).toHaveLength(1);
  expect(s.queue?.items.SYNCED).toBe(3);
  expect(s.itemTypes).toEqual(['Bug', 'Task']);
  expect(flow.rulesChanged).toBe(false);
});

test('loads when a screen first watches it, and stops following a bulk sync when the screen is gone', async () => {
  let polls = 0;
  const { api, calls } = loaded({
    bulkSync: () => ok(bulk({ done: false })),
    getBulkSync: () => {
      polls += 1;
      return ok(bulk({ done: false }));
    },
  });
  let tick!: () => void;
  const flow = new ConfigureSyncFlow(api, ID, () => new Promise<void>((r) => (tick = r)));
  const unsubscribe = flow.subscribe(() => {});
  await new Promise((r) => setImmediate(r));
  expect(calls.map((c) => c.method)).toEqual(expect.arrayContaining(['getConnection', 'getRules', 'listTriggers', 'getQueue', 'listItemTypes']));
  expect(flow.getState().loading).toBe(false);
  const following = flow.bulkSync(trigger().id);
  await new Promise((r) => setImmediate(r));
  tick();
  await new Promise((r) => setImmediate(r));
  expect(polls).toBe(1);
  unsubscribe();
  tick();
  expect(await following).toBe(true);
  expect(polls).toBe(1);
});

test("where incoming items go: offered from the node's list, saved at once, refused with the node's reason", async () => {
  const { api, calls } = loaded({
    setProject: (_id, project) =>
      project === 'problem'
        ? ok(connection({ status: 'ACTIVE', project }))
        : err({ code: 'PROJECT_UNKNOWN', message: 'There is no project "gone" here.', fields: { project: 'Unknown project.' } }),
  });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  expect(flow.getState().projects?.map((p) => p.key)).toEqual(['incident', 'problem']);
  expect(await flow.setProject('problem')).toBe(true);
  expect(flow.getState()).toMatchObject({ connection: { project: 'problem' }, notice: 'New items from the other side are created in Problem from now on' });
  // The same again changes nothing and asks nothing.
  const before = calls.length;
  expect(await flow.setProject('problem')).toBe(true);
  expect(calls.length).toBe(before);
  expect(await flow.setProject('gone')).toBe(false);
  expect(flow.getState()).toMatchObject({ connection: { project: 'problem' }, banner: { code: 'PROJECT_UNKNOWN' } });
});

test('a tracker that cannot list its item types still gets triggers (typed in)', async () => {
  const { api } = loaded({ listItemTypes: () => err({ code: 'TRACKER_UNAVAILABLE', message: 'No answer.' }) });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  expect(flow.getState()).toMatchObject({ loading: false, banner: null, itemTypes: null, rules: expect.any(Object) });
});

test('a load failure is shown with its code and nothing half-loaded', async () => {
  const { api } = loaded({ getRules: () => err({ code: 'CONNECTION_NOT_FOUND', message: 'No such connection.' }) });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  expect(flow.getState()).toMatchObject({ loading: false, banner: { code: 'CONNECTION_NOT_FOUND' }, rules: null });
});

test('saving rules sends only the changed editor (the other stays the default); a syntax error lands under the rule it is in', async () => {
  let answer: 'bad' | 'good' = 'bad';
  const { api, calls } = loaded({
    saveRules: (_id, req) =>
      answer === 'bad'
        ? err({ code: 'SYNC_RULE_INVALID', message: 'The rules were not saved: line 1: unexpected token', fields: { incoming: 'Line 1: unexpected token' } })
        : ok({ ...rules, incoming: req.incoming!, incomingIsDefault: false }),
  });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  flow.setRule('incoming', 'workItem.summary = ;');
  expect(flow.rulesChanged).toBe(true);
  expect(await flow.saveRules()).toBe(false);
  expect(flow.getState().ruleErrors).toEqual({ outgoing: undefined, incoming: 'Line 1: unexpected token' });
  expect(flow.getState().banner?.code).toBe('SYNC_RULE_INVALID');

  answer = 'good';
  flow.setRule('incoming', 'workItem.summary = replica.summary + "!";');
  expect(flow.getState().ruleErrors.incoming).toBeUndefined();
  expect(await flow.saveRules()).toBe(true);
  expect(calls.filter((c) => c.method === 'saveRules').at(-1)!.args[1]).toEqual({ incoming: 'workItem.summary = replica.summary + "!";' });
  expect(flow.getState()).toMatchObject({ notice: 'Sync rules saved', rules: { incomingIsDefault: false } });
  expect(flow.rulesChanged).toBe(false);
});

test('restoring a default rule saves null for that direction only', async () => {
  const { api, calls } = loaded({ saveRules: () => ok(rules) });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  flow.setRule('outgoing', 'replica.summary = "x";');
  await flow.restoreDefault('outgoing');
  expect(calls.find((c) => c.method === 'saveRules')!.args[1]).toEqual({ outgoing: null });
  expect(flow.getState().draft.outgoing).toBe(rules.outgoing);
});

test('a new trigger is previewed against the tracker, then saved; a bad query says why and is not saved', async () => {
  const { api, calls } = loaded({
    previewTrigger: (_id, req) =>
      (req.query ?? '').includes('[Nope]')
        ? err({ code: 'TRIGGER_QUERY_INVALID', message: 'TF51005: The query references a field that does not exist: Nope.' })
        : ok({ items: [{ key: '7', url: 'http://x/7', updated: '2026-01-01T00:00:00.000Z', summary: 'Printer on fire' }], more: false }),
    createTrigger: (_id, req) => ok(trigger({ id: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', itemType: req.itemType ?? null, query: req.query ?? '' })),
  });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  flow.editTrigger(null);
  flow.setTrigger('itemType', 'Task');
  flow.setTrigger('query', "[Nope] = 'x'");
  expect(await flow.previewTrigger()).toBe(false);
  expect(flow.getState().triggerError).toMatch(/TF51005/);
  flow.setTrigger('query', "[System.State] = 'Active'");
  expect(flow.getState().triggerError).toBeNull();
  expect(await flow.previewTrigger()).toBe(true);
  expect(flow.getState().preview?.items.map((i) => i.key)).toEqual(['7']);
  expect(await flow.saveTrigger()).toBe(true);
  expect(calls.find((c) => c.method === 'createTrigger')!.args[1]).toEqual({ itemType: 'Task', query: "[System.State] = 'Active'", active: true });
  expect(flow.getState().triggers).toHaveLength(2);
  expect(flow.getState().trigger).toBeNull();
});

test('an empty item type means every type; editing sends an update; deactivating and deleting change the list', async () => {
  const { api, calls } = loaded({
    updateTrigger: (_id, triggerId, req) => ok(trigger({ id: triggerId, itemType: req.itemType ?? null, query: req.query ?? '', active: req.active ?? true })),
    deleteTrigger: () => ok(null),
  });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  flow.editTrigger(flow.getState().triggers[0]!);
  flow.setTrigger('itemType', '  ');
  await flow.saveTrigger();
  expect(calls.find((c) => c.method === 'updateTrigger')!.args[2]).toEqual({ itemType: null, query: trigger().query, active: true });
  await flow.setTriggerActive(flow.getState().triggers[0]!, false);
  expect(flow.getState().triggers[0]!.active).toBe(false);
  await flow.deleteTrigger(trigger().id);
  expect(flow.getState().triggers).toEqual([]);
});

test('bulk sync follows the progress until every item is done, then refreshes the queue', async () => {
  const progress: BulkSyncView[] = [
    { id: 'b1', total: 3, synced: 1, failed: 0, startedAt: '2026-01-01T00:00:00.000Z', done: false },
    { id: 'b1', total: 3, synced: 2, failed: 1, startedAt: '2026-01-01T00:00:00.000Z', done: true },
  ];
  const { api, calls } = loaded({
    bulkSync: () => ok({ id: 'b1', total: 3, synced: 0, failed: 0, startedAt: '2026-01-01T00:00:00.000Z', done: false }),
    getBulkSync: () => ok(progress.shift()!),
  });
  const seen: number[] = [];
  const flow = new ConfigureSyncFlow(api, ID, async () => void seen.push(flow.getState().bulk!.synced));
  await flow.load();
  expect(await flow.bulkSync(trigger().id)).toBe(true);
  expect(seen).toEqual([0, 1]);
  expect(flow.getState().bulk).toMatchObject({ synced: 2, failed: 1, done: true });
  expect(calls.filter((c) => c.method === 'getQueue')).toHaveLength(2);
});

test('sync now needs a key, says when the tracker has no such item, and queues one that exists', async () => {
  const { api } = loaded({
    syncNow: (_id, key) => (key === '404' ? err({ code: 'ITEM_NOT_FOUND', message: 'There is no item 404 in the tracker.' }) : ok({ key })),
  });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  expect(await flow.syncNow()).toBe(false);
  expect(flow.getState().syncNowError).toMatch(/Enter the key/);
  flow.setSyncNowKey('404');
  expect(await flow.syncNow()).toBe(false);
  expect(flow.getState().syncNowError).toMatch(/no item 404/);
  flow.setSyncNowKey(' 12 ');
  expect(await flow.syncNow()).toBe(true);
  expect(flow.getState()).toMatchObject({ syncNowKey: '', notice: '12 is queued to sync' });
});

test('retrying one failed item or all of them refreshes the queue; one action at a time', async () => {
  const failedItem = {
    localKey: '5',
    localUrl: null,
    remoteKey: 'SUP-1',
    remoteUrl: null,
    status: 'FAILED' as const,
    error: { code: 'SCRIPT_ERROR', message: 'boom', direction: 'incoming' as const, line: 3, retryable: false, at: '2026-01-01T00:00:00.000Z' },
    attempts: 1,
    lastSyncAt: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  let failed = true;
  const { api, calls } = loaded({
    getQueue: () => ok(queue(failed ? { items: { PENDING: 0, SYNCED: 0, FAILED: 1, UNSYNCED: 0 }, attention: [failedItem] } : {})),
    retryItem: () => {
      failed = false;
      return ok({ ...failedItem, status: 'PENDING', error: null });
    },
    retryFailed: () => ok({ retried: 2 }),
  });
  const flow = new ConfigureSyncFlow(api, ID);
  await flow.load();
  expect(flow.getState().queue?.attention[0]?.error?.line).toBe(3);
  const first = flow.retry('5');
  expect(await flow.retryAllFailed()).toBe(false); // busy with the first
  expect(await first).toBe(true);
  expect(flow.getState().queue?.attention).toEqual([]);
  expect(await flow.retryAllFailed()).toBe(true);
  expect(flow.getState().notice).toBe('2 items are queued again');
  expect(calls.filter((c) => c.method === 'retryFailed')).toHaveLength(1);
});

test("the preview's headline counts in the tracker's words", () => {
  const words = { item: 'issue', items: 'issues' };
  expect(previewHeadline({ items: [1], more: false }, words)).toBe('1 issue matches now:');
  expect(previewHeadline({ items: [1, 2, 3], more: false }, words)).toBe('3 issues match now:');
  expect(previewHeadline({ items: new Array(20).fill(0), more: true }, words)).toBe('More than 20 issues match now:');
});
