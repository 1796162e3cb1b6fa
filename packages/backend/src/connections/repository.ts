import { normalizeConnectionName, type ConnectionStatus, type ConnectionView, type Mode, type NodeType, type PendingStep } from '@exalate/contract';
import type { Sql } from '../db/database.js';
import type { SealedSecret, SecretBox } from '../secrets/secret-box.js';

/** What the handshake column holds, depending on the side and the step. */
export type HandshakeState =
  /** The code exactly as issued (jsonb reorders keys, so the body alone would not re-encode to the same text). */
  { kind: 'invitation'; code: string } | { kind: 'awaiting-initiator'; secret: string; nonce: string };

export interface ConnectionRow {
  id: string;
  name: string;
  description: string;
  mode: Mode;
  role: 'INITIATOR' | 'ACCEPTOR';
  status: ConnectionStatus;
  pending_step: PendingStep | null;
  status_reason: string | null;
  local_short_name: string;
  remote_short_name: string;
  project: string;
  partner_instance_id: string | null;
  partner_node_type: NodeType | null;
  partner_node_url: string | null;
  partner_tracker_url: string | null;
  partner_poll_only: boolean | null;
  protocol_version: number | null;
  destination_url: string | null;
  handshake: HandshakeState | null;
  invitation_expires_at: Date | null;
  invitation_used_at: Date | null;
  invitation_revoked_at: Date | null;
  connection_key: string | null;
  created_at: Date;
  updated_at: Date;
  activated_at: Date | null;
  deleted_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export function toView(row: ConnectionRow, now: Date = new Date()): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    mode: row.mode,
    role: row.role,
    status: row.status,
    pendingStep: row.status === 'PENDING' ? row.pending_step : null,
    statusReason: statusReason(row, now),
    localShortName: row.local_short_name,
    remoteShortName: row.remote_short_name,
    project: row.project,
    partner: {
      instanceId: row.partner_instance_id,
      nodeType: row.partner_node_type,
      nodeUrl: row.partner_node_url,
      trackerUrl: row.partner_tracker_url,
      private: row.partner_poll_only,
    },
    invitationExpiresAt: row.status === 'PENDING' && row.role === 'INITIATOR' ? iso(row.invitation_expires_at) : null,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    activatedAt: iso(row.activated_at),
  };
}

function statusReason(row: ConnectionRow, now: Date): string | null {
  if (row.status === 'PENDING' && row.pending_step === 'AWAITING_ACCEPTANCE') {
    const expires = row.invitation_expires_at ? new Date(row.invitation_expires_at) : null;
    if (expires && expires <= now) {
      return `The invitation expired on ${expires.toISOString()}. Delete this connection and initiate a new one.`;
    }
    return `Waiting for the other side to accept the invitation code${expires ? ` (valid until ${expires.toISOString()})` : ''}.`;
  }
  if (row.status === 'PENDING' && row.pending_step === 'AWAITING_INITIATOR') {
    return 'Accepted. The initiating node is private, so it completes the connection itself when it next checks in (within seconds when it is running).';
  }
  return row.status_reason;
}

/**
 * The connections, kept in memory by a process that alone writes its database: every sync step
 * reads its connection, and connections change rarely. A write drops the copy (before it runs, so
 * a read that overlaps it is not kept either), and the next read loads them all again.
 */
export class ConnectionCache {
  private rows: Map<string, ConnectionRow> | null = null;
  private generation = 0;
  /** The load under way, which readers that come meanwhile share (unless a write began since). */
  private loading: { generation: number; rows: Promise<Map<string, ConnectionRow>> } | null = null;

  drop(): void {
    this.generation += 1;
    this.rows = null;
  }

  async get(load: () => Promise<ConnectionRow[]>): Promise<Map<string, ConnectionRow>> {
    if (this.rows) return this.rows;
    const generation = this.generation;
    if (this.loading?.generation !== generation) {
      const rows = load().then((list) => new Map(list.map((r) => [r.id, r])));
      this.loading = { generation, rows };
      // Settled (either way): the next reader loads afresh. Its failure is its readers' to see.
      rows
        .finally(() => {
          if (this.loading?.rows === rows) this.loading = null;
        })
        .catch(() => undefined);
    }
    const rows = await this.loading!.rows;
    // A write began while these were read: use them this once, but do not keep them.
    if (generation === this.generation) this.rows = rows;
    return rows;
  }
}

/** How a sealed connection key is stored in its text column. */
const SEALED_KEY = 'sealed:';

/**
 * The connections table. The secrets in it, the connection key and the handshake (which holds the
 * invitation code or secret while a connection is Pending), are sealed with the server's secret key
 * on the way in and opened on the way out, so a database dump or backup cannot sign as this node.
 */
export class ConnectionRepository {
  /**
   * @param cache the connections kept in memory, when only this process writes the database (the
   *   embedded one); null on a PostgreSQL server that other processes share.
   * @param inTransaction reads go to the transaction, and writes drop the cached copy.
   */
  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
    private readonly cache: ConnectionCache | null = null,
    private readonly inTransaction = false,
  ) {}

  with(sql: Sql): ConnectionRepository {
    return new ConnectionRepository(sql, this.secrets, this.cache, true);
  }

  async list(): Promise<ConnectionRow[]> {
    const cached = await this.cached();
    if (cached) return [...cached.values()].filter((r) => !r.deleted_at).map((r) => ({ ...r }));
    return this.rows(`select * from connections where deleted_at is null order by created_at, created_seq`);
  }

  /** Includes deleted (tombstoned) connections; callers decide what a tombstone means. */
  async find(id: string, options: { forUpdate?: boolean } = {}): Promise<ConnectionRow | null> {
    const cached = options.forUpdate ? null : await this.cached();
    if (cached) {
      const row = cached.get(id);
      return row ? { ...row } : null;
    }
    const rows = await this.rows(`select * from connections where id = $1${options.forUpdate ? ' for update' : ''}`, [id]);
    return rows[0] ?? null;
  }

  /** Every connection (deleted ones too) by id, in `list()`'s order, from memory; null when this repository does not cache. */
  private async cached(): Promise<Map<string, ConnectionRow> | null> {
    if (!this.cache || this.inTransaction) return null;
    return this.cache.get(async () => this.rows(`select * from connections order by created_at, created_seq`));
  }

  /** A write through here: the copy in memory is stale. */
  private wrote(): void {
    this.cache?.drop();
  }

  /** Seals what connections made before sealing existed still hold in the clear (once, at start). */
  async sealPlaintextSecrets(): Promise<number> {
    const rows = await this.sql.query<{ id: string; connection_key: string | null; handshake: unknown }>(
      `select id, connection_key, handshake from connections
        where (connection_key is not null and connection_key not like '${SEALED_KEY}%') or (handshake is not null and not (handshake ? 'sealed'))`,
    );
    for (const r of rows) {
      await this.sql.query(`update connections set connection_key = $2, handshake = $3 where id = $1`, [
        r.id,
        this.sealKey(r.connection_key),
        this.sealHandshake(r.handshake as HandshakeState | null),
      ]);
    }
    if (rows.length) this.wrote();
    return rows.length;
  }

  /**
   * Whether every connection's secrets open with the server's key. A node whose key changed could
   * not sign or check a single request, so it refuses to start and says why.
   */
  async unopenable(): Promise<string[]> {
    const rows = await this.sql.query<ConnectionRow>(`select * from connections where connection_key is not null or handshake is not null`);
    return rows.flatMap((r) => {
      try {
        this.open(r);
        return [];
      } catch {
        return [r.id];
      }
    });
  }

  private async rows(query: string, params?: unknown[]): Promise<ConnectionRow[]> {
    return (await this.sql.query<ConnectionRow>(query, params)).map((r) => this.open(r));
  }

  private open(row: ConnectionRow): ConnectionRow {
    const key = row.connection_key;
    const handshake = row.handshake as unknown as { sealed?: SealedSecret } | null;
    return {
      ...row,
      connection_key: key?.startsWith(SEALED_KEY)
        ? this.openOrFail(row.id, JSON.parse(Buffer.from(key.slice(SEALED_KEY.length), 'base64').toString('utf8')) as SealedSecret)
        : key,
      handshake: handshake?.sealed ? (JSON.parse(this.openOrFail(row.id, handshake.sealed)) as HandshakeState) : row.handshake,
    };
  }

  private openOrFail(id: string, sealed: SealedSecret): string {
    const plain = this.secrets.open(sealed);
    if (plain === null) {
      throw new Error(
        `The secrets of connection ${id} cannot be opened with this server's secret key: EXALATE_SECRET_KEY (or the key file beside the data) is not the one they were sealed with. Restore that key.`,
      );
    }
    return plain;
  }

  private sealKey(key: string | null): string | null {
    return key === null ? null : SEALED_KEY + Buffer.from(JSON.stringify(this.secrets.seal(key))).toString('base64');
  }

  private sealHandshake(handshake: HandshakeState | null): string | null {
    return handshake === null ? null : JSON.stringify({ sealed: this.secrets.seal(JSON.stringify(handshake)) });
  }

  /** A row's values as stored: secrets sealed, the handshake as JSON. */
  private stored(row: Record<string, unknown>): unknown[] {
    return Object.entries(row).map(([c, v]) => {
      if (c === 'connection_key') return this.sealKey((v as string | null | undefined) ?? null);
      if (c === 'handshake') return this.sealHandshake((v as HandshakeState | null | undefined) ?? null);
      return v;
    });
  }

  async findLive(id: string): Promise<ConnectionRow | null> {
    const row = await this.find(id);
    return row && !row.deleted_at ? row : null;
  }

  /**
   * Whether a live connection has this name, in any letter case and whatever invisible characters
   * either spelling has (names stored before they were normalized included).
   */
  async nameTaken(name: string): Promise<boolean> {
    const wanted = normalizeConnectionName(name).toLowerCase();
    const rows = await this.sql.query<{ name: string }>(`select name from connections where deleted_at is null`);
    return rows.some((r) => normalizeConnectionName(r.name).toLowerCase() === wanted);
  }

  async insert(row: Omit<ConnectionRow, 'created_at' | 'updated_at' | 'deleted_at'>): Promise<ConnectionRow> {
    const cols = Object.keys(row);
    this.wrote();
    const rows = await this.rows(
      `insert into connections (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')}) returning *`,
      this.stored(row as unknown as Record<string, unknown>),
    );
    return rows[0]!;
  }

  async update(id: string, changes: Partial<Omit<ConnectionRow, 'id' | 'created_at' | 'updated_at'>>): Promise<ConnectionRow> {
    const cols = Object.keys(changes);
    this.wrote();
    const rows = await this.rows(`update connections set ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() where id = $1 returning *`, [
      id,
      ...this.stored(changes as Record<string, unknown>),
    ]);
    const updated = rows[0];
    if (!updated) throw new Error(`connection ${id} vanished during update`);
    return updated;
  }

  async hardDelete(id: string): Promise<void> {
    this.wrote();
    await this.sql.query(`delete from connections where id = $1`, [id]);
  }

  /** An acceptance this node is making: the initiator may ask about it (see isAccepting) until it ends or `ttlMs` passes. */
  async beginAcceptance(connectionId: string, nonce: string, ttlMs: number): Promise<void> {
    await this.sql.query(`delete from acceptance_attempts where expires_at < now()`);
    await this.sql.query(
      `insert into acceptance_attempts (connection_id, nonce, expires_at) values ($1, $2, now() + make_interval(secs => $3)) on conflict do nothing`,
      [connectionId, nonce, ttlMs / 1000],
    );
  }

  async endAcceptance(connectionId: string, nonce: string): Promise<void> {
    await this.sql.query(`delete from acceptance_attempts where connection_id = $1 and nonce = $2`, [connectionId, nonce]);
  }

  /** Whether this node is accepting `connectionId` with `nonce` now. */
  async isAccepting(connectionId: string, nonce: string): Promise<boolean> {
    const rows = await this.sql.query(`select 1 from acceptance_attempts where connection_id = $1 and nonce = $2 and expires_at > now()`, [
      connectionId,
      nonce,
    ]);
    return rows.length > 0;
  }

  /** Connections this (private) node must keep polling its partner for. */
  async listPollable(): Promise<ConnectionRow[]> {
    return this.rows(
      `select * from connections where deleted_at is null and connection_key is not null
         and (status in ('ACTIVE','DEACTIVATED') or (status = 'PENDING' and pending_step = 'AWAITING_INITIATOR'))`,
    );
  }

  /** Invitations a private initiator must go and collect from their public acceptor. */
  async listAwaitingAcceptanceWithDestination(): Promise<ConnectionRow[]> {
    return this.rows(
      `select * from connections where deleted_at is null and role = 'INITIATOR' and status = 'PENDING'
         and pending_step = 'AWAITING_ACCEPTANCE' and destination_url is not null`,
    );
  }
}
