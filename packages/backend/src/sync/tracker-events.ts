import { randomBytes } from 'node:crypto';
import { ConnectorError, type TrackerConnector } from '@exalate/connectors';
import type { NextFunction, Request, Response, Router } from 'express';
import { jsonBody, LIMITS, type RawBodyRequest } from '../http/bodies.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors.js';
import { documentedRouter } from '../http/documented-router.js';
import type { Logger } from '../logger.js';
import type { SyncEngine } from './engine.js';

/**
 * The node's webhook registration in its tracker (Jira webhooks, Azure DevOps service hooks).
 * Made once and kept in the database (`tracker_subscription`) with the secret the tracker sends
 * back; made again when the connector asks the tracker for other details than the stored one did
 * (`TrackerConnector.webhookShape`: the new subscription first, then the old one is removed). A
 * tracker without webhooks (ServiceNow) has none, and the incremental query then runs often
 * instead.
 */
export class TrackerSubscription {
  private state: { id: string | null; secret: string; shape: string | null } | null | undefined = undefined;
  /**
   * A subscription for another URL of this node (it moved): removed once the new one is made. Kept
   * in the database (`stale_subscription_id`) until it is gone, so a failed removal is tried again,
   * after a restart too.
   */
  private stale: { id: string; url: string } | null = null;
  private lastAttempt = 0;

  constructor(
    private readonly db: Database,
    private readonly connector: TrackerConnector,
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  /** Whether the tracker has a subscription of this node's, so its webhooks come. */
  async active(): Promise<boolean> {
    return Boolean((await this.load())?.id);
  }

  /** The secret webhook calls must carry, or null when there is no subscription. */
  async secret(): Promise<string | null> {
    return (await this.load())?.secret ?? null;
  }

  /**
   * Subscribes when wanted and not done yet (retrying at most once a minute), and subscribes again
   * when the stored subscription asks the tracker for something other than the connector now does
   * (the new one first, so no event is missed; the old one is then removed). Whether webhooks are coming.
   */
  async ensure(wanted: boolean): Promise<boolean> {
    const current = await this.load();
    const shape = this.connector.webhookShape ?? null;
    // Calls for an old URL of this node would come twice (and the old copy be refused): it goes
    // when webhooks are no longer wanted, or once the subscription for the new URL is made.
    if (this.stale && (!wanted || current?.id)) await this.removeStale();
    if (current?.id && (current.shape === shape || !wanted)) return true;
    if (!wanted || Date.now() - this.lastAttempt < 60_000) return Boolean(current?.id);
    this.lastAttempt = Date.now();
    const secret = current?.secret ?? randomBytes(24).toString('base64url');
    try {
      const made = await this.connector.subscribe({ url: this.url, secret });
      await this.db.query(
        `insert into tracker_subscription (subscription_id, secret, url, shape, stale_subscription_id) values ($1, $2, $3, $4, $5)
         on conflict (singleton) do update set subscription_id = excluded.subscription_id, secret = excluded.secret, url = excluded.url, shape = excluded.shape,
           stale_subscription_id = excluded.stale_subscription_id`,
        [made?.id ?? null, secret, this.url, shape, this.stale?.id ?? null],
      );
      this.state = { id: made?.id ?? null, secret, shape };
      if (made)
        this.logger.info(
          { events: made.events },
          current?.id ? 'subscribed to the tracker’s webhooks again, as this version asks for other details' : 'subscribed to the tracker’s webhooks',
        );
      if (current?.id) {
        await this.connector.unsubscribe(current.id).catch((error: unknown) => {
          this.logger.warn(
            { reason: reasonOf(error), subscription: current.id },
            'could not remove the earlier webhook subscription; its calls are received twice until it is removed in the tracker',
          );
        });
      }
      if (made) await this.removeStale();
      return Boolean(made);
    } catch (error) {
      this.logger.warn({ reason: reasonOf(error) }, 'could not subscribe to the tracker’s webhooks; changes are found by the incremental query alone');
      return Boolean(current?.id);
    }
  }

  private async removeStale(): Promise<void> {
    const stale = this.stale;
    if (!stale) return;
    try {
      await this.connector.unsubscribe(stale.id);
      this.logger.info({ subscription: stale.id, url: stale.url }, 'removed the webhook subscription for this node’s earlier URL');
      this.stale = null;
      await this.db.query(`update tracker_subscription set stale_subscription_id = null where stale_subscription_id = $1`, [stale.id]);
    } catch (error) {
      // Tried again at the next ensure (the next scan).
      this.logger.warn(
        { reason: reasonOf(error), subscription: stale.id, url: stale.url },
        'could not remove the webhook subscription for this node’s earlier URL; its calls come twice until it is removed',
      );
    }
  }

  private async load(): Promise<{ id: string | null; secret: string; shape: string | null } | null> {
    if (this.state !== undefined) return this.state;
    const rows = await this.db.query<{
      subscription_id: string | null;
      secret: string;
      url: string;
      shape: string | null;
      stale_subscription_id: string | null;
    }>(`select subscription_id, secret, url, shape, stale_subscription_id from tracker_subscription`);
    const row = rows[0];
    // A node that moved to another URL subscribes again, and the subscription for the old one goes.
    this.state = row && row.url === this.url ? { id: row.subscription_id, secret: row.secret, shape: row.shape } : null;
    if (row && row.url !== this.url && row.subscription_id) this.stale = { id: row.subscription_id, url: row.url };
    else if (row?.stale_subscription_id) this.stale = { id: row.stale_subscription_id, url: 'an earlier URL' };
    return this.state;
  }
}

/** A tracker call's failure for the log: the connector's code and message, or the error as it is. */
const reasonOf = (error: unknown): string => (error instanceof ConnectorError ? `${error.code}: ${error.message}` : String(error));

/** POST {nodeUrl}/api/v1/tracker-events: where the tracker's webhooks land. */
export function trackerEventRoutes(o: { subscription: TrackerSubscription; engine: SyncEngine; connector: TrackerConnector; logger: Logger }): Router {
  const { router, ...route } = documentedRouter('/api/v1');
  const headersOf = (req: Request) => Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
  const refused = (reason: string) => {
    o.logger.warn({ code: 'WEBHOOK_REJECTED', reason }, 'webhook call refused');
    return new AppError('WEBHOOK_REJECTED', 'This webhook call does not carry the subscription’s secret.');
  };
  /** What the headers can tell is told before the body is read: a call without the secret costs nothing more. */
  const byHeaders = async (req: Request, _res: Response, next: NextFunction) => {
    const secret = await o.subscription.secret();
    if (!secret) throw new AppError('WEBHOOK_REJECTED', 'This node has not subscribed to webhooks from its tracker.');
    if (o.connector.checkWebhookHeaders(headersOf(req), secret) === 'refused') throw refused('headers');
    (req as Request & { webhookSecret?: string }).webhookSecret = secret;
    next();
  };
  route.post('/tracker-events', byHeaders, ...jsonBody(LIMITS.webhook, { check: false }), async (req, res) => {
    const secret = (req as Request & { webhookSecret?: string }).webhookSecret!;
    const rawBody = (req as RawBodyRequest).rawBody?.toString('utf8') ?? '';
    const headers = headersOf(req);
    let events;
    try {
      events = o.connector.parseWebhook({ body: req.body as unknown, rawBody, headers }, secret);
    } catch (error) {
      throw refused((error as Error).message);
    }
    const changes = events.filter((e) => e.kind !== 'deleted');
    if (changes.length) await o.engine.onTrackerChanges(changes);
    res.status(204).end();
  });
  return router;
}
