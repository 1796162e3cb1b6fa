import { randomBytes, randomUUID } from 'node:crypto';
import { migrate, openPglite, openPostgres, type Database } from '../src/index.js';
import { maintainEmbedded } from '../src/db/maintenance.js';
import { BACKENDS, nodeConfig, startTestServer } from './support.js';

interface Stats {
  dead: string;
  tuples: number;
  last_vacuum: Date | null;
  last_analyze: Date | null;
}

/** The table's statistics, with the counts not flushed yet (at most once a second otherwise). */
const statsOf = async (db: Database, table: string): Promise<Stats> => {
  await db.query('select pg_stat_force_next_flush()');
  return (
    await db.query<Stats>(
      `select s.n_dead_tup as dead, c.reltuples::float8 as tuples, s.last_vacuum, s.last_analyze
       from pg_stat_all_tables s join pg_class c on c.oid = s.relid where s.schemaname = 'public' and s.relname = $1`,
      [table],
    )
  )[0]!;
};

/** A connection with `n` twins, each then updated `times` times (every update leaves a dead row behind). */
async function churn(db: Database, connectionId: string, n: number, times: number): Promise<void> {
  for (let i = 0; i < times; i++)
    await db.query(`update twins set local_version = $2 where connection_id = $1 and local_key <= $3`, [
      connectionId,
      `v${randomUUID()}`,
      `SUP-${String(n).padStart(4, '0')}`,
    ]);
}

describe('maintenance of the embedded database (it has no autovacuum)', () => {
  let db: Database;
  let connectionId: string;
  beforeEach(async () => {
    db = await openPglite(null);
    await migrate(db);
    connectionId = randomUUID();
    await db.query(
      `insert into connections (id, name, mode, role, status, local_short_name, remote_short_name, project) values ($1, 'c', 'SCRIPT', 'INITIATOR', 'ACTIVE', 'jira', 'ado', 'SUP')`,
      [connectionId],
    );
    await db.query(`insert into twins (connection_id, local_key, status) select $1, 'SUP-' || lpad(g::text, 4, '0'), 'SYNCED' from generate_series(1, 400) g`, [
      connectionId,
    ]);
  });
  afterEach(() => db.close());

  it("vacuums and analyzes the tables that need it, by autovacuum's thresholds, and leaves the others alone", async () => {
    await churn(db, connectionId, 400, 2);
    const before = await statsOf(db, 'twins');
    expect(Number(before.dead)).toBeGreaterThan(400);
    expect(before.tuples).toBe(-1); // never analyzed: the planner guesses its size

    const done = await maintainEmbedded(db);
    const twins = done.find((t) => t.table === 'public.twins');
    expect(twins).toMatchObject({ vacuumed: true, analyzed: true });
    expect(twins!.reasons).toContain(`${before.dead} dead rows`);
    const after = await statsOf(db, 'twins');
    expect(Number(after.dead)).toBe(0);
    expect(after.tuples).toBe(400);
    expect(after.last_vacuum).toBeInstanceOf(Date);
    expect(after.last_analyze).toBeInstanceOf(Date);
    // Tables nobody wrote to are left alone.
    expect(done.map((t) => t.table)).not.toContain('public.peer_blobs');

    // Right after, nothing is due. 100 changed rows of 400 are more than analyze's threshold
    // (50 + 10%) but fewer dead rows than vacuum's (50 + 20%); every row changed again, more.
    expect((await maintainEmbedded(db)).map((t) => t.table)).not.toContain('public.twins');
    await churn(db, connectionId, 100, 1);
    expect((await maintainEmbedded(db)).find((t) => t.table === 'public.twins')).toMatchObject({ vacuumed: false, analyzed: true });
    await churn(db, connectionId, 400, 1);
    const again = (await maintainEmbedded(db)).find((t) => t.table === 'public.twins');
    expect(again?.vacuumed).toBe(true);
    expect(again?.reasons[0]).toMatch(/^\d+ dead rows$/);
    expect(Number((await statsOf(db, 'twins')).dead)).toBe(0);
  });
});

test('a node on the embedded database does it in the background', async () => {
  const connectionId = randomUUID();
  const t = await startTestServer('pglite', [nodeConfig('jira')], { maintenanceIntervalMs: 100 });
  try {
    const nodeDb = t.server.nodes.get('jira')!.database;
    await nodeDb.query(
      `insert into connections (id, name, mode, role, status, local_short_name, remote_short_name, project) values ($1, 'c', 'SCRIPT', 'INITIATOR', 'ACTIVE', 'jira', 'ado', 'SUP')`,
      [connectionId],
    );
    await nodeDb.query(
      `insert into twins (connection_id, local_key, status) select $1, 'SUP-' || lpad(g::text, 4, '0'), 'SYNCED' from generate_series(1, 400) g`,
      [connectionId],
    );
    await churn(nodeDb, connectionId, 400, 1);
    const deadline = Date.now() + 10_000;
    let stats = await statsOf(nodeDb, 'twins');
    while (Number(stats.dead) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await statsOf(nodeDb, 'twins');
    }
    expect(Number(stats.dead)).toBe(0);
    expect(stats.last_vacuum).toBeInstanceOf(Date);
  } finally {
    await t.close();
  }
});

(BACKENDS.includes('postgres') ? test : test.skip)("on a PostgreSQL server it is left to the server's autovacuum", async () => {
  const server = await openPostgres(process.env['EXALATE_TEST_DATABASE_URL']!, `t${randomBytes(5).toString('hex')}_maint`);
  try {
    await migrate(server);
    const id = randomUUID();
    await server.query(
      `insert into connections (id, name, mode, role, status, local_short_name, remote_short_name, project) values ($1, 'c', 'SCRIPT', 'INITIATOR', 'ACTIVE', 'jira', 'ado', 'SUP')`,
      [id],
    );
    await server.query(`insert into twins (connection_id, local_key, status) select $1, 'SUP-' || g, 'SYNCED' from generate_series(1, 400) g`, [id]);
    expect(await maintainEmbedded(server)).toEqual([]);
  } finally {
    await server.close();
  }
});
