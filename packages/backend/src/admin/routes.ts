import type { NextFunction, Request, Response, Router } from 'express';
import { InvitationCodeRequestSchema, ProbeDestinationRequestSchema, SetProjectRequestSchema } from '@exalate/contract';
import type { ConnectionService } from '../connections/service.js';
import { parse } from '../http/parse-request.js';
import type { AdminAuthenticator } from './authenticator.js';
import { AppError } from '../errors.js';
import { jsonBody, LIMITS, refuseNulInPath } from '../http/bodies.js';
import { documentedRouter, type DocumentedRouter } from '../http/documented-router.js';
import type { Project } from '@exalate/contract';

/** The admin API the frontends use, mounted at {nodeUrl}/api/v1. Documented in docs/api/openapi.yaml. */
export function adminRoutes(o: {
  service: ConnectionService;
  authenticate: AdminAuthenticator;
  listProjects: () => Promise<Project[]>;
  /** More routes behind the same authentication (the sync's). */
  extend?: (route: Omit<DocumentedRouter, 'router'>) => void;
}): Router {
  const { router, ...route } = documentedRouter('/api/v1');
  const s = o.service;

  router.use(async (req: Request, _res: Response, next: NextFunction) => {
    if (!(await o.authenticate(req))) {
      throw new AppError('UNAUTHENTICATED', 'Sign in as an administrator: send this node\'s admin token as "Authorization: Bearer <token>".');
    }
    next();
  });
  // Only a signed-in admin's body is read, and no more of it than this API takes.
  router.use(refuseNulInPath, ...jsonBody(LIMITS.admin));

  route.get('/projects', async (_req, res) => {
    res.json({ projects: await o.listProjects() });
  });

  route.post('/destinations/probe', async (req, res) => {
    res.json(await s.probeDestination(parse(ProbeDestinationRequestSchema, req.body).url));
  });

  route.get('/connections', async (_req, res) => {
    res.json({ connections: await s.list() });
  });

  route.post('/connections', async (req, res) => {
    res.status(201).json(await s.initiate(req.body));
  });

  route.post('/invitations/preview', async (req, res) => {
    res.json(await s.preview(parse(InvitationCodeRequestSchema, req.body).code));
  });

  route.post('/invitations/accept', async (req, res) => {
    res.status(201).json({ connection: await s.accept(req.body) });
  });

  route.get('/connections/:id', async (req, res) => {
    res.json(await s.get(String(req.params['id'])));
  });

  route.get('/connections/:id/invitation', async (req, res) => {
    res.json(await s.invitationCode(String(req.params['id'])));
  });

  route.post('/connections/:id/revoke-invitation', async (req, res) => {
    await s.revokeInvitation(String(req.params['id']));
    res.status(204).end();
  });

  route.post('/connections/:id/deactivate', async (req, res) => {
    res.json(await s.deactivate(String(req.params['id'])));
  });

  route.post('/connections/:id/activate', async (req, res) => {
    res.json(await s.activate(String(req.params['id'])));
  });

  route.put('/connections/:id/project', async (req, res) => {
    res.json(await s.setProject(String(req.params['id']), parse(SetProjectRequestSchema, req.body).project));
  });

  route.delete('/connections/:id', async (req, res) => {
    await s.delete(String(req.params['id']));
    res.status(204).end();
  });

  o.extend?.(route);
  return router;
}
