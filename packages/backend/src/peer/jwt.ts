import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors, jwtVerify } from 'jose';

/**
 * Every node-to-node request after the handshake carries `Authorization: Bearer <JWT>`:
 * HS256 with the per-connection key, `kid` = connection id, `iss`/`aud` = sender/receiver
 * instance ids, a short expiry, a unique `jti` (replays are refused), and the request itself
 * bound in: `htm` method, `htp` path below the node URL, `bh` SHA-256 of the body. A captured
 * token is therefore useless for any other request and for the same request a second time.
 */
export const PEER_TOKEN_TTL_SECONDS = 60;
export const PEER_CLOCK_SKEW_SECONDS = 30;

export interface PeerRequestBinding {
  method: string;
  path: string;
  body: string;
}

export const bodyHash = (body: string): string => createHash('sha256').update(body).digest('base64url');

export async function signPeerRequest(
  key: string,
  claims: { connectionId: string; issuer: string; audience: string },
  request: PeerRequestBinding,
  now: Date = new Date(),
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ htm: request.method.toUpperCase(), htp: request.path, bh: bodyHash(request.body) })
    .setProtectedHeader({ alg: 'HS256', kid: claims.connectionId, typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setSubject(claims.connectionId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + PEER_TOKEN_TTL_SECONDS)
    .setJti(randomUUID())
    .sign(Buffer.from(key, 'base64url'));
}

export type PeerTokenFailure = { reason: 'malformed' | 'bad-signature' | 'expired' | 'claims' | 'binding'; message: string };

/** The connection id named in the token's header, before anything is trusted. */
export function peekConnectionId(token: string): string | null {
  try {
    const kid = decodeProtectedHeader(token).kid;
    return typeof kid === 'string' ? kid : null;
  } catch {
    return null;
  }
}

/**
 * Checks a token against everything but the body: signature, claims, method and path. What a
 * receiver does before it reads the body, so that an unsigned or forged request costs it nothing
 * more. `bh` is the body's hash the token binds, for `bodyMatches` once the body is read.
 */
export async function verifyPeerToken(
  token: string,
  key: string,
  expected: { connectionId: string; issuer: string; audience: string },
  request: Omit<PeerRequestBinding, 'body'>,
  now: Date = new Date(),
): Promise<{ ok: true; jti: string; exp: number; bh: string } | { ok: false; failure: PeerTokenFailure }> {
  try {
    const { payload } = await jwtVerify(token, Buffer.from(key, 'base64url'), {
      algorithms: ['HS256'],
      issuer: expected.issuer,
      audience: expected.audience,
      subject: expected.connectionId,
      clockTolerance: PEER_CLOCK_SKEW_SECONDS,
      maxTokenAge: PEER_TOKEN_TTL_SECONDS + PEER_CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'iat', 'jti'],
      currentDate: now,
    });
    if (payload['htm'] !== request.method.toUpperCase() || payload['htp'] !== request.path || typeof payload['bh'] !== 'string') {
      return { ok: false, failure: { reason: 'binding', message: 'The token was issued for a different request.' } };
    }
    return { ok: true, jti: payload.jti as string, exp: payload.exp as number, bh: payload['bh'] };
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return { ok: false, failure: { reason: 'bad-signature', message: "The request signature does not match this connection's key." } };
    if (error instanceof errors.JWTExpired)
      return { ok: false, failure: { reason: 'expired', message: "The request token has expired; check that both nodes' clocks are right." } };
    if (error instanceof errors.JWTClaimValidationFailed)
      return { ok: false, failure: { reason: 'claims', message: `The request token is not valid here (${error.claim}).` } };
    return { ok: false, failure: { reason: 'malformed', message: 'The request token is malformed.' } };
  }
}

/** Whether the body read is the one the token was signed for (`bh` from verifyPeerToken). */
export const bodyMatches = (bh: string, body: string): boolean => bh === bodyHash(body);

/** verifyPeerToken and bodyMatches in one, for a request whose body is at hand. */
export async function verifyPeerRequest(
  token: string,
  key: string,
  expected: { connectionId: string; issuer: string; audience: string },
  request: PeerRequestBinding,
  now: Date = new Date(),
): Promise<{ ok: true; jti: string; exp: number } | { ok: false; failure: PeerTokenFailure }> {
  const verified = await verifyPeerToken(token, key, expected, request, now);
  if (!verified.ok) return verified;
  if (!bodyMatches(verified.bh, request.body)) return { ok: false, failure: { reason: 'binding', message: 'The token was issued for a different request.' } };
  return { ok: true, jti: verified.jti, exp: verified.exp };
}
