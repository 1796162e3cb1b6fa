/**
 * The scheduler: how one sync stage asks for another, by job name. `later(job)` is the durable
 * way, a job in the queue (pg-boss); `now(job)` is the in-process fast path, which runs the step
 * right away under the lease its queued job would take, saving a round trip through the queue.
 *
 * The fast path is only for work whose cause is stored anyway (the inbox, the outbox, a tracker
 * change the scans find again), so a crash or a stop loses nothing: what was asked for is redone
 * from what is stored, by the next start, the sweep or the scans.
 *
 * Its states, per step:
 * - `outgoing` / `incoming` of one item: *waiting* (at most once per item; asked again while
 *   waiting, it stays one) → *running* (at most LOCAL_CONCURRENCY at once, under the item's lease)
 *   → done. When LOCAL_WAITING_MAX are waiting, a new one goes to the queue instead. A run that
 *   fails unexpectedly becomes a queued job with backoff.
 * - `deliver` of a connection's outbox: *idle* → *running* (one at a time per connection) →
 *   *again* (asked meanwhile: what came in goes in one more round) → idle. A failure becomes a
 *   queued `deliver` with backoff.
 * - stopped: nothing new starts; `stop` waits for the runs under way.
 *
 * The handlers are handed in (`attach`): the scheduler does not know the stages.
 */
import { backoffMs, type BackoffBounds } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { JobData, JobName, SyncQueue } from './queue.js';

/** What the scheduler needs of the job queue (a test hands in a fake). */
export type JobQueue = Pick<SyncQueue, 'kick' | 'kickOutgoing' | 'runExclusive' | 'runExclusiveAll' | 'tryLease' | 'release'>;

/** One item's step. */
export interface ItemJob {
  connectionId: string;
  key: string;
}

/** The steps the fast path runs, as the stages run them outside a queued job. */
export interface ImmediateHandlers {
  outgoing: (data: ItemJob) => Promise<void>;
  incoming: (data: ItemJob) => Promise<void>;
  /** Sends the connection's outbox (an attempt for new events, not a scheduled retry). */
  deliver: (connectionId: string) => Promise<void>;
}

/** Steps run right away in this process at once, and how many may wait for that (then the job queue takes them). */
export const LOCAL_CONCURRENCY = 16;
export const LOCAL_WAITING_MAX = 2_000;

/** An unexpected failure outside a queued job is retried within a minute at most. */
const UNEXPECTED_MAX_MS = 60_000;

export class Scheduler {
  private queue: JobQueue | null = null;
  private handlers: ImmediateHandlers | null = null;
  private stopping = false;
  private running = 0;
  private readonly waiting = new Map<string, { name: 'outgoing' | 'incoming'; data: ItemJob }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pumps = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    private readonly logger: Logger,
    private readonly retry: BackoffBounds,
    private readonly limits = { concurrency: LOCAL_CONCURRENCY, waitingMax: LOCAL_WAITING_MAX },
  ) {}

  /** Connects the job queue and the stages' handlers; before this, nothing can be scheduled. */
  attach(queue: JobQueue, handlers: ImmediateHandlers): void {
    this.queue = queue;
    this.handlers = handlers;
  }

  /** The node is stopping: long runs (a batch) end early, and nothing new starts here. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Runs the step in this process right away (see the header). */
  now(name: 'outgoing' | 'incoming', data: ItemJob): void;
  now(name: 'deliver', data: { connectionId: string }): void;
  now(name: 'outgoing' | 'incoming' | 'deliver', data: JobData): void {
    if (name === 'deliver') return this.pump(data.connectionId);
    const item = { connectionId: data.connectionId, key: data.key! };
    const id = `${name}:${item.connectionId}:${item.key}`;
    // Stopping: what was asked for is stored, and the next start (or the sweep) takes it up.
    if (this.stopping || this.waiting.has(id)) return;
    if (this.waiting.size >= this.limits.waitingMax) {
      void this.jobs()
        .kick(name, item)
        .catch((error: unknown) => this.logger.warn({ err: error, ...item }, 'could not queue sync work; the next scan will find it'));
      return;
    }
    this.waiting.set(id, { name, data: item });
    this.drain();
  }

  /** Queues the job (after `delayMs`); a job already waiting for the same key absorbs it. */
  later(name: JobName, data: JobData, delayMs = 0): Promise<void> {
    return this.jobs().kick(name, data, delayMs);
  }

  /** Outgoing runs for many items at once (sync now, a bulk sync), as batch jobs. */
  laterAll(connectionId: string, keys: string[]): Promise<void> {
    return this.jobs().kickOutgoing(connectionId, keys);
  }

  /** See SyncQueue.runExclusiveAll. */
  exclusiveAll<T extends JobData>(name: JobName, work: T[], handler: (held: T[], done: (data: T) => Promise<void>) => Promise<void>): Promise<void> {
    return this.jobs().runExclusiveAll(name, work, handler);
  }

  tryLease(lease: string): Promise<boolean> {
    return this.jobs().tryLease(lease);
  }

  release(lease: string): Promise<void> {
    return this.jobs().release(lease);
  }

  /** A step run outside its queued job failed unexpectedly: it becomes a queued job, with backoff. */
  async requeueUnexpected(name: 'outgoing' | 'incoming', data: ItemJob, error: unknown): Promise<void> {
    this.logger.warn({ err: error, ...data, step: name }, 'sync step failed unexpectedly; the job queue will retry it');
    await this.later(name, data, this.unexpectedDelay()).catch(() => undefined);
  }

  /** Waits for deliveries and runs under way (the node is stopping); what waits stays stored. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.waiting.clear();
    await Promise.allSettled([...this.pumps.values()].map((p) => p.done));
    await Promise.allSettled([...this.inFlight]);
  }

  private drain(): void {
    const handlers = this.handlers!;
    while (this.running < this.limits.concurrency && this.waiting.size) {
      const [id, { name, data }] = this.waiting.entries().next().value!;
      this.waiting.delete(id);
      this.running += 1;
      const run = this.jobs()
        .runExclusive(name, data, () => handlers[name](data))
        .catch((error: unknown) => this.requeueUnexpected(name, data, error))
        .finally(() => {
          this.running -= 1;
          this.inFlight.delete(run);
          this.drain();
        });
      this.inFlight.add(run);
    }
  }

  /**
   * Sends a connection's outbox from this process: one delivery at a time per connection, and
   * what comes in meanwhile goes in the next round. A failed delivery becomes a queued job with
   * backoff, so the outbox is sent even if this process stops.
   */
  private pump(connectionId: string): void {
    const running = this.pumps.get(connectionId);
    if (running) {
      running.again = true;
      return;
    }
    const deliver = this.handlers!.deliver;
    const state = { again: false, done: Promise.resolve() };
    this.pumps.set(connectionId, state);
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.jobs().runExclusive('deliver', { connectionId }, () => deliver(connectionId));
        } while (state.again);
      } catch (error) {
        this.logger.warn({ err: error, connectionId }, 'delivery failed; the queue will retry it');
        await this.later('deliver', { connectionId }, this.unexpectedDelay()).catch(() => undefined);
      } finally {
        this.pumps.delete(connectionId);
      }
    })();
  }

  private unexpectedDelay(): number {
    return backoffMs(1, { baseMs: this.retry.baseMs, maxMs: UNEXPECTED_MAX_MS });
  }

  private jobs(): JobQueue {
    if (!this.queue) throw new Error('the sync scheduler has no job queue yet (attach it first)');
    return this.queue;
  }
}
