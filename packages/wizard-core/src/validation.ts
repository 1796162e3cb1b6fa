import { connectionNameSchema, descriptionSchema, projectSchema, shortNameSchema } from '@exalate/contract';
import type { z } from 'zod';
import type { ClientError } from './api-client.js';
import { GUIDE } from './words.js';

/** The same rules the backend enforces, run in the browser for instant feedback. */
export function fieldError(schema: z.ZodType, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : (r.error.issues[0]?.message ?? 'Not valid.');
}

export const rules = {
  localShortName: shortNameSchema(GUIDE.localShortName),
  remoteShortName: shortNameSchema(GUIDE.remoteShortName),
  /** The remote short name, for a private partner (the guide calls it the destination). */
  destinationShortName: shortNameSchema(GUIDE.destinationShortName),
  name: connectionNameSchema,
  description: descriptionSchema,
  project: projectSchema,
};

export function destinationUrlError(value: string): string | null {
  return httpUrlError(
    value,
    'Enter the destination instance URL (the partner\'s Exalate URL, or the address of their tracker where the Exalate app is installed), or choose "I don\'t have a URL".',
    "the partner's Exalate URL, like https://exalate.partner.com/nodes/jira",
  );
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

/**
 * Where a refusal about one field is shown, so that it is said once: the field's own text under
 * the field and the whole message (with its code) in the banner when they differ; when they are
 * the same, only under the field, with the code.
 */
export function placeError(error: ClientError, field: string): { fieldMessage: string; banner: ClientError | null } {
  const own = error.fields?.[field];
  if (own && own !== error.message) return { fieldMessage: own, banner: error };
  return { fieldMessage: `${error.message} (${error.code})`, banner: null };
}
