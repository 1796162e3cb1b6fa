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

export const PeerPollRequestSchema = z.object({
  /** How long the public side may hold the request open when it has nothing to deliver. */
  waitMs: z.number().int().min(0).max(60_000).default(25_000),
});
export type PeerPollRequest = z.input<typeof PeerPollRequestSchema>;

export const PeerConnectionStateSchema = z.enum(['ACTIVE', 'DEACTIVATED', 'PENDING', 'ERROR', 'DELETED']);

export const PeerPollResponseSchema = z.object({
  /** The connection as the public side sees it; DELETED when its admin deleted it. */
  status: PeerConnectionStateSchema,
  /** Messages for the private side. Sync events arrive here once the sync engine lands. */
  events: z.array(z.object({ type: z.string(), id: z.string(), payload: z.unknown() })),
});
export type PeerPollResponse = z.infer<typeof PeerPollResponseSchema>;

export const PeerNotifyRequestSchema = z.object({ event: z.enum(['connection.deleted']) });
export type PeerNotifyRequest = z.infer<typeof PeerNotifyRequestSchema>;
