/**
 * How large the data the sync moves may be. Both sides check the same numbers: a node refuses to
 * send a replica past them (the item fails with the field named) and to apply one it received.
 * They keep a rule run, a text conversion and a delivery to a bounded cost; attachments' bytes
 * travel apart and have their own limit (EXALATE_MAX_ATTACHMENT_MB).
 */

/** One text field of a replica (summary, description, a comment's body), in UTF-8 bytes of its JSON. */
export const MAX_TEXT_FIELD_BYTES = 256 * 1024;

/** A whole replica, in UTF-8 bytes of its JSON. */
export const MAX_REPLICA_BYTES = 2 * 1024 * 1024;

export interface SizeProblem {
  /** Where in the replica: `description`, `comments[3].body`, or `replica` for the whole. */
  field: string;
  bytes: number;
  limit: number;
}

const utf8 = new TextEncoder();
const bytesOf = (value: unknown): number => (value === undefined ? 0 : utf8.encode(JSON.stringify(value) ?? '').length);

/** The first part of a replica that is larger than the sync takes, or null when it fits. */
export function replicaSizeProblem(replica: {
  summary?: unknown;
  description?: unknown;
  comments?: Array<{ body?: unknown }> | undefined;
}): SizeProblem | null {
  const fields: Array<[string, unknown]> = [
    ['summary', replica.summary],
    ['description', replica.description],
    ...(replica.comments ?? []).map((c, i): [string, unknown] => [`comments[${i}].body`, c.body]),
  ];
  for (const [field, value] of fields) {
    const bytes = bytesOf(value);
    if (bytes > MAX_TEXT_FIELD_BYTES) return { field, bytes, limit: MAX_TEXT_FIELD_BYTES };
  }
  const bytes = bytesOf(replica);
  return bytes > MAX_REPLICA_BYTES ? { field: 'replica', bytes, limit: MAX_REPLICA_BYTES } : null;
}

/** "1.2 MB", "300 KB": a size as an admin reads it. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
