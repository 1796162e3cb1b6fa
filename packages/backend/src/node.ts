import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import cors from 'cors';
import { Router } from 'express';
import { ConnectorError, type TrackerConnector } from '@exalate/connectors';
import { PROTOCOL_VERSION, type NodeInfo } from '@exalate/contract';
import type { ScriptRunner } from '@exalate/scripting';
import { ADO_ACCESS_TOKEN_HEADER, adoAppTokenAuthenticator } from './admin/ado-app-token.js';
import { anyOf, bearerTokenAuthenticator, type AdminAuthenticator } from './admin/authenticator.js';
import { adminRoutes } from './admin/routes.js';
import { settingsRoutes, TrackerCredential } from './admin/tracker-credential.js';
import { TrackerApp } from './admin/tracker-app.js';
import { jsonBody, LIMITS, refuseNulInPath } from './http/bodies.js';
import type { NodeConfig, ServerConfig } from './config.js';
import { ConnectionService } from './connections/service.js';
import { openPglite, openPostgres, type Database } from './db/database.js';
import { maintainEmbedded } from './db/maintenance.js';
import { migrate } from './db/migrations.js';
import { AppError, ConfigError } from './errors.js';
import { documentedRouter } from './http/documented-router.js';
import type { Logger } from './logger.js';
import { createPeerHttp, type PeerHttp } from './net/peer-http.js';
import { ChangeHub } from './peer/change-hub.js';
import { PeerClient } from './peer/client.js';
import { pollPartner } from './peer/poll-loop.js';
import { peerRoutes } from './peer/routes.js';
import { SyncEngine } from './sync/engine.js';
import { SyncQueue } from './sync/queue.js';
import { createRuleRunner } from './sync/rule-runner.js';
import { syncRoutes } from './sync/routes.js';
import { trackerEventRoutes, TrackerSubscription } from './sync/tracker-events.js';
import { loadSecretKey, SecretBox } from './secrets/secret-box.js';
import { NODE_TYPE_OF } from './trackers.js';

export const EXALATE_VERSION = '0.1.0';

type NodeSettings = { publicUrl: string } & Pick<
  ServerConfig,
  | 'addressPolicy'
  | 'invitationTtlMs'
  | 'pollIntervalMs'
  | 'longPollMs'
  | 'peerTimeoutMs'
  | 'scanIntervalMs'
  | 'refreshIntervalMs'
  | 'retryBaseMs'
  | 'retryMaxMs'
  | 'staleInboxMs'
  | 'maintenanceIntervalMs'
  | 'maxAttachmentBytes'
>;

export interface NodeOptions {
  config: NodeConfig;
  settings: NodeSettings;
  db: Database;
  logger: Logger;
  authenticate?: AdminAuthenticator;
  /** The tracker connector; by default made from `config.tracker` (and a credential set in the settings). */
  connector?: TrackerConnector;
  /** Seals secrets admins enter (a tracker token); by default with a key that lives as long as the process. */
  secrets?: SecretBox;
  /** Runs the sync rules; the server's nodes share one. By default the node makes its own (and closes it). */
  runner?: ScriptRunner;
}

/**
 * One Exalate node: the side of one tracker installation, with its own instance id, URL and
 * data. A server hosts several; they share nothing but the process.
 */
export class ExalateNode {
  readonly router: Router;
  readonly service: ConnectionService;
  private readonly http: PeerHttp;
  private readonly peers: PeerClient;
  private readonly hub = new ChangeHub();
  private readonly stopping = new AbortController();
  private readonly pollLoops = new Map<string, Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  /** Background passes under way: `stop` waits for them, so none meets a closed database. */
  private readonly inFlight = new Set<Promise<void>>();
  private info!: NodeInfo;
  private readonly connector: TrackerConnector;
  private readonly credential: TrackerCredential;
  /** The Exalate app inside the tracker (Jira Data Center), once paired. */
  readonly trackerApp: TrackerApp;
  /** The node's sync pipeline. */
  readonly engine: SyncEngine;
  private readonly subscription: TrackerSubscription;
  private queue: SyncQueue | null = null;

  static async open(
    config: NodeConfig,
    server: ServerConfig & { publicUrl: string },
    logger: Logger,
    secrets: SecretBox,
    runner: ScriptRunner,
  ): Promise<ExalateNode> {
    const db = server.databaseUrl
      ? await openPostgres(server.databaseUrl, `${server.schemaPrefix}${config.id.replace(/-/g, '_')}`)
      : await openPglite(server.dataDir === null ? null : join(server.dataDir, config.id));
    return ExalateNode.create({ config, settings: server, db, secrets, runner, logger: logger.child({ node: config.id }) });
  }

  static async create(o: NodeOptions): Promise<ExalateNode> {
    const applied = await migrate(o.db);
    if (applied.length) o.logger.info({ migrations: applied }, 'database migrated');
    const ownRunner = o.runner ? null : await createRuleRunner(o.logger);
    try {
      const node = new ExalateNode(o, o.runner ?? ownRunner!, ownRunner);
      const unopenable = await node.service.repository.unopenable();
      if (unopenable.length) {
        throw new ConfigError(
          `Node ${o.config.id}: the secrets of ${unopenable.length} connection(s) cannot be opened with this server's secret key: EXALATE_SECRET_KEY (or ${'{EXALATE_DATA_DIR}'}/secret.key) is not the key they were sealed with. Start with that key (from your backups).`,
        );
      }
      const sealed = await node.service.repository.sealPlaintextSecrets();
      if (sealed) o.logger.info({ connections: sealed }, 'sealed the secrets of connections stored before sealing existed');
      await node.credential.load();
      await node.trackerApp.load();
      node.info = await node.loadIdentity();
      node.queue = await SyncQueue.start(o.db, o.logger, node.engine.handlers());
      node.engine.attach(node.queue);
      return node;
    } catch (error) {
      await ownRunner?.close();
      throw error;
    }
  }

  private constructor(
    private readonly o: NodeOptions,
    runner: ScriptRunner,
    /** The runner this node made for itself, closed with it. */
    private readonly ownRunner: ScriptRunner | null,
  ) {
    this.http = createPeerHttp(o.settings.addressPolicy);
    this.peers = new PeerClient(this.http, o.settings.peerTimeoutMs);
    const secrets = o.secrets ?? new SecretBox(loadSecretKey({ secretKey: null, keyFile: null }));
    this.credential = new TrackerCredential({ config: o.config, db: o.db, secrets, logger: o.logger, ...(o.connector ? { injected: o.connector } : {}) });
    const connector = this.credential.connector;
    this.connector = connector;
    this.trackerApp = new TrackerApp({ config: o.config, db: o.db, secrets, logger: o.logger, nodeUrl: `${o.settings.publicUrl}/nodes/${o.config.id}` });
    const trackerApp = this.trackerApp;
    const listProjects = async () => {
      try {
        return await connector.listProjects();
      } catch (error) {
        if (error instanceof ConnectorError)
          throw new AppError(
            'TRACKER_UNAVAILABLE',
            `The tracker did not list its projects (${error.code}: ${error.message}). Check the node's tracker URL and credentials.`,
          );
        throw error;
      }
    };
    this.service = new ConnectionService({
      db: o.db,
      peers: this.peers,
      logger: o.logger,
      addressPolicy: o.settings.addressPolicy,
      invitationTtlMs: o.settings.invitationTtlMs,
      nodeInfo: () => this.info,
      listProjects,
      secrets,
      onConnectionChanged: (id) => {
        this.hub.notify(id);
        void this.engine
          .connectionChanged(id)
          .catch((error: unknown) => o.logger.error({ err: error, connectionId: id }, 'could not resume the sync of a connection'));
      },
    });
    this.engine = new SyncEngine({
      db: o.db,
      connections: this.service.repository,
      connector,
      runner,
      peers: this.peers,
      identity: (row) => this.service.signingIdentity(row),
      isPrivate: o.config.private,
      notifyPartner: (id) => this.hub.notify(id),
      partnerDeleted: (row) => this.service.handlePartnerDeleted(row),
      logger: o.logger,
      retry: { baseMs: o.settings.retryBaseMs, maxMs: o.settings.retryMaxMs },
      staleInboxMs: o.settings.staleInboxMs,
      maxAttachmentBytes: o.settings.maxAttachmentBytes,
    });
    this.subscription = new TrackerSubscription(o.db, connector, `${o.settings.publicUrl}/nodes/${o.config.id}/api/v1/tracker-events`, o.logger);
    this.router = Router();
    // The admin frontends run on the trackers' pages, so the API answers cross-origin calls. The
    // Azure DevOps hub is served from the Marketplace's domains: any origin (no cookie is ever
    // accepted, every call carries its token in a header). A Jira Data Center node answers only
    // its Jira's own origin, where the app's page runs. A ServiceNow node answers no browser at all:
    // the instance forwards its page's calls server to server.
    const allowedOrigin = (origin: string | undefined, done: (error: Error | null, allow?: boolean | string) => void) => {
      if (!trackerApp.supported) return done(null, '*');
      if (!trackerApp.callsFromBrowser) return done(null, false);
      const jira = trackerApp.origin ?? new URL(o.config.tracker.url).origin;
      done(null, origin === jira ? origin : false);
    };
    this.router.use(
      '/api/v1',
      cors({
        origin: allowedOrigin,
        methods: ['GET', 'POST', 'PUT', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', ADO_ACCESS_TOKEN_HEADER],
        maxAge: 600,
      }),
    );
    const publicApi = documentedRouter('/api/v1');
    publicApi.get('/node-info', (_req, res) => {
      res.json(this.info);
    });
    this.router.use('/api/v1', publicApi.router);
    if (o.config.private) {
      this.router.use('/api/v1/peer', () => {
        throw new AppError('NOT_FOUND', 'This node is private: it receives no node-to-node requests and calls its partners itself.');
      });
    } else {
      this.router.use(
        '/api/v1/peer',
        // Each route reads its own body, after it checked the request's signature.
        peerRoutes({
          service: this.service,
          db: o.db,
          hub: this.hub,
          engine: this.engine,
          logger: o.logger,
          instanceId: () => this.info.instanceId,
          maxPollWaitMs: o.settings.longPollMs,
          shutdown: this.stopping.signal,
        }),
      );
    }
    // The tracker app's pairing call: the one-time pairing code is its credential (docs/security.md).
    const pairing = documentedRouter('/api/v1');
    pairing.post('/tracker-app/pair', refuseNulInPath, ...jsonBody(LIMITS.pairing), async (req, res) => {
      res.json(await trackerApp.pair(req.body));
    });
    this.router.use('/api/v1', pairing.router);
    // The tracker's webhooks: authenticated by their own secret, not the admin token.
    this.router.use('/api/v1', trackerEventRoutes({ subscription: this.subscription, engine: this.engine, connector, logger: o.logger }));
    // The admin API reads a body only once the caller is signed in (adminRoutes).
    this.router.use(
      '/api/v1',
      adminRoutes({
        service: this.service,
        authenticate: o.authenticate ?? adminAuthenticator(o.config, trackerApp),
        listProjects,
        extend: (route) => {
          syncRoutes(route, { service: this.service, engine: this.engine, runner, connector });
          settingsRoutes(route, this.credential);
          route.post('/settings/tracker-app/pairing-code', async (_req, res) => {
            res.status(201).json(await trackerApp.issuePairingCode());
          });
        },
      }),
    );
  }

  get id(): string {
    return this.o.config.id;
  }

  get nodeInfo(): NodeInfo {
    return this.info;
  }

  get nodeUrl(): string | null {
    return this.info.nodeUrl;
  }

  get database(): Database {
    return this.o.db;
  }

  /** Background work: a private node collects acceptances and polls its partners. */
  start(): void {
    const background = (fn: () => Promise<void>, failed = 'background task failed'): Promise<void> => {
      const pass = fn()
        .catch((error: unknown) => this.o.logger.error({ err: error }, failed))
        .finally(() => this.inFlight.delete(pass));
      this.inFlight.add(pass);
      return pass;
    };
    const every = (ms: number, fn: () => Promise<void>) => {
      let running = false;
      const timer = setInterval(() => {
        if (running || this.stopping.signal.aborted) return;
        running = true;
        void background(fn).finally(() => (running = false));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(60_000, async () => {
      await this.o.db.query(`delete from peer_replay_guard where expires_at < now()`);
    });
    // The embedded database has no autovacuum of its own.
    if (this.o.db.kind === 'pglite') {
      every(this.o.settings.maintenanceIntervalMs, async () => {
        const tables = await maintainEmbedded(this.o.db);
        // One line a pass, not one a table: a busy node has a few tables due every minute.
        if (tables.length) this.o.logger.info({ tables, ms: tables.reduce((sum, t) => sum + t.ms, 0) }, 'embedded database maintained (vacuum, analyze)');
      });
    }
    // Webhooks make the sync fast; the incremental query makes it complete (a lost webhook, a node that was down).
    const scan = async () => {
      const subscribed = await this.subscription.ensure(this.o.config.tracker.webhooks !== false);
      const due = subscribed ? Date.now() - this.lastScan >= 60_000 : true;
      if (due) {
        this.lastScan = Date.now();
        await this.engine.scanAll();
      }
      await this.engine.sweepInbox();
    };
    every(this.o.settings.scanIntervalMs, scan);
    void background(() => this.engine.resume(), 'could not resume the sync');
    // Comment edits the tracker does not announce are found by reading recently synced items again.
    every(this.o.settings.refreshIntervalMs, async () => {
      if (this.connector.sideChanges === 'never' || !(await this.subscription.active())) await this.engine.refreshRecent();
    });
    void background(scan);
    if (this.o.config.private) {
      every(this.o.settings.pollIntervalMs, () => this.privateNodeTick());
      this.startupTick = background(() => this.privateNodeTick());
    }
  }

  /** A private node's first round of collecting acceptances and starting polls, run at start (settles, never rejects). */
  startupTick: Promise<void> = Promise.resolve();

  private lastScan = 0;

  /** Ends background work and releases held long polls; the node still answers until `close`. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.timers.forEach(clearInterval);
    this.hub.releaseAll();
    await Promise.allSettled([...this.pollLoops.values(), ...this.inFlight]);
    await this.engine.stop();
    await this.queue?.stop();
    this.queue = null;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.http.close();
    await this.o.db.close();
    await this.ownRunner?.close();
  }

  private async privateNodeTick(): Promise<void> {
    const repo = this.service.repository;
    for (const row of await repo.listAwaitingAcceptanceWithDestination()) {
      if (this.stopping.signal.aborted) return;
      await this.service.collectAcceptance(row);
    }
    for (const row of await repo.listPollable()) {
      if (!this.pollLoops.has(row.id) && row.partner_node_url && !row.partner_poll_only) {
        const loop = this.pollLoop(row.id).finally(() => this.pollLoops.delete(row.id));
        this.pollLoops.set(row.id, loop);
      }
    }
  }

  /** A private node's long poll on one connection (see peer/poll-loop.ts). */
  private pollLoop(connectionId: string): Promise<void> {
    return pollPartner(
      {
        peers: this.peers,
        logger: this.o.logger,
        signal: this.stopping.signal,
        longPollMs: this.o.settings.longPollMs,
        pollIntervalMs: this.o.settings.pollIntervalMs,
        findLive: (id) => this.service.repository.findLive(id),
        signingIdentity: (row) => this.service.signingIdentity(row),
        highestReceivedSeq: (id) => this.engine.queries.highestReceivedSeq(id),
        receive: (row, events) => this.engine.receive(row, events),
        partnerDeleted: (row) => this.service.handlePartnerDeleted(row),
      },
      connectionId,
    );
  }

  private async loadIdentity(): Promise<NodeInfo> {
    const c = this.o.config;
    let rows = await this.o.db.query<{ instance_id: string }>(`select instance_id from node_identity`);
    if (rows.length === 0) {
      rows = await this.o.db.query<{ instance_id: string }>(
        `insert into node_identity (instance_id) values ($1) on conflict (singleton) do update set singleton = true returning instance_id`,
        [randomUUID()],
      );
    }
    return {
      product: 'exalate',
      nodeType: NODE_TYPE_OF[c.tracker.kind],
      instanceId: rows[0]!.instance_id,
      trackerUrl: this.connector.trackerUrl,
      nodeUrl: c.private ? null : `${this.o.settings.publicUrl}/nodes/${c.id}`,
      protocol: { min: PROTOCOL_VERSION.min, max: PROTOCOL_VERSION.max },
      modes: c.modes,
      pollOnly: c.private,
      version: EXALATE_VERSION,
    };
  }
}

/**
 * The node's admin token; on an Azure DevOps node with an extension key, the Exalate hub's app
 * token; on a Jira Data Center node, the paired Exalate app's admin tokens; on a ServiceNow node,
 * the paired instance's forwarded calls.
 */
function adminAuthenticator(config: NodeConfig, trackerApp: TrackerApp): AdminAuthenticator {
  const token = bearerTokenAuthenticator(config.adminToken);
  if (trackerApp.supported) return anyOf(token, trackerApp.authenticator());
  if (config.tracker.kind !== 'azure-devops' || !config.adoExtension) return token;
  return anyOf(token, adoAppTokenAuthenticator({ ...config.adoExtension, organizationUrl: config.tracker.url }));
}
