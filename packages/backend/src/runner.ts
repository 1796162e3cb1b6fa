import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { z } from 'zod';
import { MODES } from '@exalate/contract';
import { serverConfigFromEnv, type NodeConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { startSandboxTrackers } from './sandbox-trackers.js';
import { startServer, type ExalateServer } from './server.js';
import { NODE_TYPE_OF, TRACKER_KINDS } from './trackers.js';

const NodesFileSchema = z.array(
  z.object({
    id: z.string(),
    tracker: z.object({
      kind: z.enum(TRACKER_KINDS),
      url: z.string(),
      user: z.string().optional(),
      /** The name of the environment variable holding the tracker token or password. */
      secretEnv: z.string(),
      tables: z.array(z.string()).optional(),
      labelsField: z.string().optional(),
      webhooks: z.boolean().optional(),
    }),
    private: z.boolean().default(false),
    modes: z.array(z.enum(MODES)).default([...MODES]),
    /** The name of the environment variable holding the admin token: tokens stay out of files. */
    adminTokenEnv: z.string(),
    /** Azure DevOps: admit the Exalate hub. The extension key comes from the environment too. */
    adoExtension: z.object({ secretEnv: z.string(), audience: z.string() }).optional(),
  }),
);

/** Nodes from EXALATE_NODES_FILE (see README), with their admin tokens from the environment. */
export function nodesFromFile(path: string, env: NodeJS.ProcessEnv): NodeConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`EXALATE_NODES_FILE ${path} could not be read as JSON: ${(error as Error).message}`);
  }
  const parsed = NodesFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`EXALATE_NODES_FILE ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data.map(({ adminTokenEnv, adoExtension, tracker: { secretEnv, ...tracker }, ...node }) => {
    const token = env[adminTokenEnv];
    if (!token) throw new ConfigError(`Node ${node.id}: the environment variable ${adminTokenEnv} (its admin token) is not set.`);
    const secret = env[secretEnv];
    if (!secret) throw new ConfigError(`Node ${node.id}: the environment variable ${secretEnv} (the tracker's token or password) is not set.`);
    const config: NodeConfig = { ...node, tracker: { ...tracker, secret }, adminToken: token };
    if (adoExtension) {
      const key = env[adoExtension.secretEnv];
      if (!key) throw new ConfigError(`Node ${node.id}: the environment variable ${adoExtension.secretEnv} (the Azure DevOps extension's key) is not set.`);
      config.adoExtension = { secret: key, audience: adoExtension.audience };
    }
    return config;
  });
}

/** The id Azure DevOps gives the sandbox's extension: the audience of its app tokens. */
const SANDBOX_EXTENSION_APP_ID = '8a3c5e7f-1b2d-4e6f-9a0b-c1d2e3f4a5b6';

/** Sandbox admin tokens are made once and kept with the sandbox's data, so they survive restarts. */
function sandboxTokens(dataDir: string): Record<string, string> {
  const file = join(dataDir, 'sandbox-tokens.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  // A sandbox from before a secret existed (the hub's extension key) gets the missing one added.
  const missing = ['jira', 'ado', 'snow', 'jiradc', 'adoExtension'].filter((id) => !kept[id]);
  if (!missing.length) return kept;
  const tokens = { ...kept, ...Object.fromEntries(missing.map((id) => [id, randomBytes(24).toString('base64url')])) };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
  return tokens;
}

/**
 * Two V8 settings that keep a node process small, each measured with the benchmark (README):
 * - The old generation grows by a factor of 1.3 instead of up to 4: a sync allocates many
 *   short-lived replicas and HTTP bodies, and the heap reached 150–210 MB for some 55 MB of live
 *   data. Unlike `--max-old-space-size` this caps nothing, so an unusual load cannot crash the node.
 * - WebAssembly (the embedded PostgreSQL, the script sandbox) stays on V8's baseline compiler.
 *   Optimizing PGlite's hot functions in the background took up to 100 MB of compiler memory at
 *   the busiest moment, which the allocator kept, and saved under 10% of the node's CPU.
 * An admin's own flag for either on the node command line wins (Node refuses both in
 * NODE_OPTIONS). V8 reads them when it next sizes the heap or compiles a module, so this must run
 * before the database opens.
 */
export function tuneV8ForServer(execArgv: readonly string[] = process.execArgv): void {
  const given = execArgv.map((arg) => arg.replace(/_/g, '-'));
  if (!given.some((arg) => arg.startsWith('--heap-growing-percent'))) setFlagsFromString('--heap-growing-percent=30');
  if (!given.some((arg) => /^--(no-)?(liftoff|wasm-tier-up|wasm-dynamic-tiering)/.test(arg))) setFlagsFromString('--liftoff-only');
}

/** What `npm start` runs: the sandbox, or the nodes of EXALATE_NODES_FILE. */
export async function runFromEnv(env: NodeJS.ProcessEnv, logger: Logger, out: (line: string) => void): Promise<ExalateServer> {
  tuneV8ForServer();
  const sandbox = !env['EXALATE_NODES_FILE'];
  const effective = { ...env };
  // The sandbox's nodes talk to each other on this machine, so loopback must be allowed there.
  if (sandbox && effective['EXALATE_PEER_ALLOW_LOOPBACK'] === undefined) effective['EXALATE_PEER_ALLOW_LOOPBACK'] = 'true';
  const base = serverConfigFromEnv(effective, []);
  const dataDir = resolve(base.dataDir ?? '.exalate/data');
  if (!sandbox) return startServer(serverConfigFromEnv(effective, nodesFromFile(env['EXALATE_NODES_FILE']!, env)), logger);
  // The sandbox: a simulator of each tracker, with demo data, and a node for each.
  const trackers = await startSandboxTrackers(join(dataDir, 'trackers'), base.port === 0 ? 0 : base.port + 1, logger);
  const tokens = sandboxTokens(dataDir);
  const nodes: NodeConfig[] = [
    { id: 'jira', tracker: trackers.jira, private: false, modes: [...MODES], adminToken: tokens['jira']! },
    {
      id: 'ado',
      tracker: trackers.ado,
      private: false,
      modes: [...MODES],
      adminToken: tokens['ado']!,
      // The sandbox's Azure DevOps has the Exalate hub installed with this key (see installAdoHub).
      adoExtension: { secret: tokens['adoExtension']!, audience: SANDBOX_EXTENSION_APP_ID },
    },
    { id: 'snow', tracker: trackers.snow, private: true, modes: [...MODES], adminToken: tokens['snow']! },
    // A Jira Data Center whose admins use the Exalate app in Jira (paired below).
    { id: 'jiradc', tracker: trackers.jiradc, private: false, modes: [...MODES], adminToken: tokens['jiradc']! },
  ];
  let server: ExalateServer;
  try {
    server = await startServer(serverConfigFromEnv(effective, nodes), logger);
  } catch (error) {
    await trackers.close();
    throw error;
  }
  await trackers.seedDemoData();
  const hubPage = trackers.installAdoHub({ secret: tokens['adoExtension']!, appId: SANDBOX_EXTENSION_APP_ID, nodeUrl: `${server.publicUrl}/nodes/ado` });
  const jiraPage = await trackers.installJiraApp({ nodeUrl: `${server.publicUrl}/nodes/jiradc`, adminToken: tokens['jiradc']! });
  const serviceNowPage = await trackers.installServiceNowApp({ nodeUrl: `${server.publicUrl}/nodes/snow`, adminToken: tokens['snow']! });
  {
    const envFile = join(dataDir, 'sandbox.env');
    const lines = nodes.flatMap((n) => [
      `export ${n.id.toUpperCase()}=${server.publicUrl}/nodes/${n.id}`,
      `export ${n.id.toUpperCase()}_TOKEN=${n.adminToken}`,
    ]);
    writeFileSync(envFile, lines.join('\n') + '\n', { mode: 0o600 });
    out('');
    out(
      `Exalate sandbox is running on ${server.publicUrl} (${server.nodes.size} nodes, ${base.databaseUrl ? 'PostgreSQL' : `embedded PostgreSQL under ${dataDir}`}).`,
    );
    for (const n of nodes)
      out(
        `  ${n.id.padEnd(6)} ${NODE_TYPE_OF[n.tracker.kind].padEnd(13)} ${n.private ? 'private (no node URL; it polls)' : `${server.publicUrl}/nodes/${n.id}`}   tracker: ${n.tracker.url}`,
      );
    out('');
    out(`Node URLs and admin tokens are in ${envFile}. In another terminal:`);
    out(`  source ${envFile}`);
    out('  curl -s -H "Authorization: Bearer $JIRA_TOKEN" $JIRA/api/v1/connections');
    if (hubPage) out(`The Exalate hub in Azure DevOps Organization settings: ${hubPage}`);
    if (jiraPage) out(`The Exalate app in Jira Data Center (Settings → Apps → Exalate; sign in as alice / alice-password): ${jiraPage}`);
    if (serviceNowPage) out(`The Exalate application in ServiceNow (All → Exalate; sign in as admin / admin-password): ${serviceNowPage}`);
    out('The README walks through connecting two nodes and watching an item sync. Ctrl+C stops the sandbox.');
  }
  return {
    ...server,
    close: async () => {
      await server.close();
      await trackers.close();
    },
  };
}
