import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The handshake: both sides know the invitation secret S (the initiator made it, the acceptor read
 * it from the code). Each side contributes a fresh 256-bit nonce; the connection key is
 * HKDF-SHA256(S, salt = nonceInitiator || nonceAcceptor, info = connection id). Proofs are HMACs,
 * so S itself never crosses the wire, and once the key is confirmed S is deleted.
 */
export const newSecret = (): string => randomBytes(32).toString('base64url');
export const newNonce = newSecret;

const mac = (key: Buffer, message: string): string => createHmac('sha256', key).update(message).digest('base64url');

export function proofOfSecret(secret: string, purpose: 'accept' | 'claim', connectionId: string, instanceId: string, nonce: string): string {
  return mac(Buffer.from(secret, 'base64url'), `exalate/${purpose}/v1|${connectionId}|${instanceId}|${nonce}`);
}

export function deriveConnectionKey(secret: string, connectionId: string, initiatorNonce: string, acceptorNonce: string): string {
  const salt = Buffer.concat([Buffer.from(initiatorNonce, 'base64url'), Buffer.from(acceptorNonce, 'base64url')]);
  const key = hkdfSync('sha256', Buffer.from(secret, 'base64url'), salt, `exalate/connection-key/v1|${connectionId}`, 32);
  return Buffer.from(key).toString('base64url');
}

/** Proves the sender derived the same connection key. `by` keeps the two directions distinct. */
export function keyConfirmation(key: string, by: 'initiator' | 'acceptor', connectionId: string): string {
  return mac(Buffer.from(key, 'base64url'), `exalate/confirm/v1|${by}|${connectionId}`);
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
