import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MODES, NODE_TYPES } from '@exalate/contract';
import { ConfigError, serverConfigFromEnv, type NodeConfig } from './config.js';
import type { Logger } from './logger.js';
import { startServer, type ExalateServer } from './server.js';

/**
 * The nodes of the local sandbox: two public nodes and a private one, with demo projects.
 * Their tracker URLs point nowhere yet; the tracker simulators replace them.
 */
function sandboxNodes(tokens: Record<string, string>): NodeConfig[] {
  return [
    { id: 'jira', nodeType: 'JIRA_CLOUD', trackerUrl: 'https://jira.sandbox.local', private: false, modes: [...MODES], projects: [{ key: 'SUP', name: 'Support' }, { key: 'ENG', name: 'Engineering' }], adminToken: tokens['jira']! },
    { id: 'ado', nodeType: 'AZURE_DEVOPS', trackerUrl: 'https://ado.sandbox.local/acme', private: false, modes: [...MODES], projects: [{ key: 'DEV', name: 'Development' }, { key: 'OPS', name: 'Operations' }], adminToken: tokens['ado']! },
    { id: 'snow', nodeType: 'SERVICENOW', trackerUrl: 'https://snow.sandbox.local', private: true, modes: [...MODES], projects: [{ key: 'incident', name: 'Incident' }], adminToken: tokens['snow']! },
  ];
}

const NodesFileSchema = z.array(
  z.object({
    id: z.string(),
    nodeType: z.enum(NODE_TYPES),
    trackerUrl: z.string(),
    private: z.boolean().default(false),
    modes: z.array(z.enum(MODES)).default([...MODES]),
    projects: z.array(z.object({ key: z.string(), name: z.string() })).min(1),
    /** The name of the environment variable holding the admin token: tokens stay out of files. */
    adminTokenEnv: z.string(),
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
  return parsed.data.map(({ adminTokenEnv, ...node }) => {
    const token = env[adminTokenEnv];
    if (!token) throw new ConfigError(`Node ${node.id}: the environment variable ${adminTokenEnv} (its admin token) is not set.`);
    return { ...node, adminToken: token };
  });
}

/** Sandbox admin tokens are made once and kept with the sandbox's data, so they survive restarts. */
function sandboxTokens(dataDir: string): Record<string, string> {
  const file = join(dataDir, 'sandbox-tokens.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const tokens = Object.fromEntries(['jira', 'ado', 'snow'].map((id) => [id, randomBytes(24).toString('base64url')]));
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
  return tokens;
}

/** What `npm start` runs: the sandbox, or the nodes of EXALATE_NODES_FILE. */
export async function runFromEnv(env: NodeJS.ProcessEnv, logger: Logger, out: (line: string) => void): Promise<ExalateServer> {
  const sandbox = !env['EXALATE_NODES_FILE'];
  const effective = { ...env };
  // The sandbox's nodes talk to each other on this machine, so loopback must be allowed there.
  if (sandbox && effective['EXALATE_PEER_ALLOW_LOOPBACK'] === undefined) effective['EXALATE_PEER_ALLOW_LOOPBACK'] = 'true';
  const base = serverConfigFromEnv(effective, []);
  const dataDir = resolve(base.dataDir ?? '.exalate/data');
  const nodes = sandbox ? sandboxNodes(sandboxTokens(dataDir)) : nodesFromFile(env['EXALATE_NODES_FILE']!, env);
  const server = await startServer(serverConfigFromEnv(effective, nodes), logger);
  if (sandbox) {
    const envFile = join(dataDir, 'sandbox.env');
    const lines = nodes.flatMap((n) => [
      `export ${n.id.toUpperCase()}=${server.publicUrl}/nodes/${n.id}`,
      `export ${n.id.toUpperCase()}_TOKEN=${n.adminToken}`,
    ]);
    writeFileSync(envFile, lines.join('\n') + '\n', { mode: 0o600 });
    out('');
    out(`Exalate sandbox is running on ${server.publicUrl} (${server.nodes.size} nodes, ${base.databaseUrl ? 'PostgreSQL' : `embedded PostgreSQL under ${dataDir}`}).`);
    for (const n of nodes) out(`  ${n.id.padEnd(5)} ${n.nodeType.padEnd(13)} ${n.private ? 'private (no node URL; it polls)' : `${server.publicUrl}/nodes/${n.id}`}`);
    out('');
    out(`Node URLs and admin tokens are in ${envFile}. In another terminal:`);
    out(`  source ${envFile}`);
    out('  curl -s -H "Authorization: Bearer $JIRA_TOKEN" $JIRA/api/v1/connections');
    out('The README walks through initiating and accepting a connection with curl. Ctrl+C stops the sandbox.');
  }
  return server;
}
