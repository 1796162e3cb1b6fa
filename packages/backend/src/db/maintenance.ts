import type { Database } from './database.js';

/*
 * What a PostgreSQL server's autovacuum does, for the embedded database, which has none: PGlite
 * runs PostgreSQL as a single-user backend, and the autovacuum launcher never starts there. Without
 * it a node's tables keep every row version an update or a delete left behind (the sync updates a
 * twin, an outbox row and several job rows per item), so they grow with the work done rather than
 * with what is kept, their indexes slow down, and the transaction-ID horizon is never moved on.
 * And their statistics stay those of the empty tables at the node's first start, so a prepared
 * statement's plan can stay the one made for an empty table: ANALYZE gives the planner the real
 * sizes and drops the plans made without them.
 *
 * Tables are chosen the way autovacuum chooses them, with its default settings:
 * https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM
 */

/** When a table is due, as autovacuum's settings say it. */
export interface AutovacuumLimits {
  vacuumThreshold: number;
  vacuumScaleFactor: number;
  insertThreshold: number;
  insertScaleFactor: number;
  analyzeThreshold: number;
  analyzeScaleFactor: number;
  freezeMaxAge: number;
}

export const AUTOVACUUM_DEFAULTS: AutovacuumLimits = {
  /** autovacuum_vacuum_threshold and autovacuum_vacuum_scale_factor: dead rows. */
  vacuumThreshold: 50,
  vacuumScaleFactor: 0.2,
  /** autovacuum_vacuum_insert_threshold and …_insert_scale_factor: rows inserted since the last vacuum. */
  insertThreshold: 1_000,
  insertScaleFactor: 0.2,
  /** autovacuum_analyze_threshold and autovacuum_analyze_scale_factor: rows changed since the last analyze. */
  analyzeThreshold: 50,
  analyzeScaleFactor: 0.1,
  /** autovacuum_freeze_max_age: a table this many transactions old is vacuumed whatever else it needs. */
  freezeMaxAge: 200_000_000,
};

/** One table's maintenance: what was done, why, and how long the database was busy with it. */
export interface TableMaintenance {
  table: string;
  vacuumed: boolean;
  analyzed: boolean;
  reasons: string[];
  ms: number;
}

interface TableStats {
  schema: string;
  name: string;
  tuples: number;
  dead: string;
  inserted: string;
  modified: string;
  xid_age: number;
}

/**
 * Vacuums and analyzes the embedded database's tables that need it, one at a time (each one holds
 * the database for a moment: some 0.1–0.4 s for a table of 20,000 twins). On a PostgreSQL server it
 * does nothing: the server's autovacuum does this there.
 */
export async function maintainEmbedded(db: Database, limits: AutovacuumLimits = AUTOVACUUM_DEFAULTS): Promise<TableMaintenance[]> {
  if (db.kind !== 'pglite') return [];
  // Counts of the last second are flushed at most once a second; this takes them in now.
  await db.query('select pg_stat_force_next_flush()');
  const tables = await db.query<TableStats>(
    `select s.schemaname as schema, s.relname as name, greatest(c.reltuples, 0)::float8 as tuples,
       s.n_dead_tup as dead, s.n_ins_since_vacuum as inserted, s.n_mod_since_analyze as modified, age(c.relfrozenxid) as xid_age
     from pg_stat_all_tables s join pg_class c on c.oid = s.relid
     where c.relkind = 'r' and c.relpersistence = 'p' and s.schemaname not in ('pg_toast', 'information_schema')
     order by s.schemaname, s.relname`,
  );
  const done: TableMaintenance[] = [];
  for (const t of tables) {
    const reasons: string[] = [];
    const dead = Number(t.dead);
    const inserted = Number(t.inserted);
    const modified = Number(t.modified);
    if (dead > limits.vacuumThreshold + limits.vacuumScaleFactor * t.tuples) reasons.push(`${dead} dead rows`);
    if (inserted > limits.insertThreshold + limits.insertScaleFactor * t.tuples) reasons.push(`${inserted} rows inserted since the last vacuum`);
    if (Number(t.xid_age) > limits.freezeMaxAge) reasons.push(`oldest transaction ID ${t.xid_age} transactions old`);
    const vacuum = reasons.length > 0;
    const analyze = modified > limits.analyzeThreshold + limits.analyzeScaleFactor * t.tuples;
    if (analyze) reasons.push(`${modified} rows changed since the last analyze`);
    if (!vacuum && !analyze) continue;
    const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
    const started = Date.now();
    await db.query(vacuum ? `vacuum ${analyze ? '(analyze) ' : ''}${table}` : `analyze ${table}`);
    done.push({ table: `${t.schema}.${t.name}`, vacuumed: vacuum, analyzed: analyze, reasons, ms: Date.now() - started });
  }
  return done;
}

/** An SQL identifier, quoted (the names come from the catalog, but may hold any character). */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
