/**
 * A private node's long poll on one connection: how it hears from a partner that cannot call it.
 * It asks the partner for what is waiting (acknowledging what it has stored, by sequence number),
 * stores what comes, and asks again at once; after a failure it waits (the node's one backoff
 * formula, up to a minute, so an offline partner is not hammered: the loop keeps going for hours).
 * It ends when the node stops, or when the connection is gone, broken or deleted by the partner.
 */
import type { SyncEvent } from '@exalate/contract';
import { backoffMs } from '../backoff.js';
import type { ConnectionRow } from '../connections/repository.js';
import type { Logger } from '../logger.js';
import type { PeerClient, SigningIdentity } from './client.js';

export interface PollLoopParts {
  peers: Pick<PeerClient, 'poll'>;
  logger: Logger;
  /** Ends the loop (the node is stopping), and the poll or wait under way with it. */
  signal: AbortSignal;
  /** How long the partner may hold a poll, and the base of the wait after a failure. */
  longPollMs: number;
  pollIntervalMs: number;
  findLive(connectionId: string): Promise<ConnectionRow | null>;
  signingIdentity(row: ConnectionRow): SigningIdentity;
  /** The highest sequence number stored from the partner: what the next poll acknowledges. */
  highestReceivedSeq(connectionId: string): Promise<number>;
  receive(row: ConnectionRow, events: SyncEvent[]): Promise<void>;
  partnerDeleted(row: ConnectionRow): Promise<void>;
}

export async function pollPartner(o: PollLoopParts, connectionId: string): Promise<void> {
  let failures = 0;
  // After five failures in a row the wait stops growing (a minute at most).
  const bounds = { baseMs: o.pollIntervalMs, maxMs: Math.min(60_000, o.pollIntervalMs * 32) };
  while (!o.signal.aborted) {
    const row = await o.findLive(connectionId);
    if (!row || !row.connection_key || row.status === 'ERROR' || !row.partner_node_url) return;
    const ack = await o.highestReceivedSeq(connectionId);
    const answer = await o.peers.poll(row.partner_node_url, o.signingIdentity(row), o.longPollMs, o.signal, ack);
    if (o.signal.aborted) return;
    if (!answer.ok) {
      failures += 1;
      o.logger.warn({ connectionId, reason: answer.error.kind, failures }, 'poll of the partner node failed; retrying');
      await sleep(backoffMs(failures, bounds), o.signal);
      continue;
    }
    failures = 0;
    if (answer.value.status === 'DELETED') {
      await o.partnerDeleted(row);
      return;
    }
    // Stored before the next poll acknowledges them; if storing fails, the next poll gets them again.
    if (answer.value.events.length) {
      try {
        await o.receive(row, answer.value.events);
      } catch (error) {
        o.logger.error({ err: error, connectionId }, 'events from the partner could not be stored; they will be fetched again');
        await sleep(o.pollIntervalMs, o.signal);
      }
    }
  }
}

/** Waits `ms`, or less if the signal ends it. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
