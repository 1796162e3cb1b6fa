import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.js';
import type { JobData, JobName } from '../src/sync/queue.js';
import { Scheduler, type ImmediateHandlers, type ItemJob, type JobQueue } from '../src/sync/scheduler.js';

/** A job queue in memory: what was queued, and leases as the real one keeps them (a held lease skips the run). */
class FakeQueue implements JobQueue {
  readonly queued: Array<{ name: JobName; data: JobData; delayMs: number }> = [];
  readonly batches: Array<{ connectionId: string; keys: string[] }> = [];
  readonly leases = new Set<string>();
  kickFails = false;

  async kick(name: JobName, data: JobData, delayMs = 0): Promise<void> {
    if (this.kickFails) throw new Error('queue is down');
    this.queued.push({ name, data, delayMs });
  }
  async kickOutgoing(connectionId: string, keys: string[]): Promise<void> {
    this.batches.push({ connectionId, keys });
  }
  async tryLease(lease: string): Promise<boolean> {
    if (this.leases.has(lease)) return false;
    this.leases.add(lease);
    return true;
  }
  async release(lease: string): Promise<void> {
    this.leases.delete(lease);
  }
  async runExclusive(name: JobName, data: JobData, handler: (data: JobData) => Promise<void>): Promise<void> {
    await this.runExclusiveAll(name, [data], async (held) => {
      if (held.length) await handler(data);
    });
  }
  async runExclusiveAll<T extends JobData>(name: JobName, work: T[], handler: (held: T[], done: (data: T) => Promise<void>) => Promise<void>): Promise<void> {
    const lease = (d: T) => `${name}:${d.connectionId}:${d.key ?? ''}`;
    const held: T[] = [];
    for (const d of work) if (await this.tryLease(lease(d))) held.push(d);
    try {
      await handler(held, async (d) => this.release(lease(d)));
    } finally {
      for (const d of held) await this.release(lease(d));
    }
  }
}

/** A promise the test settles. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { promise, open, fail };
}

/** Lets every promise chain that can move, move (a few turns of the event loop). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function setup(limits = { concurrency: 2, waitingMax: 3 }) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
  const queue = new FakeQueue();
  const runs: Array<{ name: string; data: ItemJob | string }> = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const wait = (id: string) => {
    const g = gates.get(id) ?? gate();
    gates.set(id, g);
    return g.promise;
  };
  const handlers: ImmediateHandlers = {
    outgoing: async (d) => (runs.push({ name: 'outgoing', data: d }), wait(`outgoing:${d.key}`)),
    incoming: async (d) => (runs.push({ name: 'incoming', data: d }), wait(`incoming:${d.key}`)),
    deliver: async (connectionId) => (runs.push({ name: 'deliver', data: connectionId }), wait(`deliver:${connectionId}:${runs.length}`)),
  };
  const scheduler = new Scheduler(logger, { baseMs: 100, maxMs: 5_000 }, limits);
  scheduler.attach(queue, handlers);
  const open = (id: string) => {
    const g = gates.get(id) ?? gate();
    gates.set(id, g);
    g.open();
  };
  const fail = (id: string, error: Error) => {
    const g = gates.get(id) ?? gate();
    gates.set(id, g);
    g.fail(error);
  };
  return { scheduler, queue, runs, open, fail, lines };
}

it('runs an item step right away under its lease, and an item asked for again while it waits runs once', async () => {
  const { scheduler, queue, runs, open } = setup({ concurrency: 1, waitingMax: 10 });
  scheduler.now('outgoing', { connectionId: 'c', key: 'A' });
  scheduler.now('outgoing', { connectionId: 'c', key: 'B' });
  scheduler.now('outgoing', { connectionId: 'c', key: 'B' });
  await settle();
  expect(runs).toEqual([{ name: 'outgoing', data: { connectionId: 'c', key: 'A' } }]);
  // The running step holds the lease its queued job would take.
  expect([...queue.leases]).toEqual(['outgoing:c:A']);
  open('outgoing:A');
  await settle();
  expect(runs.map((r) => (r.data as ItemJob).key)).toEqual(['A', 'B']);
  open('outgoing:B');
  await scheduler.stop();
  expect(queue.leases.size).toBe(0);
  expect(queue.queued).toEqual([]);
});

it('runs at most `concurrency` steps at once; the rest wait their turn', async () => {
  const { scheduler, runs, open } = setup({ concurrency: 2, waitingMax: 10 });
  for (const key of ['A', 'B', 'C', 'D']) scheduler.now('incoming', { connectionId: 'c', key });
  await settle();
  expect(runs.map((r) => (r.data as ItemJob).key)).toEqual(['A', 'B']);
  open('incoming:B');
  await settle();
  expect(runs.map((r) => (r.data as ItemJob).key)).toEqual(['A', 'B', 'C']);
  open('incoming:A');
  await settle();
  expect(runs.map((r) => (r.data as ItemJob).key)).toEqual(['A', 'B', 'C', 'D']);
  for (const key of ['C', 'D']) open(`incoming:${key}`);
  await scheduler.stop();
});

it('when too many wait, a new step goes to the job queue instead', async () => {
  const { scheduler, queue, runs, open } = setup({ concurrency: 1, waitingMax: 2 });
  for (const key of ['A', 'B', 'C', 'D', 'E']) scheduler.now('outgoing', { connectionId: 'c', key });
  await settle();
  // A runs, B and C wait (the most that may), D and E are queued jobs.
  expect(queue.queued).toEqual([
    { name: 'outgoing', data: { connectionId: 'c', key: 'D' }, delayMs: 0 },
    { name: 'outgoing', data: { connectionId: 'c', key: 'E' }, delayMs: 0 },
  ]);
  for (const key of ['A', 'B', 'C']) open(`outgoing:${key}`);
  await settle();
  await scheduler.stop();
  expect(runs.map((r) => (r.data as ItemJob).key)).toEqual(['A', 'B', 'C']);
});

it('a step that fails unexpectedly becomes a queued job with backoff, and says so in the log', async () => {
  const { scheduler, queue, fail, lines } = setup();
  scheduler.now('incoming', { connectionId: 'c', key: 'A' });
  await settle();
  fail('incoming:A', new Error('tracker exploded'));
  await scheduler.stop();
  expect(queue.queued).toHaveLength(1);
  const [job] = queue.queued;
  expect(job).toMatchObject({ name: 'incoming', data: { connectionId: 'c', key: 'A' } });
  // Backoff from the base (100 ms, attempt 1: 200 ms), with jitter: half to all of it.
  expect(job!.delayMs).toBeGreaterThanOrEqual(100);
  expect(job!.delayMs).toBeLessThanOrEqual(200);
  expect(lines.join('')).toContain('sync step failed unexpectedly');
  expect(lines.join('')).toContain('tracker exploded');
  expect(queue.leases.size).toBe(0);
});

it("delivers a connection's outbox one round at a time; asked again meanwhile, it runs one more round", async () => {
  const { scheduler, runs, open } = setup();
  scheduler.now('deliver', { connectionId: 'c' });
  scheduler.now('deliver', { connectionId: 'c' });
  scheduler.now('deliver', { connectionId: 'c' });
  scheduler.now('deliver', { connectionId: 'd' });
  await settle();
  // One delivery per connection at a time.
  expect(runs).toEqual([
    { name: 'deliver', data: 'c' },
    { name: 'deliver', data: 'd' },
  ]);
  open('deliver:c:1');
  open('deliver:d:2');
  await settle();
  // The two asks meanwhile make one more round, not two.
  expect(runs.filter((r) => r.data === 'c')).toHaveLength(2);
  open('deliver:c:3');
  await scheduler.stop();
  expect(runs.filter((r) => r.data === 'c')).toHaveLength(2);
});

it('a failed delivery becomes a queued deliver job with backoff', async () => {
  const { scheduler, queue, fail, lines } = setup();
  scheduler.now('deliver', { connectionId: 'c' });
  await settle();
  fail('deliver:c:1', new Error('partner away'));
  await scheduler.stop();
  expect(queue.queued).toHaveLength(1);
  expect(queue.queued[0]).toMatchObject({ name: 'deliver', data: { connectionId: 'c' } });
  expect(queue.queued[0]!.delayMs).toBeGreaterThanOrEqual(100);
  expect(lines.join('')).toContain('delivery failed; the queue will retry it');
});

it('stopping waits for the runs under way, drops what waits (it is stored) and starts nothing new', async () => {
  const { scheduler, runs, open } = setup({ concurrency: 1, waitingMax: 10 });
  scheduler.now('outgoing', { connectionId: 'c', key: 'A' });
  scheduler.now('outgoing', { connectionId: 'c', key: 'B' });
  await settle();
  let stopped = false;
  const stopping = scheduler.stop().then(() => (stopped = true));
  expect(scheduler.stopped).toBe(true);
  await settle();
  expect(stopped).toBe(false);
  open('outgoing:A');
  await stopping;
  scheduler.now('outgoing', { connectionId: 'c', key: 'C' });
  await settle();
  expect(runs.map((r) => (r.data as ItemJob).key)).toEqual(['A']);
});

it('hands queued work to the job queue, and refuses to schedule before it has one', async () => {
  const { scheduler, queue } = setup();
  await scheduler.later('scan', { connectionId: 'c' }, 500);
  await scheduler.laterAll('c', ['A', 'B']);
  expect(queue.queued).toEqual([{ name: 'scan', data: { connectionId: 'c' }, delayMs: 500 }]);
  expect(queue.batches).toEqual([{ connectionId: 'c', keys: ['A', 'B'] }]);
  const unattached = new Scheduler(createLogger({ level: 'silent' }), { baseMs: 100, maxMs: 1_000 });
  expect(() => unattached.later('scan', { connectionId: 'c' })).toThrow(/no job queue yet/);
});

it('a step that cannot be queued when too many wait is logged, not lost silently', async () => {
  const { scheduler, queue, lines, open } = setup({ concurrency: 1, waitingMax: 1 });
  queue.kickFails = true;
  for (const key of ['A', 'B', 'C']) scheduler.now('outgoing', { connectionId: 'c', key });
  await settle();
  expect(lines.join('')).toContain('could not queue sync work; the next scan will find it');
  open('outgoing:A');
  open('outgoing:B');
  await scheduler.stop();
});
