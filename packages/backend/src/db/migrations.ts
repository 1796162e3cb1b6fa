import { Umzug, type UmzugStorage } from 'umzug';
import type { Database, Sql } from './database.js';

interface Migration {
  name: string;
  up: (sql: Sql) => Promise<void>;
}

/** Append-only. Never edit a released migration; add a new one. */
const MIGRATIONS: Migration[] = [
  {
    name: '0001_connections',
    up: async (sql) => {
      await sql.query(`
        create table node_identity (
          singleton boolean primary key default true check (singleton),
          instance_id uuid not null,
          created_at timestamptz not null default now()
        )`);
      await sql.query(`
        create table connections (
          id uuid primary key,
          name text not null,
          description text not null default '',
          mode text not null check (mode in ('BASIC','VISUAL','SCRIPT')),
          role text not null check (role in ('INITIATOR','ACCEPTOR')),
          status text not null check (status in ('PENDING','ACTIVE','DEACTIVATED','ERROR')),
          pending_step text check (pending_step in ('AWAITING_ACCEPTANCE','AWAITING_INITIATOR')),
          status_reason text,
          local_short_name text not null,
          remote_short_name text not null,
          project text not null,
          partner_instance_id uuid,
          partner_node_type text,
          partner_node_url text,
          partner_tracker_url text,
          partner_poll_only boolean,
          protocol_version integer,
          destination_url text,
          -- Initiator: the invitation body (holds the invitation secret) while it can be accepted.
          -- Acceptor of a private initiator: the secret and nonce until the initiator collects them.
          -- Nulled once the partner has proven the connection key: the invitation secret is then dead.
          handshake jsonb,
          invitation_expires_at timestamptz,
          invitation_used_at timestamptz,
          invitation_revoked_at timestamptz,
          connection_key text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          activated_at timestamptz,
          deleted_at timestamptz
        )`);
      await sql.query(`create unique index connections_live_name on connections (lower(name)) where deleted_at is null`);
      await sql.query(`
        create table peer_replay_guard (
          jti text primary key,
          expires_at timestamptz not null
        )`);
      await sql.query(`create index peer_replay_guard_expiry on peer_replay_guard (expires_at)`);
    },
  },
];

function storageFor(sql: Sql): UmzugStorage<Sql> {
  return {
    async executed() {
      await sql.query(`create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
      const rows = await sql.query<{ name: string }>(`select name from schema_migrations order by name`);
      return rows.map((r) => r.name);
    },
    async logMigration({ name }) {
      await sql.query(`insert into schema_migrations (name) values ($1)`, [name]);
    },
    async unlogMigration({ name }) {
      await sql.query(`delete from schema_migrations where name = $1`, [name]);
    },
  };
}

/**
 * Brings the schema up to date in one transaction. The advisory lock makes concurrent starts of
 * several backend processes on one PostgreSQL server wait for each other instead of racing.
 */
export async function migrate(db: Database): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext(current_schema() || ':exalate-migrations'))`);
    const umzug = new Umzug<Sql>({
      migrations: MIGRATIONS.map((m) => ({ name: m.name, up: ({ context }) => m.up(context) })),
      context: tx,
      storage: storageFor(tx),
      logger: undefined,
    });
    const applied = await umzug.up();
    return applied.map((m) => m.name);
  });
}
