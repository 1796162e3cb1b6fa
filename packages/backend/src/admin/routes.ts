import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { InvitationCodeRequestSchema, ProbeDestinationRequestSchema } from '@exalate/contract';
import type { ConnectionService } from '../connections/service.js';
import { parse } from '../connections/service.js';
import { AppError } from '../errors.js';
import type { Project } from '@exalate/contract';

/**
 * Decides whether a request may use the admin API. The bearer-token check below is the default;
 * tracker frontends plug in their own (e.g. the Azure DevOps app token).
 */
export type AdminAuthenticator = (req: Request) => Promise<boolean> | boolean;

export function bearerTokenAuthenticator(token: string): AdminAuthenticator {
  const expected = Buffer.from(token);
  return (req) => {
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}

/** The admin API the frontends use, mounted at {nodeUrl}/api/v1. Documented in docs/api/openapi.yaml. */
export function adminRoutes(o: { service: ConnectionService; authenticate: AdminAuthenticator; listProjects: () => Promise<Project[]> }): Router {
  const router = Router();
  const s = o.service;

  router.use(async (req: Request, _res: Response, next: NextFunction) => {
    if (!(await o.authenticate(req))) {
      throw new AppError('UNAUTHENTICATED', 'Sign in as an administrator: send this node\'s admin token as "Authorization: Bearer <token>".');
    }
    next();
  });

  router.get('/projects', async (_req, res) => {
    res.json({ projects: await o.listProjects() });
  });

  router.post('/destinations/probe', async (req, res) => {
    res.json(await s.probeDestination(parse(ProbeDestinationRequestSchema, req.body).url));
  });

  router.get('/connections', async (_req, res) => {
    res.json({ connections: await s.list() });
  });

  router.post('/connections', async (req, res) => {
    res.status(201).json(await s.initiate(req.body));
  });

  router.post('/invitations/preview', async (req, res) => {
    res.json(await s.preview(parse(InvitationCodeRequestSchema, req.body).code));
  });

  router.post('/invitations/accept', async (req, res) => {
    res.status(201).json({ connection: await s.accept(req.body) });
  });

  router.get('/connections/:id', async (req, res) => {
    res.json(await s.get(req.params.id));
  });

  router.get('/connections/:id/invitation', async (req, res) => {
    res.json(await s.invitationCode(req.params.id));
  });

  router.post('/connections/:id/revoke-invitation', async (req, res) => {
    await s.revokeInvitation(req.params.id);
    res.status(204).end();
  });

  router.post('/connections/:id/deactivate', async (req, res) => {
    res.json(await s.deactivate(req.params.id));
  });

  router.post('/connections/:id/activate', async (req, res) => {
    res.json(await s.activate(req.params.id));
  });

  router.delete('/connections/:id', async (req, res) => {
    await s.delete(req.params.id);
    res.status(204).end();
  });

  return router;
}
