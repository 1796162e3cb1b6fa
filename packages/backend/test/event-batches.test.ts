import { MAX_REPLICA_BYTES } from '@exalate/contract';
import { EVENTS_BUDGET_BYTES, withinBody } from '../src/sync/event-batches.js';
import { LIMITS } from '../src/http/bodies.js';

const event = (bytes: number) => ({ payload: { replica: { key: 'K', description: 'x'.repeat(bytes) } } });

it('delivers as many events as fit in one request body, and at least one', () => {
  // A hundred replicas of nearly the largest size would be some 200 MB: they go a few at a time.
  const large = Array.from({ length: 100 }, () => event(MAX_REPLICA_BYTES - 100));
  const first = withinBody(large);
  expect(first.length).toBe(Math.floor(EVENTS_BUDGET_BYTES / (MAX_REPLICA_BYTES + 100)));
  expect(JSON.stringify({ events: first }).length).toBeLessThan(LIMITS.peerLarge);
  // Small ones go all together; one too large for the budget alone still goes (and is refused by size before it is made).
  expect(withinBody(Array.from({ length: 100 }, () => event(1000)))).toHaveLength(100);
  expect(withinBody([event(100)], 10)).toHaveLength(1);
});
