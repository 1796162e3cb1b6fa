import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** What the rest of the backend needs from PostgreSQL. One SQL dialect, two drivers. */
export interface Sql {
  query<T extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** The schema this node's tables live in; the job queue gets `{schema}_queue` beside it. */
  readonly schema: string;
  /**
   * Raw access for the job queue (pg-boss): without parameters the text may hold several
   * statements, and the answer is the last one's.
   */
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The embedded server's settings: a node's database is small, so a modest buffer cache keeps the
 * process small (the default would take 128 MB per node).
 */
const PGLITE_CONFIG = ['shared_buffers = 32MB'];

/**
 * Creating a PGlite cluster (initdb) takes some 500 MB that the process never gives back; a
 * short-lived child process does it instead, and the node only opens the finished cluster.
 */
async function initPgliteDataDir(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const entry = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const script = `const { PGlite } = await import(process.argv[1]); const db = await PGlite.create(process.argv[2]); await db.close();`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, entry, dataDir]);
}

/** Embedded PostgreSQL (PGlite) kept under `dataDir`; nothing to install. `dataDir` null keeps it in memory. */
export async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    await initPgliteDataDir(dataDir);
  }
  const db = await PGlite.create(dataDir ?? undefined, { postgresqlconf: PGLITE_CONFIG });
  // PGlite is a single connection: transactions must not interleave with other queries,
  // so every query and transaction goes through one promise chain.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    kind: 'pglite',
    schema: 'public',
    executeSql: (text, values) =>
      serial(async () => {
        if (values && values.length) return db.query(text, values);
        const results = await db.exec(text);
        return results[results.length - 1] ?? { rows: [] };
      }),
    query: (text, params) => serial(async () => (await db.query(text, params)).rows as never),
    transaction: (fn) =>
      serial(() => db.transaction(async (tx) => fn({ query: async (text, params) => (await tx.query(text, params)).rows as never }))),
    close: () => serial(() => db.close()),
  };
}

/**
 * A real PostgreSQL server. Each node lives in its own schema of the database, so several nodes
 * (and every test) share a server without sharing state.
 */
export async function openPostgres(connectionString: string, schema: string): Promise<Database> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid schema name "${schema}"`);
  const bootstrap = new pg.Client({ connectionString });
  await bootstrap.connect();
  try {
    await bootstrap.query(`create schema if not exists ${schema}`);
  } finally {
    await bootstrap.end();
  }
  const pool = new pg.Pool({ connectionString, options: `-c search_path=${schema}`, max: 10 });
  return {
    kind: 'postgres',
    schema,
    executeSql: async (text, values) => {
      const result = (await pool.query(text, values)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? (result[result.length - 1] ?? { rows: [] }) : result;
    },
    query: async (text, params) => (await pool.query(text, params)).rows,
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn({ query: async (text, params) => (await client.query(text, params)).rows });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
