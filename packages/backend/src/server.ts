import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ServerConfig } from './config.js';
import { AppError } from './errors.js';
import { tooLarge } from './http/bodies.js';
import type { Logger } from './logger.js';
import { ExalateNode } from './node.js';
import { loadSecretKey, SecretBox } from './secrets/secret-box.js';
import { createRuleRunner } from './sync/rule-runner.js';
import type { ScriptRunner } from '@exalate/scripting';

/** How long the node keeps an idle connection open (announced as `Keep-Alive: timeout=65`). */
export const KEEP_ALIVE_MS = 65_000;

export interface ExalateServer {
  port: number;
  publicUrl: string;
  nodes: Map<string, ExalateNode>;
  /** The rule threads the nodes share. */
  runner: ScriptRunner;
  close(): Promise<void>;
}

/**
 * Binds the port first (so port 0 works and node URLs carry the real port), opens every node
 * with its own storage, then serves all of them under /nodes/{id}.
 */
export async function startServer(config: ServerConfig, logger: Logger): Promise<ExalateServer> {
  let handler: RequestListener = (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'The node is starting; try again in a moment.' } }));
  };
  const http = createHttpServer((req, res) => handler(req, res));
  // Node closes an idle kept-alive connection after 5 s, sooner than the clients and proxies in
  // front of a node keep theirs (undici, browsers, a load balancer's 60 s): a client that sends on
  // a connection in the moment the node closes it gets ECONNRESET, and a POST is not retried. The
  // node keeps idle connections longer than they do, so the client is the one that closes.
  http.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const publicUrl = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const nodes: ExalateNode[] = [];
  // One set of rule threads for the process: its nodes' rules share them.
  const runner = await createRuleRunner(logger);
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  try {
    // One key for the server's nodes, read (or made) once.
    const secrets = new SecretBox(loadSecretKey({ secretKey: config.secretKey, keyFile: config.dataDir === null ? null : join(config.dataDir, 'secret.key') }));
    for (const nodeConfig of config.nodes) nodes.push(await ExalateNode.open(nodeConfig, { ...config, publicUrl }, logger, secrets, runner));
  } catch (error) {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await closeHttp();
    await runner.close();
    throw error;
  }
  handler = buildApp(nodes, logger);
  nodes.forEach((n) => n.start());
  logger.info({ port, publicUrl, nodes: nodes.map((n) => n.id) }, 'exalate server listening');
  return {
    port,
    publicUrl,
    nodes: new Map(nodes.map((n) => [n.id, n])),
    runner,
    close: async () => {
      // Stop background work and held polls, stop taking requests, then close the databases.
      await Promise.all(nodes.map((n) => n.stop()));
      await closeHttp();
      await Promise.all(nodes.map((n) => n.close()));
      await runner.close();
    },
  };
}

export function buildApp(nodes: ExalateNode[], logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/', (_req, res) => {
    res.json({
      product: 'exalate',
      nodes: nodes.map((n) => ({ id: n.id, nodeType: n.nodeInfo.nodeType, nodeUrl: n.nodeUrl, private: n.nodeInfo.pollOnly, api: `/nodes/${n.id}/api/v1` })),
    });
  });
  for (const node of nodes) app.use(`/nodes/${node.id}`, node.router);

  app.use((_req, _res, next) => next(new AppError('NOT_FOUND', 'There is no such endpoint. The API reference is docs/api/openapi.yaml.')));
  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Refused before its body was read (or read to its end): the connection ends with the answer,
    // rather than Node reading the rest of an announced body to keep it open.
    if (!req.complete) res.setHeader('connection', 'close');
    if (error instanceof AppError) {
      res.status(error.status).json(error.toBody());
      return;
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json(new AppError('VALIDATION_FAILED', 'The request body is not valid JSON.').toBody());
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json(tooLarge((error as { limit?: number }).limit).toBody());
      return;
    }
    // body-parser's other refusals (an encoding it does not know, a body cut short or of another
    // length than announced): the request's fault, said as such.
    const status = (error as { status?: number }).status;
    if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
      res
        .status(400)
        .json(
          new AppError(
            'VALIDATION_FAILED',
            `The request body could not be read (${(error as Error).message}). Send it again, as JSON, without a Content-Encoding.`,
          ).toBody(),
        );
      return;
    }
    const reference = randomUUID();
    logger.error({ err: error, reference, method: req.method, path: req.path }, 'request failed');
    res
      .status(500)
      .json({ error: { code: 'INTERNAL', message: `Something went wrong on this node (reference ${reference}); the details are in the node's log.` } });
  });
  return app;
}
