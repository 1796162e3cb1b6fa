/**
 * What every sync stage shares: the node's options (its tracker's connector, the rule runner, the
 * partner client), the sync's repository, the scheduler, the echo guard, the limits, and the
 * lookups each job makes first: the connection as it is now, and its rules (kept a second).
 *
 * The stages hold this object, never each other's `this`: one asks another for work by job name
 * through `schedule`, so no stage imports another in a circle.
 */
import { ConnectorError, type TrackerConnector } from '@exalate/connectors';
import type { NodeType, TrackerField } from '@exalate/contract';
import { defaultRules, type ScriptHost, type ScriptRunner, type SyncRules } from '@exalate/scripting';
import type { BackoffBounds } from '../backoff.js';
import { MAX_ATTACHMENT_MB } from '../config.js';
import type { ConnectionRepository, ConnectionRow } from '../connections/repository.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { PeerClient, SigningIdentity } from '../peer/client.js';
import type { EchoGuard } from './echo-guard.js';
import { SyncRepository } from './repository.js';
import { ruleCalls } from './rule-calls.js';
import { Scheduler } from './scheduler.js';
import { TrackerTexts } from './texts.js';

/** The largest attachment synced unless the node's settings say less (`maxAttachmentBytes`). */
export const MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_MB * 1024 * 1024;

export interface SyncEngineOptions {
  db: Database;
  connections: ConnectionRepository;
  connector: TrackerConnector;
  runner: ScriptRunner;
  peers: PeerClient;
  identity: (row: ConnectionRow) => SigningIdentity;
  /** This node is private: it pushes its attachments' bytes ahead of the events. */
  isPrivate: boolean;
  /** Wakes a private partner's held poll: there is something for it. */
  notifyPartner: (connectionId: string) => void;
  /** The partner answered that it deleted the connection: this side stops syncing it and says why. */
  partnerDeleted: (row: ConnectionRow) => Promise<void>;
  logger: Logger;
  /** Backoff bounds; tests shorten them. */
  retry?: BackoffBounds;
  /** Inbox events older than this that no run has applied are queued again (default a minute). */
  staleInboxMs?: number;
  /** The largest attachment synced (default and most MAX_ATTACHMENT_BYTES); a larger one is left out of the replica. */
  maxAttachmentBytes?: number;
}

/** Rules are read by every job but change rarely: kept this long (another process's change is seen within it). */
const RULES_KEPT_MS = 1_000;
/** Item types change rarely; asking the tracker on every run would double the API calls. */
const ITEM_TYPES_KEPT_MS = 5 * 60_000;

export class SyncContext {
  readonly repo: SyncRepository;
  readonly connector: TrackerConnector;
  readonly logger: Logger;
  readonly texts: TrackerTexts;
  readonly retry: BackoffBounds;
  readonly maxAttachmentBytes: number;
  readonly staleInboxMs: number;
  private readonly rules = new Map<string, { at: number; value: SyncRules }>();
  private rulesGeneration = 0;
  private readonly itemTypes = new Map<string, { at: number; types: string[]; statuses: string[] }>();
  private priorities: { until: number; names: string[] } | null = null;
  private readonly fields = new Map<string, { until: number; fields: TrackerField[] }>();

  /** How the stages ask for each other: now, in this process, or later, as a queued job. */
  readonly schedule: Scheduler;

  constructor(
    readonly o: SyncEngineOptions,
    /** This process's own writes, told apart from anyone else's changes. */
    readonly guard: EchoGuard,
  ) {
    this.repo = new SyncRepository(o.db);
    this.connector = o.connector;
    this.logger = o.logger;
    this.texts = new TrackerTexts(o.runner, o.connector.trackerType, o.connector.textFormat);
    this.retry = o.retry ?? { baseMs: 1_000, maxMs: 5 * 60_000 };
    this.schedule = new Scheduler(o.logger, this.retry);
    this.maxAttachmentBytes = Math.min(o.maxAttachmentBytes ?? MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES);
    this.staleInboxMs = o.staleInboxMs ?? 60_000;
  }

  get platform(): NodeType {
    return this.connector.trackerType;
  }

  /**
   * The connection as it is now. Never a copy kept here: a job must see a deactivation (or an
   * activation) the moment it happens. (On the embedded database the repository answers from
   * memory, which every write drops.)
   */
  liveConnection(id: string): Promise<ConnectionRow | null> {
    return this.o.connections.findLive(id);
  }

  /**
   * Connections whose items sync (Active) or keep their state (Deactivated). Not a copy kept here:
   * a list even a second old misses a connection that just became Active.
   */
  async syncingConnections(): Promise<ConnectionRow[]> {
    return (await this.o.connections.list()).filter((r) => (r.status === 'ACTIVE' || r.status === 'DEACTIVATED') && r.connection_key);
  }

  /** The rules in force: the platform's defaults for a Basic connection, else what is saved (defaults where nothing is). */
  async rulesFor(row: Pick<ConnectionRow, 'id' | 'mode'>): Promise<SyncRules> {
    const defaults = defaultRules(this.platform);
    if (row.mode === 'BASIC') return defaults;
    const hit = this.rules.get(row.id);
    if (hit && Date.now() - hit.at < RULES_KEPT_MS) return hit.value;
    const generation = this.rulesGeneration;
    const saved = await this.repo.rules(row.id);
    const value = { outgoing: saved?.outgoing ?? defaults.outgoing, incoming: saved?.incoming ?? defaults.incoming };
    // Read before an invalidation and answered after it: stale, so not kept.
    if (generation === this.rulesGeneration) this.rules.set(row.id, { at: Date.now(), value });
    return value;
  }

  /** Forget the rules kept (this process changed them). */
  invalidate(): void {
    this.rulesGeneration += 1;
    this.rules.clear();
  }

  /** What a rule run for the connection may know of the tracker, and ask of the node while it runs. */
  async host(project: string, connectionId: string): Promise<ScriptHost> {
    const [{ types, statuses }, priorities, fields] = await Promise.all([this.itemTypesOf(project), this.prioritiesOf(), this.fieldsOf(project)]);
    return {
      platform: this.platform,
      itemTypes: types,
      statuses,
      priorities,
      trackerUrl: this.connector.trackerUrl,
      fields,
      calls: ruleCalls(this.repo, this.connector, connectionId, async (other) => (await this.itemTypesOf(other)).types),
    };
  }

  /** The partner takes deliveries (public, not poll-only); else it polls this node. */
  partnerReachable(row: ConnectionRow): boolean {
    return Boolean(row.partner_node_url) && !row.partner_poll_only;
  }

  /** Something is in the connection's outbox: deliver it now, or wake the private partner's held poll. */
  outboxChanged(row: ConnectionRow): void {
    if (this.partnerReachable(row)) this.schedule.now('deliver', { connectionId: row.id });
    else this.o.notifyPartner(row.id);
  }

  /**
   * The tracker's priorities, kept as long as the item types. Only `nodeHelper.getPriority` needs
   * them: a tracker that will not list them (a permission, an outage) fails no sync; the helper
   * then finds none, and they are asked for again a minute later.
   */
  private async prioritiesOf(): Promise<string[]> {
    if (this.priorities && Date.now() < this.priorities.until) return this.priorities.names;
    try {
      const names = await this.connector.listPriorities();
      this.priorities = { until: Date.now() + ITEM_TYPES_KEPT_MS, names };
    } catch (error) {
      this.logger.warn({ err: error }, 'could not list the tracker’s priorities; nodeHelper.getPriority finds none for a minute');
      this.priorities = { until: Date.now() + 60_000, names: [] };
    }
    return this.priorities.names;
  }

  /**
   * The fields an item of the project keeps in `customFields`, for custom fields by display name
   * in rules; kept as long as the item types. They shape what a rule sees, so a tracker that does
   * not answer fails the run (it is tried again); one that refuses the list to these credentials
   * (ServiceNow's dictionary may need a role the integration user lacks) gives rules the fields
   * by id only, and is asked again a minute later.
   */
  private async fieldsOf(project: string): Promise<TrackerField[]> {
    const cached = this.fields.get(project);
    if (cached && Date.now() < cached.until) return cached.fields;
    try {
      const fields = await this.connector.listFields(project);
      this.fields.set(project, { until: Date.now() + ITEM_TYPES_KEPT_MS, fields });
      return fields;
    } catch (error) {
      if (!(error instanceof ConnectorError && error.code === 'FORBIDDEN')) throw error;
      this.logger.warn({ err: error, project }, 'the tracker refuses to list its fields; rules see custom fields by id only for a minute');
      this.fields.set(project, { until: Date.now() + 60_000, fields: [] });
      return [];
    }
  }

  /** The project's item types, and the statuses of their workflows (each once). */
  private async itemTypesOf(project: string): Promise<{ types: string[]; statuses: string[] }> {
    const cached = this.itemTypes.get(project);
    if (cached && Date.now() - cached.at < ITEM_TYPES_KEPT_MS) return cached;
    const listed = await this.connector.listItemTypes(project);
    const known = { at: Date.now(), types: listed.map((t) => t.name), statuses: [...new Set(listed.flatMap((t) => t.statuses))] };
    this.itemTypes.set(project, known);
    return known;
  }
}
