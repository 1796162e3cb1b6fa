// A request body checked against its contract schema: the parsed value, or an AppError that
// names each wrong field (VALIDATION_FAILED, or SHORT_NAME_INVALID for the connection's names).
import type { z } from 'zod';
import { AppError } from '../errors.js';

export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? '');
    fields[field] ??= issue.message;
  }
  const shortName = Object.keys(fields).find((f) => f === 'localShortName' || f === 'remoteShortName');
  const first = Object.values(fields)[0] ?? 'The request is not valid.';
  return failParse(shortName ? 'SHORT_NAME_INVALID' : 'VALIDATION_FAILED', shortName ? fields[shortName]! : first, fields);
}

function failParse(code: 'SHORT_NAME_INVALID' | 'VALIDATION_FAILED', message: string, fields: Record<string, string>): never {
  throw new AppError(code, message, fields);
}
