#!/usr/bin/env node
// `npm start`: the local sandbox (four nodes on the embedded database), or the nodes of
// EXALATE_NODES_FILE. The logic lives in packages/backend; this only wires the process.
import { ConfigError, createLogger, runFromEnv } from '../packages/backend/dist/index.js';

const logger = createLogger();
try {
  const server = await runFromEnv(process.env, logger, (line) => console.log(line));
  const stop = async (signal) => {
    logger.info({ signal }, 'stopping');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(2);
  }
  if (error?.code === 'EADDRINUSE') {
    console.error(`Port ${error.port} is already in use. Stop what uses it, or choose another with EXALATE_PORT.`);
    process.exit(2);
  }
  throw error;
}
