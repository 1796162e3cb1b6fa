/**
 * How many of the outbox's events go in one delivery: as many as fit in one request body between
 * nodes (the peer API's limit for events, with room for the envelope), and always at least one
 * (a replica is at most MAX_REPLICA_BYTES, far less than that).
 */
import { LIMITS } from '../http/bodies.js';

export const EVENTS_BUDGET_BYTES = LIMITS.peerLarge * 0.8;

export function withinBody<T extends { payload: unknown }>(events: T[], budget = EVENTS_BUDGET_BYTES): T[] {
  let used = 0;
  for (let i = 0; i < events.length; i += 1) {
    used += Buffer.byteLength(JSON.stringify(events[i]!.payload), 'utf8') + 200;
    if (used > budget && i > 0) return events.slice(0, i);
  }
  return events;
}
