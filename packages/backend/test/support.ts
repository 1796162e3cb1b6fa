import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NodeType } from '@exalate/contract';
import { AdoSimulator, JiraSimulator, ServiceNowSimulator } from '@exalate/simulators';
import pg from 'pg';
import {
  createLogger,
  MAX_ATTACHMENT_MB,
  startServer,
  type ExalateServer,
  type Logger,
  type NodeConfig,
  type ServerConfig,
  type TrackerConfig,
} from '../src/index.js';

export type Backend = 'pglite' | 'postgres';

/** The storage backends this run covers: PGlite always, PostgreSQL when the suite has a server. */
export const BACKENDS: Backend[] = process.env['EXALATE_TEST_DATABASE_URL'] ? ['pglite', 'postgres'] : ['pglite'];
if (!process.env['EXALATE_TEST_DATABASE_URL']) {
  console.warn('No PostgreSQL server for this run (EXALATE_TEST_SKIP_POSTGRES=1): only the PGlite half of the suite runs.');
}

export const quietLogger = createLogger({ level: process.env['EXALATE_TEST_LOG_LEVEL'] ?? 'silent' });

/** A logger whose output a test reads back: as text, or line by line as parsed JSON. */
export function capturingLogger(level = 'info'): { logger: Logger; text: () => string; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (chunks.push(String(chunk)), done()) });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger: createLogger({ level, destination }), text, lines };
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Trackers for tests that are about connections rather than items: one simulator of each kind per
 * test file, started on first use. Sync tests start their own (see sync-support.ts).
 */
const shared: Partial<Record<NodeType, Promise<TrackerConfig>>> = {};
export function sharedTracker(type: NodeType): Promise<TrackerConfig> {
  shared[type] ??= (async () => {
    if (type === 'AZURE_DEVOPS') {
      const sim = new AdoSimulator({ seed: { projects: [{ name: 'SUP' }, { name: 'DEV' }] } });
      const running = await sim.listen();
      cleanups.push(() => running.close());
      return { kind: 'azure-devops', url: `${running.url}/${sim.organization}`, secret: 'sync-pat', webhooks: false };
    }
    if (type === 'SERVICENOW') {
      const running = await new ServiceNowSimulator().listen();
      cleanups.push(() => running.close());
      return { kind: 'servicenow', url: running.url, user: 'exalate', secret: 'exalate-password' };
    }
    const cloud = type === 'JIRA_CLOUD';
    const running = await new JiraSimulator({
      seed: {
        flavor: cloud ? 'cloud' : 'datacenter',
        projects: [
          { key: 'SUP', name: 'Support' },
          { key: 'DEV', name: 'Development' },
        ],
      },
    }).listen();
    cleanups.push(() => running.close());
    return cloud
      ? { kind: 'jira-cloud', url: running.url, user: 'sync@acme.example', secret: 'sync-token', webhooks: false }
      : { kind: 'jira-datacenter', url: running.url, secret: 'sync-pat', webhooks: false };
  })();
  return shared[type]!;
}

/** A node on a shared simulator of `nodeType`'s tracker (Jira Cloud by default). */
export async function nodeConfig(id: string, overrides: Partial<NodeConfig> & { nodeType?: NodeType } = {}): Promise<NodeConfig> {
  const { nodeType = 'JIRA_CLOUD', ...rest } = overrides;
  return {
    id,
    tracker: await sharedTracker(nodeType),
    private: false,
    modes: ['BASIC', 'VISUAL', 'SCRIPT'],
    adminToken: `token-${id}-${randomBytes(8).toString('hex')}`,
    ...rest,
  };
}

export interface TestServer {
  server: ExalateServer;
  /** Where the nodes keep their embedded databases (`{dataDir}/{nodeId}`). */
  dataDir: string;
  /** Admin API client for one node: returns status and parsed body. */
  api(nodeId: string): AdminApi;
  url(nodeId: string): string;
  token(nodeId: string): string;
  /** Stops the server (its storage stays) until `restart`. */
  stop(): Promise<void>;
  /** Stops and starts the same nodes on the same port and storage, optionally with other settings. */
  restart(overrides?: Partial<ServerConfig>): Promise<void>;
  close(): Promise<void>;
}

export interface AdminApi {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
  get<T = any>(path: string): Promise<{ status: number; body: T }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
  post<T = any>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
  put<T = any>(path: string, body: unknown): Promise<{ status: number; body: T }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON bodies
  delete<T = any>(path: string): Promise<{ status: number; body: T }>;
}

/**
 * A real server on a free loopback port, with its own storage: a fresh PGlite directory, or
 * fresh schemas on the suite's PostgreSQL server. Tests never share state.
 */
export async function startTestServer(
  backend: Backend,
  nodeConfigs: Array<NodeConfig | Promise<NodeConfig>>,
  overrides: Partial<ServerConfig> = {},
  logger = quietLogger,
): Promise<TestServer> {
  const nodes = await Promise.all(nodeConfigs.map((c) => Promise.resolve(c)));
  const dataDir = mkdtempSync(join(tmpdir(), 'exalate-test-'));
  const schemaPrefix = `t${randomBytes(5).toString('hex')}_`;
  const config: ServerConfig = {
    host: '127.0.0.1',
    port: 0,
    publicUrl: null,
    dataDir,
    databaseUrl: backend === 'postgres' ? process.env['EXALATE_TEST_DATABASE_URL']! : null,
    schemaPrefix,
    addressPolicy: { allowLoopback: true, allowedCidrs: [] },
    invitationTtlMs: 3_600_000,
    pollIntervalMs: 100,
    longPollMs: 1_000,
    peerTimeoutMs: 3_000,
    scanIntervalMs: 200,
    refreshIntervalMs: 1_000,
    retryBaseMs: 100,
    retryMaxMs: 2_000,
    staleInboxMs: 60_000,
    maintenanceIntervalMs: 60_000,
    maxAttachmentBytes: MAX_ATTACHMENT_MB * 1024 * 1024,
    nodes,
    ...overrides,
  };
  let server = await startServer(config, logger);
  let closed = false;
  let stopped = false;
  const t: TestServer = {
    get server() {
      return server;
    },
    dataDir,
    url: (id) => `${server.publicUrl}/nodes/${id}`,
    token: (id) => nodes.find((n) => n.id === id)!.adminToken,
    stop: async () => {
      stopped = true;
      await server.close();
    },
    api: (id) => adminApi(() => `${server.publicUrl}/nodes/${id}/api/v1`, nodes.find((n) => n.id === id)!.adminToken),
    restart: async (changes = {}) => {
      const port = server.port;
      if (!stopped) await server.close();
      server = await startServer({ ...config, ...changes, port }, logger);
      stopped = false;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (!stopped) await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (backend === 'postgres') await dropSchemas(schemaPrefix);
    },
  };
  cleanups.push(t.close);
  return t;
}

export function adminApi(base: () => string, token: string): AdminApi {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base() + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    put: (path, body) => call('PUT', path, body),
    delete: (path) => call('DELETE', path),
  };
}

async function dropSchemas(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env['EXALATE_TEST_DATABASE_URL'] });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like $1`, [`${prefix}%`]);
    for (const r of rows) await client.query(`drop schema ${r.nspname} cascade`);
  } finally {
    await client.end();
  }
}

/** Polls until `check` passes or the time is up; the last failure is rethrown. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
