/**
 * Request bodies, read only where a route says and only after it has authenticated the request
 * (from its headers): each route names its own limit, and a body past it is refused from its
 * Content-Length, or as soon as the bytes read pass it. What is read is JSON whose strings can be
 * stored (no NUL, which PostgreSQL's text refuses) and whose nesting is bounded.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { formatBytes } from '@exalate/contract';
import { AppError } from '../errors.js';

/** How deep a request body's JSON may nest: the deepest our own bodies go is under ten. */
export const MAX_BODY_DEPTH = 64;

export const LIMITS = {
  /** The admin API (rules are the largest: a few hundred kilobytes at most). */
  admin: 1024 * 1024,
  /** The handshake, polls, confirmations and notices between nodes. */
  peerSmall: 64 * 1024,
  /** Events (up to 500 replicas) and attachments' bytes between nodes. */
  peerLarge: 40 * 1024 * 1024,
  /** The tracker app's pairing call (a pairing code and a URL). */
  pairing: 8 * 1024,
  /** A tracker's webhook call. */
  webhook: 5 * 1024 * 1024,
} as const;

export type RawBodyRequest = Request & { rawBody?: Buffer };

/**
 * Reads the body (up to `limit` bytes) as JSON into `req.body`, keeping the exact bytes in
 * `req.rawBody` (a signature covers them). An empty body is `{}`. `check: false` for a body that
 * is not stored as it is (a tracker's webhook: a NUL in an item's text is the tracker's business).
 */
export function jsonBody(limit: number, o: { check?: boolean } = {}): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit });
  return [
    // A body announced past the limit is refused at once. (body-parser would read it to its end first.)
    (req: Request, res: Response, next: NextFunction) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > limit) {
        res.setHeader('connection', 'close');
        throw tooLarge(limit);
      }
      next();
    },
    raw,
    (req: Request, _res: Response, next: NextFunction) => {
      const bytes = Buffer.isBuffer(req.body) ? (req.body as Buffer) : Buffer.alloc(0);
      (req as RawBodyRequest).rawBody = bytes;
      if (bytes.length === 0) {
        req.body = {};
        return next();
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new AppError('VALIDATION_FAILED', 'The request body is not valid JSON.');
      }
      if (o.check !== false) checkBody(parsed);
      req.body = parsed;
      next();
    },
  ];
}

/**
 * Refuses what cannot be stored or is no request of ours: a NUL anywhere (as INVALID_CHARACTER,
 * naming the field), and nesting deeper than MAX_BODY_DEPTH. Iterative, so that a hostile body
 * cannot exhaust the stack that checks it; a value's path is spelled out only for the error.
 */
export function checkBody(body: unknown): void {
  interface Step {
    value: unknown;
    key: string | number | null;
    parent: Step | null;
    depth: number;
  }
  const pathOf = (step: Step): string => {
    const keys: Array<string | number> = [];
    for (let at: Step | null = step; at && at.key !== null; at = at.parent) keys.unshift(at.key);
    return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
  };
  const stack: Step[] = [{ value: body, key: null, parent: null, depth: 0 }];
  while (stack.length) {
    const step = stack.pop()!;
    const { value, depth } = step;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw nul(pathOf(step));
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      const path = pathOf(step);
      throw new AppError(
        'VALIDATION_FAILED',
        `The request body nests deeper than ${MAX_BODY_DEPTH} levels${path ? ` (at ${path})` : ''}; no request of this API does.`,
        { [topField(path) || 'body']: `Nested deeper than ${MAX_BODY_DEPTH} levels.` },
      );
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i += 1) stack.push({ value: value[i], key: i, parent: step, depth: depth + 1 });
    } else {
      for (const key of Object.keys(value)) {
        const child: Step = { value: (value as Record<string, unknown>)[key], key, parent: step, depth: depth + 1 };
        if (key.includes('\u0000')) throw nul(pathOf(child));
        stack.push(child);
      }
    }
  }
}

/** A NUL in a request's path (an item key, a connection id) cannot be looked up either. */
export function refuseNulInPath(req: Request, _res: Response, next: NextFunction): void {
  if (/%00/.test(req.originalUrl) || req.originalUrl.includes('\u0000')) {
    throw new AppError('INVALID_CHARACTER', 'The request path contains a NUL character (%00), which no key or id has. Check the address.');
  }
  next();
}

const topField = (path: string): string => path.split(/[.[]/)[0] ?? '';

function nul(path: string): AppError {
  const field = topField(path) || 'body';
  const message = `${path || 'The request body'} contains a NUL character (U+0000), which cannot be stored. Remove it and send the request again.`;
  return new AppError('INVALID_CHARACTER', message, { [field]: 'Contains a NUL character (U+0000).' });
}

/** The answer to a body past its route's limit (body-parser's `entity.too.large`). */
export function tooLarge(limit: number | undefined): AppError {
  return new AppError('REQUEST_TOO_LARGE', `The request body is too large: this endpoint takes ${limit ? formatBytes(limit) : 'less'} at most.`);
}
