import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, openPglite, openPostgres, type Database } from '../src/index.js';
import { BATCH_KEYS, DEAD_AFTER_S, leaseName, SyncQueue, type JobData, type JobHandler, type JobName } from '../src/sync/queue.js';
import { BACKENDS, eventually, quietLogger } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// pg-boss's stop waits for the jobs its workers hold, not for a fetch still under way; and it
// records a job's end without awaiting it. The queue's stop must cover both, or those statements
// meet a database that the node has closed after the stop (seen in CI as "Cannot use a pool after
// calling end on the pool", on a PostgreSQL server).
test('stops only once a fetch under way, the jobs it handed out and their completion are done', async () => {
  const db: Database = await openPglite(null);
  await migrate(db);
  // A fetch that finds a job answers late (after the database has answered it), so the stop
  // begins while it is still under way.
  const realExecuteSql = db.executeSql.bind(db);
  let slowFetch = false;
  let closed = false;
  const afterClose: string[] = [];
  let fetchedJob: () => void = () => undefined;
  const jobFetched = new Promise<void>((r) => (fetchedJob = r));
  db.executeSql = async (text, values) => {
    if (closed) afterClose.push(text.trim().slice(0, 60));
    const result = await realExecuteSql(text, values);
    if (slowFetch && /state < 'active'/.test(text) && result.rows.length > 0) {
      fetchedJob();
      await sleep(500);
    }
    return result;
  };
  const ran: string[] = [];
  const handler: JobHandler = async (data) => {
    ran.push(data.key ?? '');
  };
  const handlers = Object.fromEntries((['scan', 'outgoing', 'deliver', 'incoming', 'outgoingBatch'] as JobName[]).map((name) => [name, handler])) as Record<
    JobName,
    JobHandler
  >;
  const queue = await SyncQueue.start(db, quietLogger, handlers);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    slowFetch = true;
    await queue.kick('outgoing', { connectionId: '6f1c1d2e-0000-4000-8000-000000000001', key: 'SUP-1' });
    await jobFetched;
    await queue.stop();
    // What the fetch handed out has run, and its end is recorded, before the stop returned.
    expect(ran).toEqual(['SUP-1']);
    closed = true;
    await db.close();
    await sleep(1_500);
    expect(afterClose).toEqual([]);
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    if (!closed) await db.close();
  }
});

test('outgoing runs for many items go as batch jobs of at most BATCH_KEYS keys, each key in one of them', async () => {
  const db: Database = await openPglite(null);
  await migrate(db);
  const batches: string[][] = [];
  const handlers = Object.fromEntries(
    (['scan', 'outgoing', 'deliver', 'incoming', 'outgoingBatch'] as JobName[]).map((name) => [
      name,
      async (data: JobData) => {
        if (name !== 'outgoingBatch') throw new Error(`${name} was not asked for`);
        batches.push(data.keys ?? []);
      },
    ]),
  ) as Record<JobName, JobHandler>;
  const queue = await SyncQueue.start(db, quietLogger, handlers);
  try {
    const keys = Array.from({ length: 2 * BATCH_KEYS + 7 }, (_, i) => `SUP-${i + 1}`);
    await queue.kickOutgoing('6f1c1d2e-0000-4000-8000-000000000001', keys);
    const deadline = Date.now() + 10_000;
    while (batches.flat().length < keys.length && Date.now() < deadline) await sleep(50);
    expect(batches).toHaveLength(3);
    expect(batches.every((b) => b.length <= BATCH_KEYS)).toBe(true);
    expect(batches.flat().sort()).toEqual([...keys].sort());
  } finally {
    await queue.stop();
    await db.close();
  }
});

test.each(BACKENDS)('on %s, runExclusiveAll runs the keys it can lease, queues the others again, and gives every lease back', async (backend) => {
  const db: Database =
    backend === 'postgres'
      ? await openPostgres(process.env['EXALATE_TEST_DATABASE_URL']!, `t${randomBytes(5).toString('hex')}_leases`)
      : await openPglite(null);
  await migrate(db);
  const queued: string[] = [];
  const handlers = Object.fromEntries(
    (['scan', 'outgoing', 'deliver', 'incoming', 'outgoingBatch'] as JobName[]).map((name) => [
      name,
      async (data: JobData) => {
        if (name === 'outgoing') queued.push(data.key ?? '');
      },
    ]),
  ) as Record<JobName, JobHandler>;
  const queue = await SyncQueue.start(db, quietLogger, handlers);
  const connectionId = '6f1c1d2e-0000-4000-8000-000000000002';
  const lease = (key: string) => leaseName('outgoing', { connectionId, key });
  try {
    // SUP-2's run is under way elsewhere.
    expect(await queue.tryLease(lease('SUP-2'))).toBe(true);
    await queue.runExclusiveAll(
      'outgoing',
      ['SUP-1', 'SUP-2', 'SUP-3'].map((key) => ({ connectionId, key })),
      async (held, done) => {
        expect(held.map((d) => d.key)).toEqual(['SUP-1', 'SUP-3']);
        expect(await queue.tryLease(lease('SUP-1'))).toBe(false);
        await done(held[0]!);
        // Given back as soon as its run is over, while the others still run.
        expect(await queue.tryLease(lease('SUP-1'))).toBe(true);
        expect(await queue.tryLease(lease('SUP-3'))).toBe(false);
      },
    );
    expect(await queue.tryLease(lease('SUP-3'))).toBe(true);
    // SUP-2 was queued again, and runs once its lease is free.
    await queue.release(lease('SUP-2'));
    const deadline = Date.now() + 10_000;
    while (!queued.includes('SUP-2') && Date.now() < deadline) await sleep(50);
    expect(queued).toEqual(['SUP-2']);
  } finally {
    await queue.stop();
    await db.close();
  }
});

describe('work a process was doing when it was killed', () => {
  const child = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/queue-process.mjs');
  /** A queue process that has started the job it queued; killed with SIGKILL by `kill`. */
  async function busyProcess(args: string[]): Promise<{ kill: () => Promise<void> }> {
    const proc = fork(child, args, { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve());
      proc.once('exit', (code) => reject(new Error(`the queue process exited (${code}) before it started its job`)));
    });
    return {
      kill: async () => {
        proc.kill('SIGKILL');
        if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
      },
    };
  }
  const handlersRecording = (ran: string[]) =>
    Object.fromEntries(
      (['scan', 'outgoing', 'deliver', 'incoming', 'outgoingBatch'] as JobName[]).map((name) => [
        name,
        async (d: JobData) => void ran.push(`${name}:${d.key ?? ''}`),
      ]),
    ) as Record<JobName, JobHandler>;

  it('on the embedded database, is taken up as soon as the node starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exalate-queue-'));
    try {
      const first = await busyProcess(['pglite', dir]);
      await first.kill();
      const db = await openPglite(dir);
      await migrate(db);
      const ran: string[] = [];
      const started = Date.now();
      const queue = await SyncQueue.start(db, quietLogger, handlersRecording(ran));
      try {
        // Not at pg-boss's expiry (two minutes): at the start, after its retry's delay.
        await eventually(() => expect(ran).toEqual(['outgoing:IN-FLIGHT']), 15_000);
        expect(Date.now() - started).toBeLessThan(15_000);
      } finally {
        await queue.stop();
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  const onServer = BACKENDS.includes('postgres') ? it : it.skip;
  onServer(
    'on a PostgreSQL server, is taken up by another process that is still running, and never while its own lives',
    async () => {
      const url = process.env['EXALATE_TEST_DATABASE_URL']!;
      const schema = `t${randomBytes(5).toString('hex')}_crash`;
      const busy = await busyProcess(['postgres', url, schema]);
      const db = await openPostgres(url, schema);
      const ran: string[] = [];
      const other = await SyncQueue.start(db, quietLogger, handlersRecording(ran));
      const job = async () =>
        (await db.query<{ state: string; retry_count: number }>(`select state, retry_count from ${schema}_queue.job where name = 'exalate-outgoing'`))[0];
      try {
        // While the first process lives, its job stays its own, however long it runs: not failed,
        // not retried, not run here.
        await sleep((DEAD_AFTER_S + 12) * 1000);
        expect(await job()).toEqual({ state: 'active', retry_count: 0 });
        expect(ran).toEqual([]);
        await busy.kill();
        const killed = Date.now();
        await eventually(() => expect(ran).toEqual(['outgoing:IN-FLIGHT']), 60_000);
        // The silence that makes it dead, a rescue pass, the retry's delay and the lease's lapse:
        // well under pg-boss's own two minutes.
        expect(Date.now() - killed).toBeLessThan(50_000);
      } finally {
        await busy.kill();
        await other.stop();
        await db.close();
      }
    },
    150_000,
  );
});
