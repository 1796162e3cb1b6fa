import type { Sql } from './database.js';

/** Stores one of the node's settings (table node_settings), replacing what was there; answers when. */
export async function putNodeSetting(sql: Sql, key: string, value: unknown): Promise<Date> {
  const rows = await sql.query<{ updated_at: Date }>(
    `insert into node_settings (key, value, updated_at) values ($1, $2, now())
     on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at returning updated_at`,
    [key, JSON.stringify(value)],
  );
  return rows[0]!.updated_at;
}
