import { MODES, type Mode } from '@exalate/contract';
import ipaddr from 'ipaddr.js';
import type { AddressPolicy } from './net/address-policy.js';
import { ConfigError } from './errors.js';
import { TRACKER_KINDS, type TrackerConfig } from './trackers.js';

/** One node: the Exalate side of one tracker installation. */
/** How the node verifies the Azure DevOps hub's app tokens (see admin/ado-app-token.ts). */
export interface AdoExtensionAuth {
  /** The extension's key (Marketplace → Manage → the extension → Certificate): the HS256 secret of its app tokens. */
  secret: string;
  /** The `aud` of the extension's app tokens: the extension's id (a GUID) as Azure DevOps issues them. */
  audience: string;
}

export interface NodeConfig {
  /** Path segment of the node URL: {publicUrl}/nodes/{id}. */
  id: string;
  /** The tracker this node syncs, and the credentials it acts with; the node type follows from it. */
  tracker: TrackerConfig;
  /** A private node: unreachable from outside, so it initiates all traffic itself and has no node URL. */
  private: boolean;
  modes: Mode[];
  /** Bearer token for the admin API. */
  adminToken: string;
  /** Azure DevOps only: admit the Exalate hub by its app token (see admin/ado-app-token.ts). */
  adoExtension?: AdoExtensionAuth;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** Base URL other nodes use to reach this server (a proxy or load balancer in front of it). Null: http://{host}:{port}. */
  publicUrl: string | null;
  /**
   * Seals secrets admins enter in a frontend: 32 bytes in base64 (EXALATE_SECRET_KEY). Absent: a key
   * file `{dataDir}/secret.key` made at first start (or, in memory, a key per process).
   */
  secretKey?: string | null;
  /** PGlite data lives under {dataDir}/{nodeId}. Ignored with `databaseUrl`. Null: in memory. */
  dataDir: string | null;
  /** A PostgreSQL server; each node gets its own schema `{schemaPrefix}{nodeId}`. */
  databaseUrl: string | null;
  schemaPrefix: string;
  addressPolicy: AddressPolicy;
  invitationTtlMs: number;
  /** How often a private node looks for acceptances and restarts a failed poll. */
  pollIntervalMs: number;
  /** How long a public node holds a private partner's poll open when it has nothing to deliver. */
  longPollMs: number;
  /** Timeout for one call to another node. */
  peerTimeoutMs: number;
  /** How often the incremental query runs when the tracker sends no webhooks (with webhooks: every minute, as a safety net). */
  scanIntervalMs: number;
  /** How often recently synced items are re-read where comment edits go unseen otherwise (see TrackerConnector.sideChanges). */
  refreshIntervalMs: number;
  /** Backoff of a failed item: first delay and upper bound. */
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * How long the partner's events may wait in the inbox before another run takes them up (the
   * process that received them stopped before applying them).
   */
  staleInboxMs: number;
  /**
   * How often a node on the embedded database looks for tables to vacuum and analyze, as a
   * server's autovacuum would (see db/maintenance.ts). Not used with `databaseUrl`.
   */
  maintenanceIntervalMs: number;
  /**
   * The largest attachment synced, in bytes; a larger one stays out of the replica and its item's
   * history says so. At most 25 MB: an attachment moves whole through the node's memory and the
   * peer API.
   */
  maxAttachmentBytes: number;
  nodes: NodeConfig[];
}

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,30}$/;

export function validateNodeConfig(node: NodeConfig): void {
  if (!NODE_ID.test(node.id)) throw new ConfigError(`Node id "${node.id}" must be 1–31 lowercase letters, digits or "-".`);
  if (!TRACKER_KINDS.includes(node.tracker.kind)) throw new ConfigError(`Node ${node.id}: tracker.kind must be one of ${TRACKER_KINDS.join(', ')}.`);
  if (!node.tracker.secret) throw new ConfigError(`Node ${node.id}: the tracker's secret (token or password) is missing.`);
  if (!node.modes.length || node.modes.some((m) => !MODES.includes(m))) throw new ConfigError(`Node ${node.id}: modes must be some of ${MODES.join(', ')}.`);
  if (node.adminToken.length < 16) throw new ConfigError(`Node ${node.id}: the admin token must be at least 16 characters.`);
  if (node.adoExtension) {
    if (node.tracker.kind !== 'azure-devops') throw new ConfigError(`Node ${node.id}: adoExtension is for Azure DevOps nodes only.`);
    if (!node.adoExtension.secret) throw new ConfigError(`Node ${node.id}: adoExtension needs the extension's key (its secret).`);
    if (!node.adoExtension.audience) throw new ConfigError(`Node ${node.id}: adoExtension needs the audience of the extension's app tokens.`);
  }
  try {
    new URL(node.tracker.url);
  } catch {
    throw new ConfigError(`Node ${node.id}: tracker.url "${node.tracker.url}" is not a URL.`);
  }
}

const bool = (v: string | undefined): boolean => v === 'true' || v === '1' || v === 'yes';

/** Server settings from EXALATE_* variables (see README). Nodes are supplied separately. */
export function serverConfigFromEnv(env: NodeJS.ProcessEnv, nodes: NodeConfig[]): ServerConfig {
  const port = Number(env['EXALATE_PORT'] ?? 7070);
  const host = env['EXALATE_HOST'] ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`EXALATE_PORT "${env['EXALATE_PORT']}" is not a port number.`);
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} "${raw}" must be a positive number.`);
    return n;
  };
  nodes.forEach(validateNodeConfig);
  return {
    host,
    port,
    publicUrl: env['EXALATE_PUBLIC_URL'] ? normalizePublicUrl(env['EXALATE_PUBLIC_URL']) : null,
    dataDir: env['EXALATE_DATA_DIR'] ?? '.exalate/data',
    secretKey: env['EXALATE_SECRET_KEY'] || null,
    databaseUrl: env['DATABASE_URL'] || null,
    schemaPrefix: env['EXALATE_DB_SCHEMA_PREFIX'] ?? 'exalate_',
    addressPolicy: {
      allowLoopback: bool(env['EXALATE_PEER_ALLOW_LOOPBACK']),
      allowedCidrs: parseCidrs(env['EXALATE_PEER_ALLOWED_CIDRS'] ?? ''),
    },
    invitationTtlMs: num('EXALATE_INVITATION_TTL_HOURS', 168) * 3_600_000,
    pollIntervalMs: num('EXALATE_POLL_INTERVAL_MS', 2_000),
    longPollMs: num('EXALATE_LONG_POLL_MS', 25_000),
    peerTimeoutMs: num('EXALATE_PEER_TIMEOUT_MS', 10_000),
    scanIntervalMs: num('EXALATE_SCAN_INTERVAL_MS', 2_000),
    refreshIntervalMs: num('EXALATE_REFRESH_INTERVAL_MS', 300_000),
    retryBaseMs: num('EXALATE_RETRY_BASE_MS', 1_000),
    retryMaxMs: num('EXALATE_RETRY_MAX_MS', 300_000),
    staleInboxMs: num('EXALATE_STALE_INBOX_MS', 60_000),
    maintenanceIntervalMs: num('EXALATE_DB_MAINTENANCE_INTERVAL_MS', 60_000),
    maxAttachmentBytes: attachmentLimit(num('EXALATE_MAX_ATTACHMENT_MB', MAX_ATTACHMENT_MB)),
    nodes,
  };
}

/** The peer API carries an attachment whole, base64 in JSON, within its 40 MB body limit. */
export const MAX_ATTACHMENT_MB = 25;

function attachmentLimit(mb: number): number {
  if (mb > MAX_ATTACHMENT_MB) {
    throw new ConfigError(
      `EXALATE_MAX_ATTACHMENT_MB "${mb}" is above ${MAX_ATTACHMENT_MB}: an attachment moves whole through the node's memory and the peer API, which take at most ${MAX_ATTACHMENT_MB} MB. Set ${MAX_ATTACHMENT_MB} or less.`,
    );
  }
  return Math.floor(mb * 1024 * 1024);
}

function parseCidrs(raw: string): string[] {
  const cidrs = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const cidr of cidrs) {
    try {
      ipaddr.parseCIDR(cidr);
    } catch {
      throw new ConfigError(`EXALATE_PEER_ALLOWED_CIDRS: "${cidr}" is not a CIDR range like 10.20.0.0/16.`);
    }
  }
  return cidrs;
}

/**
 * The form node URLs are compared in (an invitation names the node it is for): lower-case host,
 * no default port, no trailing slash; the same form the Initiate wizard gives a typed URL.
 */
export function normalizePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`EXALATE_PUBLIC_URL "${raw}" is not a URL; give the address other nodes reach this server at, like https://exalate.acme.com.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`EXALATE_PUBLIC_URL "${raw}" must start with https://.`);
  if (url.search || url.hash || url.username)
    throw new ConfigError(`EXALATE_PUBLIC_URL "${raw}" must be a plain address, without credentials, query or fragment.`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
