import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Express } from 'express';
import { FaultInjector, listen, RateLimiter, type RunningSimulator } from './http.js';

export interface SimulatorBaseOptions {
  /** Load from and save to this JSON file (`save()`); created from the seed when absent. */
  stateFile?: string;
  /** Requests per window per user; past it, 429 with Retry-After. */
  rateLimit?: { limit: number; windowMs: number };
}

/** What every simulator shares: its state (seeded, or kept in a file), injected faults and a rate limit. */
export abstract class SimulatorBase<S> {
  readonly faults = new FaultInjector();
  state: S;
  protected readonly limiter: RateLimiter | null;
  abstract readonly app: Express;
  private readonly stateFile: string | undefined;

  protected constructor(options: SimulatorBaseOptions, seed: () => S) {
    this.stateFile = options.stateFile;
    this.state = options.stateFile && existsSync(options.stateFile) ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as S) : seed();
    this.limiter = options.rateLimit ? new RateLimiter(options.rateLimit.limit, options.rateLimit.windowMs) : null;
  }

  save(): void {
    if (!this.stateFile) throw new Error('no stateFile configured');
    writeFileSync(this.stateFile, JSON.stringify(this.state, null, 2));
  }

  listen(port = 0): Promise<RunningSimulator> {
    return listen(this.app, port);
  }
}
