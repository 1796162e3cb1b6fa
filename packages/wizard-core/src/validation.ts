import { connectionNameSchema, descriptionSchema, projectSchema, shortNameSchema } from '@exalate/contract';
import type { z } from 'zod';

/** The same rules the backend enforces, run in the browser for instant feedback. */
export function fieldError(schema: z.ZodType, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : (r.error.issues[0]?.message ?? 'Not valid.');
}

export const rules = {
  localShortName: shortNameSchema('Local short name'),
  remoteShortName: shortNameSchema('Remote short name'),
  name: connectionNameSchema,
  description: descriptionSchema,
  project: projectSchema,
};

export function destinationUrlError(value: string): string | null {
  return httpUrlError(value, 'Enter the partner node\'s URL, or choose "I don\'t have a URL".', 'the partner node\'s address, like https://exalate.partner.com/nodes/jira');
}

/** An http(s) URL the admin typed: what is wrong with it, in words that say what to enter instead. */
export function httpUrlError(value: string, whenEmpty: string, what: string): string | null {
  const v = value.trim();
  if (v === '') return whenEmpty;
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'The URL must start with https://.';
  } catch {
    return `This is not a URL. Enter ${what}.`;
  }
  return null;
}
