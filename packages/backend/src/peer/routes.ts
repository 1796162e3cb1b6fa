import { finished } from 'node:stream/promises';
import type { NextFunction, Request, Response, Router } from 'express';
import {
  PeerAcceptRequestSchema,
  PeerBlobRequestSchema,
  PeerClaimRequestSchema,
  PeerEventsRequestSchema,
  PeerNotifyRequestSchema,
  PeerPollRequestSchema,
  PeerVerifyRequestSchema,
} from '@exalate/contract';
import type { ConnectionService } from '../connections/service.js';
import { parse } from '../http/parse-request.js';
import type { ConnectionRow } from '../connections/repository.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { documentedRouter } from '../http/documented-router.js';
import type { Logger } from '../logger.js';
import type { SyncEngine } from '../sync/engine.js';
import type { ChangeHub } from './change-hub.js';
import { bodyMatches, peekConnectionId, verifyPeerToken } from './jwt.js';
import { jsonBody, LIMITS, refuseNulInPath } from '../http/bodies.js';

/** How long an attachment's answer may hold a transfer slot while the partner reads it. */
const SLOW_READER_MS = 60_000;

export interface PeerRoutesOptions {
  service: ConnectionService;
  db: Database;
  hub: ChangeHub;
  engine: SyncEngine;
  logger: Logger;
  instanceId: () => string;
  /** Upper bound for a long poll, whatever the partner asks. */
  maxPollWaitMs: number;
  /** Ends held long polls when the node shuts down. */
  shutdown: AbortSignal;
}

type Authed = Request & { peerConnection: ConnectionRow; rawBody?: Buffer; peerToken?: { row: ConnectionRow; jti: string; exp: number; bh: string } };

/** The node-to-node API, mounted at {nodeUrl}/api/v1/peer. Private nodes do not mount it at all. */
export function peerRoutes(o: PeerRoutesOptions): Router {
  const { router, ...route } = documentedRouter('/api/v1/peer');
  router.use(refuseNulInPath);
  // The handshake is not signed (there is no key yet): its bodies are small and carry proofs.
  const unsigned = jsonBody(LIMITS.peerSmall);

  route.post('/handshake/accept', ...unsigned, async (req, res) => {
    res.json(await o.service.handlePeerAccept(parse(PeerAcceptRequestSchema, req.body)));
  });

  route.post('/handshake/verify', ...unsigned, async (req, res) => {
    res.json(await o.service.handlePeerVerify(parse(PeerVerifyRequestSchema, req.body)));
  });

  route.post('/handshake/claim', ...unsigned, async (req, res) => {
    res.json(await o.service.handlePeerClaim(parse(PeerClaimRequestSchema, req.body)));
  });

  /**
   * A signed request: the token is checked from the headers before a byte of the body is read
   * (an unsigned or forged request is refused at once, whatever it announces), then the body, up
   * to `limit`, is read and held against the hash the token binds.
   */
  const signed = (limit: number) => [
    async (req: Request, _res: Response, next: NextFunction) => {
      (req as Authed).peerToken = await authenticateHeaders(o, req);
      next();
    },
    ...jsonBody(limit),
    async (req: Request, _res: Response, next: NextFunction) => {
      (req as Authed).peerConnection = await authenticateBody(o, req as Authed);
      next();
    },
  ];
  const small = signed(LIMITS.peerSmall);
  const large = signed(LIMITS.peerLarge);

  // Sync traffic for a connection deleted here is refused, so a partner that missed the deletion's
  // notice (it was away) learns it from its next delivery instead of sending into a tombstone.
  const live = (req: Request, _res: Response, next: NextFunction) => {
    if ((req as Authed).peerConnection.deleted_at) {
      throw new AppError(
        'CONNECTION_DELETED',
        'This connection was deleted on this node, which takes nothing more for it. Delete it on your side too, and initiate a new connection to sync again.',
      );
    }
    next();
  };

  route.post('/connections/:id/confirm', ...small, (_req, res) => {
    res.status(204).end();
  });

  // The private partner's way in: it collects our events (and our status) and acknowledges what it stored.
  route.post('/connections/:id/poll', ...small, async (req, res) => {
    const { waitMs, ack } = parse(PeerPollRequestSchema, req.body);
    const id = (req as Authed).peerConnection.id;
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const stop = AbortSignal.any([closed.signal, o.shutdown]);
    const deadline = Date.now() + Math.min(waitMs, o.maxPollWaitMs);
    let first = true;
    for (;;) {
      const seen = o.hub.version(id);
      const current = await o.service.repository.find(id);
      if (!current || current.deleted_at) {
        res.json({ status: 'DELETED', events: [] });
        return;
      }
      const events = await o.engine.eventsForPoll(current, first ? ack : undefined);
      first = false;
      const left = deadline - Date.now();
      if (events.length || left <= 0 || stop.aborted || current.status !== (req as Authed).peerConnection.status) {
        res.json({ status: current.status, events });
        return;
      }
      // Woken at once by a change in this process; another process's change is seen within a second.
      await o.hub.wait(id, Math.min(left, 1_000), stop, seen);
    }
  });

  route.post('/connections/:id/events', ...large, live, async (req, res) => {
    const { events } = parse(PeerEventsRequestSchema, req.body);
    await o.engine.receive((req as Authed).peerConnection, events);
    res.json({ received: events.length });
  });

  route.post('/connections/:id/blobs', ...large, live, async (req, res) => {
    const blob = parse(PeerBlobRequestSchema, req.body);
    const content = Buffer.from(blob.contentBase64, 'base64');
    try {
      await o.engine.saveBlob((req as Authed).peerConnection, blob.itemKey, blob.attachmentId, blob.sha256, content);
    } catch (error) {
      throw new AppError('VALIDATION_FAILED', (error as Error).message);
    }
    res.status(204).end();
  });

  route.get('/connections/:id/items/:key/attachments/:attachmentId', ...small, live, async (req, res) => {
    const read = await o.engine.attachmentForPartner(
      (req as Authed).peerConnection,
      String(req.params['key']),
      String(req.params['attachmentId']),
      async (found) => {
        res.setHeader('content-type', 'application/octet-stream');
        res.setHeader('x-exalate-sha256', found.sha256);
        res.end(found.content);
        // Until the partner has the bytes (or went away): they are in memory till then. A partner
        // that reads very slowly keeps them, but not the slot, past a minute.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([finished(res).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, SLOW_READER_MS)))]);
        clearTimeout(timer);
      },
    );
    if (!read.ok && read.error.reason === 'not-sent') throw new AppError('NOT_FOUND', 'This node did not send an attachment with this id for this item.');
    if (!read.ok && read.error.reason === 'too-large') throw new AppError('ATTACHMENT_TOO_LARGE', read.error.message);
  });

  route.post('/connections/:id/notify', ...small, async (req, res) => {
    const message = parse(PeerNotifyRequestSchema, req.body);
    if (message.event === 'connection.deleted') await o.service.handlePartnerDeleted((req as Authed).peerConnection);
    res.status(204).end();
  });

  return router;
}

/** The request's token, checked against the connection's key with everything but the body. */
async function authenticateHeaders(o: PeerRoutesOptions, req: Request): Promise<NonNullable<Authed['peerToken']>> {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  const id = String(req.params['id']);
  const fail = (message: string, reason: string) => {
    o.logger.warn({ connectionId: id, code: 'PEER_AUTH_FAILED', reason }, 'peer request refused');
    return new AppError('PEER_AUTH_FAILED', message);
  };
  if (!token) throw fail('This request must be signed with the connection key.', 'unsigned');
  if (peekConnectionId(token) !== id) throw fail('The request is signed for another connection.', 'kid');
  const row = await o.service.repository.find(id);
  if (!row || !row.connection_key || !row.partner_instance_id) throw fail('There is no established connection with this id here.', 'unknown-connection');
  const path = req.originalUrl.slice(req.originalUrl.indexOf('/api/v1/peer/'));
  const verified = await verifyPeerToken(
    token,
    row.connection_key,
    { connectionId: id, issuer: row.partner_instance_id, audience: o.instanceId() },
    { method: req.method, path },
  );
  if (!verified.ok) throw fail(verified.failure.message, verified.failure.reason);
  return { row, jti: verified.jti, exp: verified.exp, bh: verified.bh };
}

/** The body read is the one the token was signed for, and the token was not used before. */
async function authenticateBody(o: PeerRoutesOptions, req: Authed): Promise<ConnectionRow> {
  const { row, jti, exp, bh } = req.peerToken!;
  const id = row.id;
  // Verify against the exact bytes received: the signature binds the body.
  if (!bodyMatches(bh, req.rawBody?.toString('utf8') ?? '')) {
    o.logger.warn({ connectionId: id, code: 'PEER_AUTH_FAILED', reason: 'binding' }, 'peer request refused');
    throw new AppError('PEER_AUTH_FAILED', 'The token was issued for a different request.');
  }
  const fresh = await o.db.query<{ jti: string }>(
    `insert into peer_replay_guard (jti, expires_at) values ($1, to_timestamp($2) + interval '1 minute') on conflict do nothing returning jti`,
    [`${id}:${jti}`, exp],
  );
  if (fresh.length === 0) {
    o.logger.warn({ connectionId: id, code: 'PEER_REQUEST_REPLAYED' }, 'replayed peer request refused');
    throw new AppError('PEER_REQUEST_REPLAYED', 'This signed request was already received once; a node never sends the same request twice.');
  }
  return o.service.keyProven(row);
}
