import { randomBytes, randomUUID } from 'node:crypto';
import { migrate, openPglite, type Database } from '../src/index.js';
import { ConnectionCache, ConnectionRepository, type ConnectionRow } from '../src/connections/repository.js';
import { SecretBox } from '../src/secrets/secret-box.js';

// On the embedded database, which only this process writes, the connections are kept in memory
// (every sync step reads its connection). What is read must still always be what is stored.

let db: Database;
let repo: ConnectionRepository;
beforeEach(async () => {
  db = await openPglite(null);
  await migrate(db);
  repo = new ConnectionRepository(db, new SecretBox(randomBytes(32)), new ConnectionCache());
});
afterEach(() => db.close());

const newConnection = (name: string): Omit<ConnectionRow, 'created_at' | 'updated_at' | 'deleted_at'> => ({
  id: randomUUID(),
  name,
  description: '',
  mode: 'SCRIPT',
  role: 'INITIATOR',
  status: 'ACTIVE',
  pending_step: null,
  status_reason: null,
  local_short_name: 'jira',
  remote_short_name: 'ado',
  project: 'SUP',
  partner_instance_id: null,
  partner_node_type: null,
  partner_node_url: null,
  partner_tracker_url: null,
  partner_poll_only: null,
  protocol_version: 1,
  destination_url: null,
  handshake: null,
  invitation_expires_at: null,
  invitation_used_at: null,
  invitation_revoked_at: null,
  connection_key: 'the-connection-key',
  activated_at: null,
});

it('answers from memory, and every write (direct or in a committed transaction) is seen at once', async () => {
  const row = await repo.insert(newConnection('first'));
  expect((await repo.find(row.id))?.status).toBe('ACTIVE');
  await repo.update(row.id, { status: 'DEACTIVATED' });
  expect((await repo.findLive(row.id))?.status).toBe('DEACTIVATED');
  await db.transaction(async (tx) => {
    await repo.with(tx).update(row.id, { status: 'ACTIVE' });
  });
  expect((await repo.list()).map((r) => r.status)).toEqual(['ACTIVE']);
  await repo.update(row.id, { deleted_at: new Date() });
  expect(await repo.list()).toEqual([]);
  expect(await repo.findLive(row.id)).toBeNull();
  expect((await repo.find(row.id))?.deleted_at).not.toBeNull();
  await repo.hardDelete(row.id);
  expect(await repo.find(row.id)).toBeNull();
});

it('is served from memory: a change behind the repository’s back is not seen until a write through it', async () => {
  // This is why only a process that alone writes its database may use the cache.
  const row = await repo.insert(newConnection('first'));
  await repo.find(row.id);
  await db.query(`update connections set status = 'DEACTIVATED' where id = $1`, [row.id]);
  expect((await repo.find(row.id))?.status).toBe('ACTIVE');
  await repo.insert(newConnection('second'));
  expect((await repo.find(row.id))?.status).toBe('DEACTIVATED');
});

it('forgets what a rolled-back transaction wrote', async () => {
  const row = await repo.insert(newConnection('first'));
  await expect(
    db.transaction(async (tx) => {
      await repo.with(tx).update(row.id, { status: 'DEACTIVATED' });
      // Read inside the transaction: the transaction's own view, not the cache.
      expect((await repo.with(tx).find(row.id))?.status).toBe('DEACTIVATED');
      throw new Error('rolled back');
    }),
  ).rejects.toThrow('rolled back');
  expect((await repo.find(row.id))?.status).toBe('ACTIVE');
});

it('does not keep a read that a write overlapped', async () => {
  const row = await repo.insert(newConnection('first'));
  // The read and the write are queued together; the read's answer predates the write.
  const [before] = await Promise.all([repo.find(row.id), repo.update(row.id, { status: 'DEACTIVATED' })]);
  expect(before?.status).toBe('ACTIVE');
  expect((await repo.find(row.id))?.status).toBe('DEACTIVATED');
});

it('hands out copies: changing a row read does not change what others read', async () => {
  const row = await repo.insert(newConnection('first'));
  const read = (await repo.find(row.id))!;
  read.status = 'DEACTIVATED';
  expect((await repo.find(row.id))?.status).toBe('ACTIVE');
  expect((await repo.list())[0]?.status).toBe('ACTIVE');
});

it('lists connections in the order they were made', async () => {
  const names = ['c', 'a', 'b'];
  for (const name of names) await repo.insert(newConnection(name));
  expect((await repo.list()).map((r) => r.name)).toEqual(names);
});

it('has readers that come while the connections load share that load, unless a write came between', async () => {
  const cache = new ConnectionCache();
  let loads = 0;
  const load = async () => {
    loads += 1;
    await new Promise((r) => setTimeout(r, 10));
    return [];
  };
  await Promise.all([cache.get(load), cache.get(load), cache.get(load)]);
  expect(loads).toBe(1);
  await cache.get(load);
  expect(loads).toBe(1);
  cache.drop();
  const first = cache.get(load);
  cache.drop();
  await Promise.all([first, cache.get(load)]);
  expect(loads).toBe(3);
  // A failed load is not kept: the next reader tries again.
  cache.drop();
  await expect(cache.get(() => Promise.reject(new Error('database gone')))).rejects.toThrow('database gone');
  await cache.get(load);
  expect(loads).toBe(4);
});
