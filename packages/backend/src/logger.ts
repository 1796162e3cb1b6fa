import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Invitation codes, secrets, connection keys and bearer tokens are never
 * logged; the paths below are redacted as a second line of defence.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['EXALATE_LOG_LEVEL'] ?? 'info',
      base: { service: 'exalate' },
      redact: {
        paths: [
          'code',
          '*.code',
          'invitationCode',
          '*.invitationCode',
          'secret',
          '*.secret',
          'key',
          '*.key',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  );
}
