import { ConnectorError, type TrackerConnector } from '@exalate/connectors';
import { SetTrackerCredentialRequestSchema, type NodeSettingsView } from '@exalate/contract';
import type { NodeConfig } from '../config.js';
import { parse } from '../http/parse-request.js';
import type { Database } from '../db/database.js';
import { putNodeSetting } from '../db/put-node-setting.js';
import { AppError } from '../errors.js';
import type { DocumentedRouter } from '../http/documented-router.js';
import type { Logger } from '../logger.js';
import type { SealedSecret, SecretBox } from '../secrets/secret-box.js';
import { createConnector } from '../trackers.js';

const KEY = 'tracker_credential';

/**
 * The token or password a node acts with in its tracker: from its configuration, or set by an admin
 * in a frontend's General settings, sealed in the database and never shown again. The node's
 * connector is a stable object whose target is swapped when the credential changes, so the sync
 * engine and the webhooks keep their reference.
 */
export class TrackerCredential {
  private current: TrackerConnector;
  private updatedAt: string | null = null;
  private problem: string | null = null;
  /** What the rest of the node uses: always the connector with the credential in force. */
  readonly connector: TrackerConnector;

  constructor(private readonly o: { config: NodeConfig; db: Database; secrets: SecretBox; logger: Logger; injected?: TrackerConnector }) {
    this.current = o.injected ?? createConnector(o.config.tracker);
    this.connector = new Proxy({} as TrackerConnector, {
      get: (_target, property) => {
        const value: unknown = Reflect.get(this.current, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(this.current) : value;
      },
    });
  }

  /** Takes up a credential an admin stored earlier. */
  async load(): Promise<void> {
    const rows = await this.o.db.query<{ value: { sealed: SealedSecret }; updated_at: Date }>(`select value, updated_at from node_settings where key = $1`, [
      KEY,
    ]);
    const row = rows[0];
    if (!row || this.o.injected) return;
    const secret = this.o.secrets.open(row.value.sealed);
    this.updatedAt = row.updated_at.toISOString();
    if (secret === null) {
      this.problem =
        'The token stored here was sealed with another secret key than this node has now (EXALATE_SECRET_KEY or its key file changed), so the node uses the one from its configuration. Enter the token again.';
      this.o.logger.error({ node: this.o.config.id }, "the stored tracker credential cannot be opened with this node's secret key");
      return;
    }
    this.current = createConnector({ ...this.o.config.tracker, secret });
  }

  view(): NodeSettingsView {
    const fromSettings = this.updatedAt !== null && this.problem === null;
    return {
      tracker: {
        url: this.o.config.tracker.url,
        credential: { source: fromSettings ? 'settings' : 'configuration', updatedAt: this.updatedAt, problem: this.problem },
      },
    };
  }

  /** Checks the new credential against the tracker, then seals and stores it and acts with it. */
  async set(secret: string): Promise<void> {
    if (this.o.injected)
      throw new AppError(
        'VALIDATION_FAILED',
        "This node's tracker connection is supplied by the program that runs it, so its credential cannot be changed here.",
      );
    const candidate = createConnector({ ...this.o.config.tracker, secret });
    try {
      await candidate.listProjects();
    } catch (error) {
      if (error instanceof ConnectorError && (error.code === 'AUTH_FAILED' || error.code === 'FORBIDDEN')) {
        const scopes =
          this.o.config.tracker.kind === 'azure-devops'
            ? ' and that it has the scopes the node needs (Work Items read & write, Service Hooks read & write)'
            : '';
        throw new AppError(
          'TRACKER_CREDENTIAL_REJECTED',
          `${this.o.config.tracker.url} refused this token (${error.message}). Check that it has not expired${scopes}, then enter it again.`,
          { secret: 'The tracker refused this token.' },
        );
      }
      if (error instanceof ConnectorError)
        throw new AppError(
          'TRACKER_UNAVAILABLE',
          `The token could not be checked: ${this.o.config.tracker.url} answered ${error.code} (${error.message}). Try again; nothing was changed.`,
        );
      throw error;
    }
    const updatedAt = await putNodeSetting(this.o.db, KEY, { sealed: this.o.secrets.seal(secret) });
    this.current = candidate;
    this.updatedAt = updatedAt.toISOString();
    this.problem = null;
    this.o.logger.info({ node: this.o.config.id }, 'the tracker credential was changed in the settings');
  }

  /** Goes back to the credential of the node's configuration. */
  async clear(): Promise<void> {
    if (this.o.injected)
      throw new AppError(
        'VALIDATION_FAILED',
        "This node's tracker connection is supplied by the program that runs it, so its credential cannot be changed here.",
      );
    await this.o.db.query(`delete from node_settings where key = $1`, [KEY]);
    this.current = createConnector(this.o.config.tracker);
    this.updatedAt = null;
    this.problem = null;
  }
}

/** General settings in the admin API (docs/api/openapi.yaml). */
export function settingsRoutes(route: Omit<DocumentedRouter, 'router'>, credential: TrackerCredential): void {
  route.get('/settings', async (_req, res) => {
    res.json(credential.view());
  });
  route.put('/settings/tracker-credential', async (req, res) => {
    await credential.set(parse(SetTrackerCredentialRequestSchema, req.body).secret);
    res.json(credential.view());
  });
  route.delete('/settings/tracker-credential', async (_req, res) => {
    await credential.clear();
    res.json(credential.view());
  });
}
