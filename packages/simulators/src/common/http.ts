import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';

/** A simulator listening on loopback. */
export interface RunningSimulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(app: Express, port = 0, host = '127.0.0.1'): Promise<RunningSimulator> {
  const server: Server = createServer(app);
  // The vendors' services keep an idle connection about a minute (behind their load balancers),
  // not Node's 5 s, after which a client sending on it at that moment gets ECONNRESET.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Credentials from `Authorization: Basic …` (user may be empty, as with a PAT) or `Bearer …`. */
export function credentials(req: Request): { scheme: 'basic'; user: string; password: string } | { scheme: 'bearer'; token: string } | null {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i < 0 ? null : { scheme: 'basic', user: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (header.startsWith('Bearer ')) return { scheme: 'bearer', token: header.slice(7) };
  return null;
}

/**
 * Faults a test can inject, for the next N requests (optionally only those whose path matches):
 * an answer with a given status, as a tracker under load or in trouble gives; or a request held
 * until something else has happened (someone else's edit, say), then answered as usual.
 */
export type Fault = FailedAnswer | HeldRequest;

export interface FailedAnswer {
  status: number;
  times: number;
  /** Seconds, sent as Retry-After with 429 and 503. */
  retryAfter?: number;
  match?: RegExp;
  /** Only requests of this method (GET, PATCH, …). */
  method?: string;
}

export interface HeldRequest {
  times: number;
  match?: RegExp;
  method?: string;
  /** Runs when the request arrives; the request is handled once it settles. */
  until: () => Promise<unknown>;
}

export class FaultInjector {
  private faults: Fault[] = [];
  /** Requests seen, by "METHOD path": what tests use to count API calls. */
  readonly calls: string[] = [];
  /** The same requests with the status they were answered with. */
  readonly answered: Array<{ call: string; status: number }> = [];

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  middleware(render: (req: Request, res: Response, fault: FailedAnswer) => void): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const call = `${req.method} ${req.path}`;
      this.calls.push(call);
      res.on('finish', () => this.answered.push({ call, status: res.statusCode }));
      const fault = this.faults.find((f) => f.times > 0 && (!f.method || f.method === req.method) && (!f.match || f.match.test(req.originalUrl)));
      if (!fault) return next();
      fault.times -= 1;
      this.faults = this.faults.filter((f) => f.times > 0);
      if ('until' in fault) {
        fault.until().then(() => next(), next);
        return;
      }
      if (fault.retryAfter !== undefined) res.setHeader('Retry-After', String(fault.retryAfter));
      render(req, res, fault);
    };
  }
}

/**
 * A fixed-window request budget per identity, as the trackers apply: past it, 429 with
 * Retry-After until the window ends.
 */
export class RateLimiter {
  private windowStart = Date.now();
  private used = new Map<string, number>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  take(who: string, now = Date.now()): { allowed: boolean; remaining: number; resetAt: number } {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used.clear();
    }
    const used = (this.used.get(who) ?? 0) + 1;
    this.used.set(who, used);
    return { allowed: used <= this.limit, remaining: Math.max(0, this.limit - used), resetAt: this.windowStart + this.windowMs };
  }
}
