import { pino, stdSerializers, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Invitation codes, secrets, connection keys, tokens and passwords are never
 * logged; as a second line of defence, the places they could be in are redacted: fields named for
 * a secret (at the top and one level down), a request's Authorization header, and an invitation
 * code in a request body. Error codes (`code`) are what an operator searches for: they stay.
 *
 * Errors are logged by what they say (type, message, code, stack, cause), never by what they
 * carry: an HTTP client's error holds the request it failed on, its Authorization header included.
 */
const SECRET_FIELDS = [
  'invitationCode',
  'secret',
  'key',
  'connectionKey',
  'connection_key',
  'token',
  'adminToken',
  'apiToken',
  'accessToken',
  'password',
  'authorization',
  'cookie',
];

export const REDACTED_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'req.headers.authorization',
  // An invitation code travels as `code` in the bodies of preview and accept.
  'body.code',
  'req.body.code',
  '*.body.code',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['EXALATE_LOG_LEVEL'] ?? 'info',
      base: { service: 'exalate' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: describeError, error: describeError },
    },
    options.destination ?? process.stdout,
  );
}

/** An error as the log keeps it: what it is and says, not the objects it holds. */
export function describeError(error: unknown, depth = 0): Record<string, unknown> | unknown {
  if (!(error instanceof Error)) return typeof error === 'object' && error !== null ? { type: 'non-error', value: String(error) } : error;
  const e = error as Error & { code?: unknown; status?: unknown; cause?: unknown };
  const plain = stdSerializers.err(error);
  return {
    type: plain.type,
    message: plain.message,
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    stack: plain.stack,
    ...(e.cause !== undefined && depth < 3 ? { cause: describeError(e.cause, depth + 1) } : {}),
  };
}
