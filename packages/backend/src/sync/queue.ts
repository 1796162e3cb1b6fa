import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';

/**
 * The sync's work, as jobs in pg-boss, in the node's own database (PGlite or a PostgreSQL server:
 * one code path). Jobs are "look at this again" nudges, not the data: the data lives in the
 * outbox, the inbox and the twins, so a job lost to a crash is redone from what is stored.
 *
 * Every queue but the batches is `short` with a singleton key: per key at most one job waits, so a
 * burst of changes to one item folds into one run that reads the latest state. One key never runs
 * twice at once (the ordering per item, or per connection for delivery and scans): a run holds a
 * lease on its key in `sync_leases`, across processes that share a PostgreSQL server. pg-boss's
 * own `stately` policy would give that too, but a busy key would then hold up every key behind it.
 *
 * A bulk sync asks for thousands of outgoing runs at once: those go as `outgoingBatch` jobs of up
 * to BATCH_KEYS keys each, because a job costs pg-boss about a millisecond of the node's CPU
 * (insert, fetch, completion), as much as the rest of an outgoing run's own statements. Each key
 * of a batch still runs under its own item's lease, exactly like an `outgoing` job.
 *
 * Work a process held when it died is taken up again promptly, not at pg-boss's expiry (minutes:
 * its timer also bounds how long a living handler may run). On the embedded database there is one
 * process, this one: at start, every job left active is a dead process's, and goes back at once.
 * On a PostgreSQL server, each process says every HEARTBEAT_MS that it lives (`sync_workers`) and
 * which jobs it runs (`sync_job_owners`); every RESCUE_MS any of them hands the jobs of a process
 * silent for DEAD_AFTER_S back for a retry (see rescue()).
 */
export const JOBS = {
  /** {connectionId}: run the triggers' incremental queries. */
  scan: 'exalate-scan',
  /** {connectionId, key}: outgoing rule for one local item, into the outbox. */
  outgoing: 'exalate-outgoing',
  /** {connectionId}: push the outbox to a partner this node can reach. */
  deliver: 'exalate-deliver',
  /** {connectionId, key}: incoming rule for the partner's item `key`, from the inbox into the tracker. */
  incoming: 'exalate-incoming',
  /** {connectionId, keys}: `outgoing` for each of these local items (a bulk sync, sync now). */
  outgoingBatch: 'exalate-outgoing-batch',
} as const;
export type JobName = keyof typeof JOBS;

export interface JobData {
  connectionId: string;
  key?: string;
  /** `outgoingBatch` only. */
  keys?: string[];
}

export type JobHandler = (data: JobData) => Promise<void>;

const WORKERS_PER_QUEUE = 2;

/** A process not heard of for this long is dead, and its jobs are handed back (see the header). */
export const DEAD_AFTER_S = 20;
const HEARTBEAT_MS = 5_000;
const RESCUE_MS = 10_000;

/** Keys per `outgoingBatch` job: a batch that outlives its expiry is run again, so it stays short. */
export const BATCH_KEYS = 25;

export class SyncQueue {
  private readonly workers = new Map<JobName, string[]>();
  /** Job handlers under way (see stop). */
  private readonly running = new Set<Promise<unknown>>();

  private readonly owner = randomUUID();

  private heartbeat: NodeJS.Timeout | null = null;

  /**
   * An embedded database has one process, this one: its leases are kept in memory, which saves
   * two statements per sync step. On a PostgreSQL server they are rows that every process sees.
   */
  private readonly localLeases: Set<string> | null;

  private constructor(
    private readonly boss: PgBoss,
    private readonly db: Database,
    private readonly logger: Logger,
    /** pg-boss's own statements under way (see stop). */
    private readonly bossStatements: Set<Promise<unknown>>,
  ) {
    this.localLeases = db.kind === 'pglite' ? new Set() : null;
  }

  /** `batchSize` jobs of each kind run at once per worker (two workers per kind). */
  static async start(db: Database, logger: Logger, handlers: Record<JobName, JobHandler>, batchSize = 8): Promise<SyncQueue> {
    const bossStatements = new Set<Promise<unknown>>();
    const boss = new PgBoss({
      db: {
        executeSql: (text: string, values: unknown[]) => {
          const statement = db.executeSql(text, values);
          bossStatements.add(statement);
          const done = () => bossStatements.delete(statement);
          statement.then(done, done);
          return statement;
        },
      },
      schema: queueSchema(db),
      // Crons are not used; maintenance (expiry of stuck jobs, archiving) is.
      schedule: false,
      supervise: true,
    });
    boss.on('error', (error: unknown) => logger.error({ err: error }, 'job queue error'));
    await boss.start();
    // An embedded database has one process: lease rows left in it (from before leases were kept
    // in memory there) are from a process that has ended.
    if (db.kind === 'pglite') await db.query(`delete from sync_leases`);
    const queue = new SyncQueue(boss, db, logger, bossStatements);
    for (const [name, queueName] of Object.entries(JOBS) as [JobName, string][]) {
      const batches = name === 'outgoingBatch';
      const options = {
        // A handler throws only on the unexpected (its own retries are scheduled as new jobs).
        retryLimit: 5,
        retryDelay: 2,
        retryBackoff: true,
        // pg-boss's own last resort for a job no process finishes; it also stops waiting for a
        // living handler then. A batch runs BATCH_KEYS items, each bounded by its tracker calls' time-outs.
        expireInSeconds: batches ? 300 : 120,
      };
      // Batches are not folded: each holds keys of its own.
      const queueOptions = { name: queueName, policy: batches ? ('standard' as const) : ('short' as const), ...options };
      if (!(await boss.getQueue(queueName))) {
        await boss.createQueue(queueName, queueOptions).catch(async (error: unknown) => {
          // Another process created it first.
          if (!(await boss.getQueue(queueName))) throw error;
        });
      } else {
        // Made by an earlier version, with other times (the policy is said again: pg-boss would reset it).
        await boss.updateQueue(queueName, queueOptions);
      }
    }
    if (db.kind === 'pglite') await queue.takeBackOrphans();
    else await queue.startHeartbeat();
    for (const [name, queueName] of Object.entries(JOBS) as [JobName, string][]) {
      const batches = name === 'outgoingBatch';
      // Jobs are taken in batches and run side by side: different keys in parallel, one key never
      // twice at once (the lease). pg-boss waits a polling interval after each batch, so a full
      // batch asks for the next one at once; a kick wakes the workers too.
      for (let i = 0; i < WORKERS_PER_QUEUE; i += 1) {
        // A batch job is many runs already: one at a time per worker.
        const take = batches ? 1 : batchSize;
        const workerId: string = await boss.work<JobData>(
          queueName,
          { batchSize: take, pollingIntervalSeconds: db.kind === 'pglite' ? 1 : 0.5 },
          async (jobs) => {
            // A batch's keys each take their own lease, in the handler.
            const ids = jobs.map((job) => job.id);
            await queue.own(queueName, ids);
            const run = Promise.all(jobs.map((job) => (batches ? handlers[name](job.data) : queue.runExclusive(name, job.data, handlers[name]))));
            queue.running.add(run);
            try {
              await run;
            } finally {
              queue.running.delete(run);
              await queue.disown(ids);
            }
            if (jobs.length === take) boss.notifyWorker(workerId);
          },
        );
        queue.workers.set(name, [...(queue.workers.get(name) ?? []), workerId]);
      }
    }
    return queue;
  }

  /**
   * Jobs left active in an embedded database were a dead process's (the database has one process,
   * this one, and it has not fetched any yet): they go back for a retry now, not when they expire.
   */
  private async takeBackOrphans(): Promise<void> {
    const schema = queueSchema(this.db);
    const orphans = await this.db.query<{ id: string; name: string }>(`select id, name from ${schema}.job where state = 'active' and name = any($1::text[])`, [
      Object.values(JOBS),
    ]);
    const byQueue = new Map<string, string[]>();
    for (const o of orphans) byQueue.set(o.name, [...(byQueue.get(o.name) ?? []), o.id]);
    for (const [name, ids] of byQueue) await this.boss.fail(name, ids);
    if (orphans.length) this.logger.info({ jobs: orphans.length }, 'took back the sync work an earlier process of this node left unfinished');
  }

  /** On a PostgreSQL server: this process lives (now, and every HEARTBEAT_MS), and looks for dead ones' jobs every RESCUE_MS. */
  private async startHeartbeat(): Promise<void> {
    const beat = () =>
      this.db.query(`insert into sync_workers (owner, seen_at) values ($1, now()) on conflict (owner) do update set seen_at = now()`, [this.owner]);
    await beat();
    let last = Date.now();
    this.heartbeat = setInterval(() => {
      void beat().catch((error: unknown) => this.logger.warn({ err: error }, 'could not say this process lives; others may take up its sync work'));
      if (Date.now() - last >= RESCUE_MS) {
        last = Date.now();
        void this.rescue().catch((error: unknown) => this.logger.warn({ err: error }, 'could not look for the sync work of processes that ended'));
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Records the jobs this process is about to run (a PostgreSQL server only; one statement per batch taken). */
  private async own(queueName: string, ids: string[]): Promise<void> {
    if (this.db.kind === 'pglite') return;
    await this.db.query(
      `insert into sync_job_owners (job_id, owner, queue) select unnest($1::uuid[]), $2, $3 on conflict (job_id) do update set owner = excluded.owner`,
      [ids, this.owner, queueName],
    );
  }

  private async disown(ids: string[]): Promise<void> {
    if (this.db.kind === 'pglite') return;
    await this.db.query(`delete from sync_job_owners where job_id = any($1::uuid[]) and owner = $2`, [ids, this.owner]).catch(() => undefined);
  }

  /**
   * The jobs of processes silent for DEAD_AFTER_S (killed, or cut off from the database) go back
   * for a retry, to whichever process takes them next; their records go with them.
   */
  async rescue(): Promise<number> {
    const schema = queueSchema(this.db);
    const orphans = await this.db.query<{ id: string; name: string }>(
      `select o.job_id as id, o.queue as name from sync_job_owners o
         join ${schema}.job j on j.id = o.job_id and j.state = 'active'
         left join sync_workers w on w.owner = o.owner
        where w.owner is null or w.seen_at < now() - make_interval(secs => $1)`,
      [DEAD_AFTER_S],
    );
    const byQueue = new Map<string, string[]>();
    for (const o of orphans) byQueue.set(o.name, [...(byQueue.get(o.name) ?? []), o.id]);
    for (const [name, ids] of byQueue) await this.boss.fail(name, ids);
    await this.db.query(
      `delete from sync_job_owners o where not exists (select 1 from sync_workers w where w.owner = o.owner and w.seen_at >= now() - make_interval(secs => $1))`,
      [DEAD_AFTER_S],
    );
    await this.db.query(`delete from sync_workers where seen_at < now() - interval '1 day'`);
    if (orphans.length) this.logger.warn({ jobs: orphans.length }, 'took up the sync work of a process that ended');
    return orphans.length;
  }

  /** Asks for `name` to run for `data` (now, or after `delayMs`). A job already waiting for the same key absorbs it. */
  async kick(name: JobName, data: JobData, delayMs = 0): Promise<void> {
    await this.boss.send(JOBS[name], data, {
      singletonKey: singletonKeyOf(data),
      ...(delayMs > 0 ? { startAfter: new Date(Date.now() + delayMs) } : {}),
    });
    // Wake our own workers instead of waiting for their next poll (for a delayed job, when it is due).
    const wake = () => {
      for (const id of this.workers.get(name) ?? []) this.boss.notifyWorker(id);
    };
    if (delayMs === 0) wake();
    else setTimeout(wake, delayMs + 10).unref();
  }

  /** Outgoing runs for many local items (a bulk sync asks for thousands): `outgoingBatch` jobs, inserted at once. */
  async kickOutgoing(connectionId: string, keys: string[]): Promise<void> {
    const jobs: Array<{ name: string; data: JobData }> = [];
    for (let i = 0; i < keys.length; i += BATCH_KEYS) jobs.push({ name: JOBS.outgoingBatch, data: { connectionId, keys: keys.slice(i, i + BATCH_KEYS) } });
    for (let i = 0; i < jobs.length; i += 500) await this.boss.insert(jobs.slice(i, i + 500));
    if (jobs.length) for (const id of this.workers.get('outgoingBatch') ?? []) this.boss.notifyWorker(id);
  }

  /** Claims a lease (named like a job's: `{queue}:{connectionId}:{key}`); false while someone else holds it. */
  async tryLease(lease: string): Promise<boolean> {
    if (this.localLeases) {
      if (this.localLeases.has(lease)) return false;
      this.localLeases.add(lease);
      return true;
    }
    const claimed = await this.db.query(
      `insert into sync_leases (key, owner, until) values ($1, $2, now() + interval '30 seconds')
       on conflict (key) do update set owner = excluded.owner, until = excluded.until where sync_leases.until < now()
       returning owner`,
      [lease, this.owner],
    );
    return claimed.length > 0;
  }

  async release(lease: string): Promise<void> {
    if (this.localLeases) {
      this.localLeases.delete(lease);
      return;
    }
    await this.db.query(`delete from sync_leases where key = $1 and owner = $2`, [lease, this.owner]);
  }

  /**
   * Runs `handler` holding the key's lease (the one its queued jobs take); when another run holds
   * it, the work is queued again for a moment later instead.
   */
  async runExclusive(name: JobName, data: JobData, handler: JobHandler): Promise<void> {
    await this.runExclusiveAll(name, [data], async (held) => {
      if (held.length) await handler(data);
    });
  }

  /**
   * `runExclusive` for several keys at once: takes the leases it can (a key whose run is under way
   * elsewhere is queued again for a moment later), then runs `handler` with the work it holds.
   * `handler` gives a lease back with `done` once that key's run is over; what it has not given
   * back is given back when it returns.
   */
  async runExclusiveAll<T extends JobData>(name: JobName, work: T[], handler: (held: T[], done: (data: T) => Promise<void>) => Promise<void>): Promise<void> {
    const held = new Map<string, T>();
    for (const data of work) {
      const lease = leaseName(name, data);
      // Another run of this key is under way; come back when it is likely done.
      if (await this.tryLease(lease)) held.set(lease, data);
      else await this.kick(name, data, 250);
    }
    // A lease outlives its process by 30 s at most; a long run keeps renewing its own.
    const renew = this.localLeases
      ? undefined
      : setInterval(() => {
          if (held.size)
            void this.db
              .query(`update sync_leases set until = now() + interval '30 seconds' where key = any($1::text[]) and owner = $2`, [[...held.keys()], this.owner])
              .catch(() => undefined);
        }, 10_000);
    const done = async (data: T) => {
      const lease = leaseName(name, data);
      if (!held.delete(lease)) return;
      await this.release(lease);
    };
    try {
      await handler([...held.values()], done);
    } finally {
      clearInterval(renew);
      for (const data of [...held.values()]) await done(data);
    }
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.boss
      .stop({ graceful: true, wait: true, timeout: 10_000 })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'job queue did not stop cleanly'));
    // pg-boss's stop waits for the jobs its workers hold, but not for a fetch still under way,
    // which can hand out jobs after the stop has returned; and it records each job's end (complete
    // or fail) without awaiting it. Either would meet a closed database. So the queue is stopped
    // once neither a handler nor a pg-boss statement is under way (15 s at most). Each round lets
    // what a settled statement sets off (a fetch's jobs reaching their handler) start first.
    const by = Date.now() + 15_000;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const busy = [...this.running, ...this.bossStatements];
      if (!busy.length) return;
      const left = by - Date.now();
      if (left <= 0) {
        this.logger.warn({ running: this.running.size, statements: this.bossStatements.size }, 'jobs still running when the queue stopped');
        return;
      }
      await Promise.race([Promise.allSettled(busy), new Promise((r) => setTimeout(r, left).unref())]);
    }
  }
}

/** Where pg-boss keeps this database's jobs. */
const queueSchema = (db: Database): string => `${db.schema === 'public' ? 'exalate' : db.schema}_queue`;

const singletonKeyOf = (data: JobData): string => (data.key === undefined ? data.connectionId : `${data.connectionId}:${data.key}`);

/** The lease a run of `name` for `data` holds; another run wanting the same key claims it too. */
export const leaseName = (name: JobName, data: JobData): string => `${JOBS[name]}:${singletonKeyOf(data)}`;
