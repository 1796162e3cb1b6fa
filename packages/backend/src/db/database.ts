import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse as pgliteParse, PGlite, protocol, type Transaction } from '@electric-sql/pglite';
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
 * The embedded server's settings, each measured with the benchmark (README):
 * - A node's statements read recent rows by key, so a small buffer cache serves them: 16 MB. The
 *   default would take 128 MB per node; at 32 MB the larger node peaked at 292–301 MB in the
 *   benchmark (N = 10,000, private), at 16 MB at 275–281 MB, with no more CPU per item.
 * - A prepared statement always runs its generic plan, which PostgreSQL makes again whenever the
 *   statistics of its tables change (see db/maintenance.ts). In the default mode it plans a
 *   statement afresh on every run once the generic plan's estimate looks worse than a custom one,
 *   and with real statistics that cost both nodes together about 1.2 ms of CPU per synced item.
 * - ANALYZE samples 3,000 rows instead of 30,000: the node's statements look rows up by key, and a
 *   bigger sample only needs more memory, which the WebAssembly heap keeps once it has grown.
 * - For the same reason VACUUM keeps the rows it will remove in 8 MB at most, not 64.
 */
const PGLITE_CONFIG = ['shared_buffers = 16MB', 'plan_cache_mode = force_generic_plan', 'default_statistics_target = 10', 'maintenance_work_mem = 8MB'];

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
  const statements = new PreparedStatements(db);
  // Statements with parameters are the ones the sync runs over and over: prepared once each.
  // The others (schema changes, one-off statements) go through PGlite's own query, or inside a
  // transaction through the transaction's (PGlite's query would wait for the transaction to end).
  const run = async (text: string, params: unknown[] | undefined, tx: Transaction | null) =>
    params && params.length ? statements.run(text, params, tx !== null) : (tx ?? db).query(text, params);
  return {
    kind: 'pglite',
    schema: 'public',
    executeSql: (text, values) =>
      serial(async () => {
        if (values && values.length) return run(text, values, null);
        const results = await db.exec(text);
        return results[results.length - 1] ?? { rows: [] };
      }),
    query: (text, params) => serial(async () => (await run(text, params, null)).rows as never),
    transaction: (fn) => serial(() => db.transaction(async (tx) => fn({ query: async (text, params) => (await run(text, params, tx)).rows as never }))),
    close: () => serial(() => db.close()),
  };
}

/**
 * Named prepared statements on PGlite, through its public protocol API. PGlite's `query` parses,
 * plans and describes a statement each time it runs, in six calls into the WebAssembly backend;
 * the sync runs the same few dozen statements for every item, and that was most of a node's CPU.
 * Here a statement is parsed once per session, and each run is one call: bind, describe, execute
 * and sync in one message (and each run uses the statement's generic plan, see PGLITE_CONFIG, so
 * planning stops too). Callers serialize access (see `serial`), which PGlite's own mutexes would
 * otherwise do.
 */
export class PreparedStatements {
  /** By SQL text; the Map's order is the order of last use, so the first entry is the one to evict. */
  private readonly prepared = new Map<string, { name: string; paramTypes: number[] }>();
  /** Evicted statements, closed with the next message. */
  private closing: string[] = [];
  private nextName = 0;

  constructor(
    private readonly db: PGlite,
    private readonly max = 300,
  ) {}

  async run(text: string, params: unknown[], inTransaction: boolean, retried = false): Promise<{ rows: unknown[] }> {
    const statement = await this.prepare(text, inTransaction);
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      // PGlite's own serializers by parameter type, as its `query` uses them.
      const serialize = this.db.serializers[statement.paramTypes[i]!];
      return serialize ? serialize(param) : String(param);
    });
    const message = concat([
      ...this.closing.splice(0).map((name) => protocol.serialize.close({ type: 'S', name })),
      protocol.serialize.bind({ statement: statement.name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    ]);
    try {
      const { messages } = await this.db.execProtocol(message, { syncToFs: !inTransaction });
      return pgliteParse.parseResults(messages, this.db.parsers)[0] ?? { rows: [] };
    } catch (error) {
      // "cached plan must not change result type": a table the statement reads changed since it
      // was prepared. Prepared afresh; run again at once unless a transaction is now aborted.
      if ((error as { code?: string }).code !== '0A000' || retried) throw error;
      this.forget(text);
      if (inTransaction) throw error;
      return this.run(text, params, inTransaction, true);
    }
  }

  private async prepare(text: string, inTransaction: boolean): Promise<{ name: string; paramTypes: number[] }> {
    const known = this.prepared.get(text);
    if (known) {
      this.prepared.delete(text);
      this.prepared.set(text, known);
      return known;
    }
    const name = `exalate_${this.nextName++}`;
    const { messages } = await this.db.execProtocol(
      concat([protocol.serialize.parse({ name, text }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()]),
      { syncToFs: !inTransaction },
    );
    const statement = { name, paramTypes: pgliteParse.parseDescribeStatementResults(messages) };
    this.prepared.set(text, statement);
    if (this.prepared.size > this.max) this.forget(this.prepared.keys().next().value!);
    return statement;
  }

  private forget(text: string): void {
    const statement = this.prepared.get(text);
    if (!statement) return;
    this.prepared.delete(text);
    this.closing.push(statement.name);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
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
