import type { NextFunction, Request, Response, Router } from 'express';
import { PeerAcceptRequestSchema, PeerClaimRequestSchema, PeerNotifyRequestSchema, PeerPollRequestSchema } from '@exalate/contract';
import type { ConnectionService } from '../connections/service.js';
import { parse } from '../connections/service.js';
import type { ConnectionRow } from '../connections/repository.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { documentedRouter } from '../http/documented-router.js';
import type { Logger } from '../logger.js';
import type { ChangeHub } from './change-hub.js';
import { peekConnectionId, verifyPeerRequest } from './jwt.js';

export interface PeerRoutesOptions {
  service: ConnectionService;
  db: Database;
  hub: ChangeHub;
  logger: Logger;
  instanceId: () => string;
  /** Upper bound for a long poll, whatever the partner asks. */
  maxPollWaitMs: number;
  /** Ends held long polls when the node shuts down. */
  shutdown: AbortSignal;
}

type Authed = Request & { peerConnection: ConnectionRow; rawBody?: Buffer };

/** The node-to-node API, mounted at {nodeUrl}/api/v1/peer. Private nodes do not mount it at all. */
export function peerRoutes(o: PeerRoutesOptions): Router {
  const { router, ...route } = documentedRouter('/api/v1/peer');

  route.post('/handshake/accept', async (req, res) => {
    res.json(await o.service.handlePeerAccept(parse(PeerAcceptRequestSchema, req.body)));
  });

  route.post('/handshake/claim', async (req, res) => {
    res.json(await o.service.handlePeerClaim(parse(PeerClaimRequestSchema, req.body)));
  });

  const signed = async (req: Request, _res: Response, next: NextFunction) => {
    (req as Authed).peerConnection = await authenticate(o, req);
    next();
  };

  route.post('/connections/:id/confirm', signed, (_req, res) => {
    res.status(204).end();
  });

  route.post('/connections/:id/poll', signed, async (req, res) => {
    const { waitMs } = parse(PeerPollRequestSchema, req.body);
    const id = (req as Authed).peerConnection.id;
    const current = await o.service.repository.find(id);
    if (current && !current.deleted_at) {
      const closed = new AbortController();
      res.on('close', () => closed.abort());
      await o.hub.wait(id, Math.min(waitMs, o.maxPollWaitMs), AbortSignal.any([closed.signal, o.shutdown]));
    }
    const after = await o.service.repository.find(id);
    res.json({ status: !after || after.deleted_at ? 'DELETED' : after.status, events: [] });
  });

  route.post('/connections/:id/notify', signed, async (req, res) => {
    const message = parse(PeerNotifyRequestSchema, req.body);
    if (message.event === 'connection.deleted') await o.service.handlePartnerDeleted((req as Authed).peerConnection);
    res.status(204).end();
  });

  return router;
}

async function authenticate(o: PeerRoutesOptions, req: Request): Promise<ConnectionRow> {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  const id = String(req.params['id']);
  const fail = (message: string, reason: string) => {
    o.logger.warn({ connectionId: id, reason }, 'peer request refused');
    return new AppError('PEER_AUTH_FAILED', message);
  };
  if (!token) throw fail('This request must be signed with the connection key.', 'unsigned');
  if (peekConnectionId(token) !== id) throw fail('The request is signed for another connection.', 'kid');
  const row = await o.service.repository.find(id);
  if (!row || !row.connection_key || !row.partner_instance_id) throw fail('There is no established connection with this id here.', 'unknown-connection');
  // Verify against the exact bytes received: the signature binds the body.
  const rawBody = (req as Authed).rawBody?.toString('utf8') ?? '';
  const path = req.originalUrl.slice(req.originalUrl.indexOf('/api/v1/peer/'));
  const verified = await verifyPeerRequest(
    token,
    row.connection_key,
    { connectionId: id, issuer: row.partner_instance_id, audience: o.instanceId() },
    { method: req.method, path, body: rawBody },
  );
  if (!verified.ok) throw fail(verified.failure.message, verified.failure.reason);
  const fresh = await o.db.query<{ jti: string }>(
    `insert into peer_replay_guard (jti, expires_at) values ($1, to_timestamp($2) + interval '1 minute') on conflict do nothing returning jti`,
    [`${id}:${verified.jti}`, verified.exp],
  );
  if (fresh.length === 0) {
    o.logger.warn({ connectionId: id }, 'replayed peer request refused');
    throw new AppError('PEER_REQUEST_REPLAYED', 'This signed request was already received once; a node never sends the same request twice.');
  }
  return o.service.keyProven(row);
}
