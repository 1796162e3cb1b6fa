// Who may use a node's admin API: the authenticator type, the node's own bearer token, and
// the combinator that lets a tracker's sign-in (the Azure DevOps app token, a paired tracker
// app) stand beside it.
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/**
 * Decides whether a request may use the admin API. The bearer-token check below is the default;
 * tracker frontends plug in their own (e.g. the Azure DevOps app token). `false` answers the
 * generic sign-in message; an authenticator that knows better throws an AppError with its own.
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

/** Any of the authenticators admits the request (the node's admin token, or a tracker's own sign-in). */
export function anyOf(...authenticators: AdminAuthenticator[]): AdminAuthenticator {
  return async (req) => {
    for (const a of authenticators) if (await a(req)) return true;
    return false;
  };
}
