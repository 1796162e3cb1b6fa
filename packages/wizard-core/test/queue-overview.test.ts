import type { SyncQueueView } from '@exalate/contract';
import { AdminSession, QueueOverview, type AdminApi, type NodeSettingsApi, type SyncAdminApi } from '../src/index.js';
import { connection, err, fakeApi, ok } from './fake-api.js';

const A = '3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77';
const B = '4c1f8a5e-4d8b-4c51-9b43-1b2f0e1c9a78';
const C = '5d2f8a5e-4d8b-4c51-9b43-1b2f0e1c9a79';
const queue = (failed: number): SyncQueueView => ({ items: { PENDING: 1, SYNCED: 4, FAILED: failed, UNSYNCED: 0 }, outbox: 2, inbox: 0, attention: [] });

function api(extra: Parameters<typeof fakeApi<AdminApi & SyncAdminApi & NodeSettingsApi>>[0] = {}) {
  return fakeApi<AdminApi & SyncAdminApi & NodeSettingsApi>({
    listConnections: () =>
      ok({
        connections: [
          connection({ id: A, name: 'a', status: 'ACTIVE' }),
          connection({ id: B, name: 'b', status: 'PENDING' }),
          connection({ id: C, name: 'c', status: 'ERROR' }),
        ],
      }),
    getQueue: (id) => (id === A ? ok(queue(2)) : err({ code: 'TRACKER_UNAVAILABLE', message: 'No answer.' })),
    ...extra,
  });
}

test("every established connection's queue, a pending one without, and a queue that could not be read with its reason", async () => {
  const { api: a, calls } = api();
  const overview = new QueueOverview(a);
  await overview.load();
  const rows = overview.getState().rows;
  expect(rows.map((r) => [r.connection.name, r.queue?.items.FAILED ?? null, r.error?.code ?? null])).toEqual([
    ['a', 2, null],
    ['b', null, null],
    ['c', null, 'TRACKER_UNAVAILABLE'],
  ]);
  expect(overview.failed).toBe(2);
  expect(calls.filter((c) => c.method === 'getQueue').map((c) => c.args[0])).toEqual([A, C]);
});

test('retry one item or all failed items of a connection, then read again; a refusal is shown', async () => {
  let failed = 2;
  const { api: a } = api({
    getQueue: () => ok(queue(failed)),
    retryFailed: () => ((failed = 0), ok({ retried: 2 })),
    retryItem: (_id, key) => (key === 'INC0010001' ? ok({} as never) : err({ code: 'ITEM_NOT_FOUND', message: 'Not in the queue.' })),
  });
  const overview = new QueueOverview(a);
  await overview.load();
  expect(await overview.retryAllFailed(A)).toBe(true);
  expect(overview.getState()).toMatchObject({ notice: '2 items are queued again', busy: null });
  expect(overview.failed).toBe(0);
  expect(await overview.retry(A, 'INC0010001')).toBe(true);
  expect(await overview.retry(A, 'INC9')).toBe(false);
  expect(overview.getState().banner?.code).toBe('ITEM_NOT_FOUND');
});

test('the session opens the queue first when the host asks for it', async () => {
  const { api: a } = api({ nodeInfo: () => ok({} as never) });
  const session = new AdminSession({
    nodeType: 'SERVICENOW',
    clipboard: { writeText: async () => {} },
    loadSettings: async () => ({ nodeUrl: 'https://x.example.com/nodes/snow' }),
    api: () => a,
    initialTab: 'queue',
  });
  await session.start();
  expect(session.getState()).toMatchObject({ tab: 'queue', screen: { name: 'queue' } });
});
