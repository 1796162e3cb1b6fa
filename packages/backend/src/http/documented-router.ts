import { Router, type RequestHandler } from 'express';

/**
 * Every route of the node's APIs is declared through this, so the set of real routes is known and
 * a test can hold it against docs/api/openapi.yaml in both directions.
 */
export const DECLARED_ROUTES = new Set<string>();

export interface DocumentedRouter {
  router: Router;
  get(path: string, ...handlers: RequestHandler[]): void;
  post(path: string, ...handlers: RequestHandler[]): void;
  put(path: string, ...handlers: RequestHandler[]): void;
  delete(path: string, ...handlers: RequestHandler[]): void;
}

/** `prefix` is where the router is mounted below the node URL, e.g. `/api/v1/peer`. */
export function documentedRouter(prefix: string): DocumentedRouter {
  const router = Router();
  const declare =
    (method: 'get' | 'post' | 'put' | 'delete') =>
    (path: string, ...handlers: RequestHandler[]) => {
      DECLARED_ROUTES.add(`${method.toUpperCase()} ${prefix}${path}`.replace(/:(\w+)/g, '{$1}'));
      router[method](path, ...handlers);
    };
  return { router, get: declare('get'), post: declare('post'), put: declare('put'), delete: declare('delete') };
}
