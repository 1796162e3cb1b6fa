import { PGlite } from '@electric-sql/pglite';
import { openPglite, type Database } from '../src/index.js';
import { PreparedStatements } from '../src/db/database.js';

// On PGlite, statements with parameters run as named prepared statements through PGlite's
// protocol API (see PreparedStatements). What they answer must be what PGlite's own query answers.

let db: Database;
const schema = `
  create table things (
    id bigserial primary key, key uuid not null, name text not null unique, count integer, big bigint,
    ok boolean, at timestamptz, doc jsonb, tags text[], bytes bytea, amount numeric, note text
  )`;
beforeEach(async () => {
  db = await openPglite(null);
  await db.query(schema);
});
afterEach(() => db.close());

const insert = `insert into things (key, name, count, big, ok, at, doc, tags, bytes, amount, note)
  values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *`;
const row = (i: number): unknown[] => [
  `6f1c1d2e-0000-4000-8000-00000000000${i}`,
  `thing ${i} ✓ "quoted" 'single'`,
  i,
  9_007_199_254_740_000 + i,
  i % 2 === 0,
  new Date(Date.UTC(2026, 10, 23, 12, 0, i, 123)),
  { nested: { list: [1, 'two', null], text: 'é ü \u2028' }, i },
  ['a', 'b,c', 'd"e', ''],
  Buffer.from([0, 1, 2, 255]),
  '12345.678',
  i === 1 ? null : undefined,
];

test("values of every type the backend stores come back as PGlite's own query gives them", async () => {
  // The same statements through PGlite's own query, on a database of its own.
  const reference = await PGlite.create();
  await reference.query(schema);
  try {
    for (const i of [1, 2, 3]) {
      const ours = await db.query(insert, row(i));
      const theirs = (await reference.query(insert, row(i))).rows;
      expect(ours).toEqual(theirs);
    }
    const select = `select * from things where ok = $1 and count >= $2 order by id`;
    // Run often enough that PostgreSQL switches to a generic plan.
    for (let k = 0; k < 8; k += 1) expect(await db.query(select, [true, 0])).toEqual((await reference.query(select, [true, 0])).rows);
    expect(await db.query(select, [false, 1])).toHaveLength(2);
    const [first] = await db.query<{ doc: { nested: { text: string } }; at: Date; tags: string[] }>(`select doc, at, tags from things where name = $1`, [
      `thing 1 ✓ "quoted" 'single'`,
    ]);
    expect(first?.doc.nested.text).toBe('é ü \u2028');
    expect(first?.at).toEqual(new Date(Date.UTC(2026, 10, 23, 12, 0, 1, 123)));
    expect(first?.tags).toEqual(['a', 'b,c', 'd"e', '']);
  } finally {
    await reference.close();
  }
});

test("an error carries PostgreSQL's code, and the same statement works after it", async () => {
  await db.query(insert, row(1));
  await expect(db.query(insert, row(1))).rejects.toMatchObject({ code: '23505' });
  await expect(db.query(`select * from things where count = $1`, ['not a number'])).rejects.toMatchObject({ code: '22P02' });
  await expect(db.query(`select * from no_such_table where id = $1`, [1])).rejects.toMatchObject({ code: '42P01' });
  const again = await db.query<{ name: string }>(insert, row(2));
  expect(again[0]?.name).toContain('thing 2');
  expect(await db.query(`select count(*)::int as n from things where id > $1`, [0])).toEqual([{ n: 2 }]);
});

test('a failing statement in a transaction rolls all of it back, and the next statements run', async () => {
  await expect(
    db.transaction(async (tx) => {
      await tx.query(insert, row(1));
      await tx.query(insert, row(2));
      await tx.query(insert, row(1));
    }),
  ).rejects.toMatchObject({ code: '23505' });
  expect(await db.query(`select count(*)::int as n from things where id > $1`, [0])).toEqual([{ n: 0 }]);
  // Statements with and without parameters (the migrations' schema changes) in one transaction.
  await db.transaction(async (tx) => {
    await tx.query(insert, row(1));
    await tx.query(`create table more_things (id integer primary key)`);
    await tx.query(insert, row(2));
  });
  expect(await db.query(`select count(*)::int as n from things where id > $1`, [0])).toEqual([{ n: 2 }]);
  expect(await db.query(`select count(*)::int as n from more_things`)).toEqual([{ n: 0 }]);
});

test('a table changed after a statement was prepared: the statement is prepared again and answers with the new shape', async () => {
  await db.query(insert, row(1));
  const select = `select * from things where id = $1`;
  expect(Object.keys((await db.query(select, [1]))[0]!)).not.toContain('extra');
  await db.query(`alter table things add column extra text not null default 'new'`);
  expect((await db.query<{ extra: string }>(select, [1]))[0]?.extra).toBe('new');
});

test('more distinct statements than are kept prepared: the oldest are closed, and every statement still answers', async () => {
  const raw = await PGlite.create();
  try {
    const statements = new PreparedStatements(raw, 3);
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 10; i += 1) {
        const result = await statements.run(`select $1::int + ${i} as n`, [round], false);
        expect(result.rows).toEqual([{ n: round + i }]);
      }
    }
    // Closed ones go with the next message; at most one over the limit is still open.
    const open = await raw.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements`);
    expect(open.rows[0]!.n).toBeLessThanOrEqual(4);
  } finally {
    await raw.close();
  }
});
