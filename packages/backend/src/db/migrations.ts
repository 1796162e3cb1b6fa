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
  {
    name: '0002_sync',
    up: async (sql) => {
      // Sync rules per connection; null columns fall back to the platform's default rules.
      await sql.query(`
        create table sync_rules (
          connection_id uuid primary key references connections (id) on delete cascade,
          outgoing text,
          incoming text,
          updated_at timestamptz not null default now()
        )`);
      await sql.query(`
        create table sync_triggers (
          id uuid primary key,
          connection_id uuid not null references connections (id) on delete cascade,
          item_type text,
          query text not null,
          active boolean not null default true,
          -- The incremental scan: last change time seen, and the keys already taken at that instant.
          watermark text,
          seen_at_watermark jsonb not null default '[]',
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`);
      await sql.query(`create index sync_triggers_connection on sync_triggers (connection_id)`);
      // The twin: a local item and the partner's item it is synced with, in one connection.
      await sql.query(`
        create table twins (
          id bigserial primary key,
          connection_id uuid not null references connections (id) on delete cascade,
          local_key text,
          local_project text,
          local_url text,
          remote_key text,
          remote_url text,
          -- SYNCED, PENDING (waiting for its turn or a retry), FAILED (quarantined), UNSYNCED
          status text not null default 'PENDING',
          error jsonb,
          attempts integer not null default 0,
          retry_at timestamptz,
          -- Incoming first sync: set before the item is created, so a crash in between is recognised.
          creating_since timestamptz,
          -- Set while an incoming apply writes to the tracker; still set after a crash mid-way.
          applying_since timestamptz,
          local_version text,
          local_updated text,
          -- The local item changed while an apply was writing it (the versions the events named,
          -- null where unknown): look again once it is done, unless the apply read past them.
          changed_during_apply jsonb not null default '[]',
          last_sent_hash text,
          last_sent_replica jsonb,
          last_received_replica jsonb,
          last_sync_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`);
      await sql.query(`create unique index twins_local on twins (connection_id, local_key) where local_key is not null and status <> 'UNSYNCED'`);
      await sql.query(`create unique index twins_remote on twins (connection_id, remote_key) where remote_key is not null and status <> 'UNSYNCED'`);
      await sql.query(`create index twins_status on twins (connection_id, status)`);
      // Comments and attachments the sync wrote here, each mirroring one of the partner's.
      await sql.query(`
        create table comment_twins (
          twin_id bigint not null references twins (id) on delete cascade,
          remote_comment_id text not null,
          local_comment_id text not null,
          remote_hash text not null,
          primary key (twin_id, remote_comment_id)
        )`);
      await sql.query(`create unique index comment_twins_local on comment_twins (twin_id, local_comment_id)`);
      await sql.query(`
        create table attachment_twins (
          twin_id bigint not null references twins (id) on delete cascade,
          remote_attachment_id text not null,
          local_attachment_id text not null,
          sha256 text not null,
          primary key (twin_id, remote_attachment_id)
        )`);
      await sql.query(`create unique index attachment_twins_local on attachment_twins (twin_id, local_attachment_id)`);
      // Messages for the partner, in order; delivered_at once it has them.
      await sql.query(`
        create table outbox (
          seq bigserial primary key,
          id uuid not null unique,
          connection_id uuid not null references connections (id) on delete cascade,
          kind text not null,
          item_key text not null,
          payload jsonb not null,
          created_at timestamptz not null default now(),
          delivered_at timestamptz
        )`);
      await sql.query(`create index outbox_pending on outbox (connection_id, seq) where delivered_at is null`);
      // Messages from the partner; the event id makes a redelivery harmless.
      await sql.query(`
        create table inbox (
          connection_id uuid not null references connections (id) on delete cascade,
          event_id uuid not null,
          seq bigint not null,
          kind text not null,
          item_key text not null,
          payload jsonb not null,
          received_at timestamptz not null default now(),
          applied_at timestamptz,
          primary key (connection_id, event_id)
        )`);
      await sql.query(`create index inbox_pending on inbox (connection_id, item_key, seq) where applied_at is null`);
      // Attachment bytes a private partner pushed ahead of the events that name them.
      await sql.query(`
        create table peer_blobs (
          connection_id uuid not null references connections (id) on delete cascade,
          item_key text not null,
          attachment_id text not null,
          sha256 text not null,
          content bytea not null,
          received_at timestamptz not null default now(),
          primary key (connection_id, item_key, attachment_id)
        )`);
      await sql.query(`
        create table pushed_blobs (
          connection_id uuid not null references connections (id) on delete cascade,
          item_key text not null,
          attachment_id text not null,
          primary key (connection_id, item_key, attachment_id)
        )`);
      await sql.query(`
        create table sync_history (
          id bigserial primary key,
          connection_id uuid not null references connections (id) on delete cascade,
          twin_id bigint references twins (id) on delete cascade,
          direction text not null,
          outcome text not null,
          message text,
          at timestamptz not null default now()
        )`);
      await sql.query(`create index sync_history_twin on sync_history (twin_id, id)`);
      await sql.query(`
        create table bulk_syncs (
          id uuid primary key,
          connection_id uuid not null references connections (id) on delete cascade,
          trigger_id uuid not null references sync_triggers (id) on delete cascade,
          keys jsonb not null,
          started_at timestamptz not null default now()
        )`);
      await sql.query(`
        create table tracker_subscription (
          singleton boolean primary key default true check (singleton),
          subscription_id text,
          secret text not null,
          url text not null,
          created_at timestamptz not null default now()
        )`);
      // "Sync now" of an item that was unsynced: it may start over as a new pair.
      await sql.query(`
        create table resync_requests (
          connection_id uuid not null references connections (id) on delete cascade,
          local_key text not null,
          primary key (connection_id, local_key)
        )`);
      // One run per job key at a time, across processes (see sync/queue.ts).
      await sql.query(`create table sync_leases (key text primary key, owner uuid not null, until timestamptz not null)`);
      // Watermarks for changes to synced items outside any trigger, per local project.
      await sql.query(`
        create table twin_scan (
          connection_id uuid not null references connections (id) on delete cascade,
          project text not null,
          watermark text,
          seen_at_watermark jsonb not null default '[]',
          primary key (connection_id, project)
        )`);
    },
  },
  {
    name: '0003_sync_lookups',
    up: async (sql) => {
      // Every outgoing run of a new item asks whether an incoming first sync is creating one right
      // now: answered from the few twins being created, not by reading all of the connection's.
      await sql.query(`create index twins_creating on twins (connection_id, creating_since) where creating_since is not null`);
    },
  },
  {
    name: '0004_node_settings',
    up: async (sql) => {
      // Settings an admin changes from a frontend. Secrets are stored sealed (secrets/secret-box.ts).
      await sql.query(`create table node_settings (key text primary key, value jsonb not null, updated_at timestamptz not null default now())`);
    },
  },
  {
    name: '0005_creation_order',
    up: async (sql) => {
      // Lists are in the order things were made. now() has millisecond steps on PGlite, so two
      // connections (or triggers) made within one share created_at: the sequence tells them apart.
      await sql.query(`alter table connections add column created_seq bigint generated always as identity`);
      await sql.query(`alter table sync_triggers add column created_seq bigint generated always as identity`);
    },
  },
  {
    name: '0006_local_snapshot',
    up: async (sql) => {
      // The local item as the last incoming apply left it. Its outgoing replica (what the partner
      // already has: the no-echo baseline) is made from it when an outgoing run first needs it,
      // not by every apply: most items the sync writes do not change here again soon.
      await sql.query(`alter table twins add column local_snapshot jsonb`);
    },
  },
  {
    name: '0007_subscription_shape',
    up: async (sql) => {
      // What the tracker subscription asks for (TrackerConnector.webhookShape): one made with
      // another shape is made again.
      await sql.query(`alter table tracker_subscription add column shape text`);
    },
  },
  {
    name: '0008_oversize_attachments',
    up: async (sql) => {
      // Attachments whose size the tracker does not say, found too large while they were read:
      // at least `bytes` long. Sent no more, and refused to the partner without reading them again.
      await sql.query(`
        create table oversize_attachments (
          item_key text not null,
          attachment_id text not null,
          filename text not null,
          bytes bigint not null,
          found_at timestamptz not null default now(),
          primary key (item_key, attachment_id)
        )`);
    },
  },
  {
    name: '0009_acceptance_attempts',
    up: async (sql) => {
      // Acceptances this node has under way, by the nonce it sent the initiator: the initiator asks
      // here (handshake/verify) whether the acceptance it got in this node's name is really ours.
      // A table, not memory, so that any process of the node can answer.
      await sql.query(`
        create table acceptance_attempts (
          connection_id uuid not null,
          nonce text not null,
          expires_at timestamptz not null,
          primary key (connection_id, nonce)
        )`);
    },
  },
  {
    name: '0010_sync_workers',
    up: async (sql) => {
      // On a PostgreSQL server: which processes live, and which jobs each runs, so that a dead
      // process's jobs are handed back soon (see sync/queue.ts).
      await sql.query(`create table sync_workers (owner uuid primary key, seen_at timestamptz not null)`);
      await sql.query(`create table sync_job_owners (job_id uuid primary key, owner uuid not null, queue text not null)`);
    },
  },
  {
    name: '0011_stale_subscription',
    up: async (sql) => {
      // The webhook subscription for an earlier URL of the node, until it is removed in the tracker.
      await sql.query(`alter table tracker_subscription add column stale_subscription_id text`);
    },
  },
  {
    name: '0012_app_token_uses',
    up: async (sql) => {
      // The ids (jti) of admin tokens the tracker's Exalate app minted that were used already, until
      // they expire: each token admits one call (admin/tracker-app.ts).
      await sql.query(`create table app_token_uses (jti text primary key, expires_at timestamptz not null)`);
    },
  },
  {
    name: '0013_twins_remote_id',
    up: async (sql) => {
      // A rule's twin lookup by the partner's item id (syncHelper.getLocalIssueKeyFromRemoteId).
      await sql.query(`create index twins_remote_id on twins (connection_id, (last_received_replica->>'id')) where status <> 'UNSYNCED'`);
    },
  },
  {
    name: '0014_twins_synced_fields',
    up: async (sql) => {
      // The item's fields as of its last sync, either way: an apply keeps a change of this side
      // not sent yet against a partner's value that is only the older one (sync/synced-fields.ts).
      await sql.query(`alter table twins add column synced_fields jsonb`);
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
