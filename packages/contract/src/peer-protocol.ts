import { z } from 'zod';
import { NodeInfoSchema } from './node-info.js';

/**
 * Node-to-node messages. The handshake messages are not signed (there is no key yet); they carry
 * HMAC proofs of the invitation secret instead. Everything after the handshake is signed with the
 * per-connection key (see backend/src/peer/jwt.ts).
 */
const nonce = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const proof = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** Acceptor → initiator: "I was given your invitation; here is my node and my nonce." */
export const PeerAcceptRequestSchema = z.object({
  protocolVersion: z.number().int().positive(),
  connectionId: z.uuid(),
  acceptor: z.object({ node: NodeInfoSchema }),
  nonce,
  proof,
});
export type PeerAcceptRequest = z.infer<typeof PeerAcceptRequestSchema>;

export const PeerAcceptResponseSchema = z.object({
  initiator: z.object({ node: NodeInfoSchema }),
  nonce,
  /** HMAC with the derived connection key: the initiator knows the secret and derived the same key. */
  confirm: proof,
});
export type PeerAcceptResponse = z.infer<typeof PeerAcceptResponseSchema>;

/**
 * Initiator → the node at the invitation's URL, while an acceptance that claims to come from it is
 * under way: "are you accepting this connection, with this nonce?" Only the node really at that
 * URL is, so a third party that holds the code cannot accept it in that node's name.
 */
export const PeerVerifyRequestSchema = z.object({ connectionId: z.uuid(), nonce });
export type PeerVerifyRequest = z.infer<typeof PeerVerifyRequestSchema>;
export const PeerVerifyResponseSchema = z.object({ accepting: z.boolean() });
export type PeerVerifyResponse = z.infer<typeof PeerVerifyResponseSchema>;

/** Private initiator → public acceptor: "has my invitation been accepted?" */
export const PeerClaimRequestSchema = z.object({
  protocolVersion: z.number().int().positive(),
  connectionId: z.uuid(),
  initiatorInstanceId: z.uuid(),
  nonce,
  proof,
});
export type PeerClaimRequest = z.infer<typeof PeerClaimRequestSchema>;

export const PeerClaimResponseSchema = z.discriminatedUnion('accepted', [
  z.object({ accepted: z.literal(false) }),
  z.object({ accepted: z.literal(true), acceptor: z.object({ node: NodeInfoSchema }), nonce, confirm: proof }),
]);
export type PeerClaimResponse = z.infer<typeof PeerClaimResponseSchema>;

/**
 * One message of the sync, from the outbox of one side to the inbox of the other. `seq` orders a
 * side's messages; `id` makes a redelivery harmless.
 * - replica: the sender's item `itemKey` as its outgoing rule described it (`payload.replica`);
 *   `payload.twinKey` is the receiver's own item it is synced with, once the sender knows it.
 * - ack: the receiver of a replica applied it; `itemKey` is the original sender's item and
 *   `payload` names the receiver's twin ({ key, url }).
 * - unsync: the sender stopped syncing `itemKey`; nothing is deleted on either side.
 */
export const SyncEventSchema = z.object({
  id: z.uuid(),
  seq: z.number().int().positive(),
  kind: z.enum(['replica', 'ack', 'unsync']),
  itemKey: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
});
export type SyncEvent = z.infer<typeof SyncEventSchema>;

export const PeerEventsRequestSchema = z.object({ events: z.array(SyncEventSchema).max(500) });
export type PeerEventsRequest = z.infer<typeof PeerEventsRequestSchema>;
export const PeerEventsResponseSchema = z.object({ received: z.number().int().nonnegative() });
export type PeerEventsResponse = z.infer<typeof PeerEventsResponseSchema>;

/** A private side pushes an attachment's bytes before the events that name it (the other side cannot fetch them). */
export const PeerBlobRequestSchema = z.object({
  itemKey: z.string().min(1),
  attachmentId: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentBase64: z.string(),
});
export type PeerBlobRequest = z.infer<typeof PeerBlobRequestSchema>;

export const PeerPollRequestSchema = z.object({
  /** How long the public side may hold the request open when it has nothing to deliver. */
  waitMs: z.number().int().min(0).max(60_000).default(25_000),
  /** The highest `seq` the private side has stored: everything up to it is delivered. */
  ack: z.number().int().nonnegative().optional(),
});
export type PeerPollRequest = z.input<typeof PeerPollRequestSchema>;

export const PeerConnectionStateSchema = z.enum(['ACTIVE', 'DEACTIVATED', 'PENDING', 'ERROR', 'DELETED']);

export const PeerPollResponseSchema = z.object({
  /** The connection as the public side sees it; DELETED when its admin deleted it. */
  status: PeerConnectionStateSchema,
  /** Sync messages for the private side, oldest first. */
  events: z.array(SyncEventSchema),
});
export type PeerPollResponse = z.infer<typeof PeerPollResponseSchema>;

export const PeerNotifyRequestSchema = z.object({ event: z.enum(['connection.deleted']) });
export type PeerNotifyRequest = z.infer<typeof PeerNotifyRequestSchema>;
