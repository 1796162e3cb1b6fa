import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64urlnopad } from '@scure/base';
import { z } from 'zod';
import { MODES } from './node-info.js';
import { NodeInfoSchema } from './node-info.js';
import type { ErrorCode, Result } from './errors.js';

/**
 * An invitation code is base64url of a versioned JSON document:
 *   { format, version, body, checksum }
 * The checksum (first 16 hex digits of SHA-256 over the body's JSON) tells a truncated or mistyped
 * code apart from a well-formed one: only the latter is sent to the initiator, which alone can tell
 * whether it really issued it (the body's secret). The code is a secret and must never be logged.
 */
export const INVITATION_FORMAT = 'exalate.invitation';
export const INVITATION_FORMAT_VERSION = 1;

export const InvitationBodySchema = z.object({
  connectionId: z.uuid(),
  /** 256-bit random secret, base64url. Proves the acceptor was given this code. */
  secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  name: z.string().min(1),
  description: z.string(),
  mode: z.enum(MODES),
  initiator: z.object({
    shortName: z.string().min(1),
    project: z.string().min(1),
    node: NodeInfoSchema,
  }),
  destination: z.object({
    shortName: z.string().min(1),
    /** The node the invitation is addressed to; null when the initiator had no URL (private partner). */
    url: z.string().url().nullable(),
  }),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
export type InvitationBody = z.infer<typeof InvitationBodySchema>;

export interface InvitationCodeError {
  code: Extract<ErrorCode, 'INVITATION_CODE_EMPTY' | 'INVITATION_CODE_NOT_RECOGNIZED' | 'INVITATION_CODE_DAMAGED' | 'INVITATION_CODE_UNSUPPORTED_VERSION'>;
  message: string;
}

function checksumOf(bodyJson: string): string {
  return bytesToHex(sha256(utf8ToBytes(bodyJson))).slice(0, 16);
}

export function encodeInvitationCode(body: InvitationBody): string {
  const bodyJson = JSON.stringify(body);
  // Built by hand so the checksum is over exactly the body text that is embedded.
  const doc = `{"format":"${INVITATION_FORMAT}","version":${INVITATION_FORMAT_VERSION},"body":${bodyJson},"checksum":"${checksumOf(bodyJson)}"}`;
  return base64urlnopad.encode(utf8ToBytes(doc));
}

const DAMAGED: InvitationCodeError = {
  code: 'INVITATION_CODE_DAMAGED',
  message:
    'This invitation code is incomplete or has been changed. Copy the whole code again from the message you received (it is one long line), or ask the other side to send it again.',
};
const NOT_RECOGNIZED: InvitationCodeError = {
  code: 'INVITATION_CODE_NOT_RECOGNIZED',
  message: 'This is not an Exalate invitation code. Paste the code the other side copied with "Copy invitation code" after initiating the connection.',
};

const CODE_HEAD = base64urlnopad.encode(utf8ToBytes(`{"format":"${INVITATION_FORMAT}"`));

/** The longest text taken for a code (a real one is some 1,500 characters). */
const MAX_CODE_CHARS = 16_384;

/** Decodes and checks format, version and checksum. Expiry and addressing are the backend's checks. */
export function decodeInvitationCode(input: string): Result<InvitationBody, InvitationCodeError> {
  // Codes pasted from mail or chat pick up line breaks and spaces; they are never part of a code.
  const code = input.replace(/\s+/g, '');
  if (code === '') {
    return { ok: false, error: { code: 'INVITATION_CODE_EMPTY', message: 'Paste the invitation code you received from the other side.' } };
  }
  // A code is some 1,500 characters; one many times that long is something else pasted.
  if (code.length > MAX_CODE_CHARS)
    return {
      ok: false,
      error: {
        code: 'INVITATION_CODE_NOT_RECOGNIZED',
        message: `This text is too long to be an Exalate invitation code (${code.length} characters; a code has at most ${MAX_CODE_CHARS}). Paste only the code the other side copied with "Copy invitation code".`,
      },
    };
  if (!/^[A-Za-z0-9_-]+$/.test(code)) return { ok: false, error: NOT_RECOGNIZED };
  // Every code starts with the same 40 characters (the encoded `{"format":"exalate.invitation"`):
  // anything else is not a code at all; a code that stops inside them was cut short.
  const head = code.slice(0, CODE_HEAD.length);
  if (!CODE_HEAD.startsWith(head)) return { ok: false, error: NOT_RECOGNIZED };
  if (code.length <= CODE_HEAD.length) return { ok: false, error: DAMAGED };
  let text: string;
  try {
    // A truncated code may end mid-character: drop a dangling character rather than fail here.
    const usable = code.length % 4 === 1 ? code.slice(0, -1) : code;
    text = new TextDecoder('utf-8', { fatal: false }).decode(base64urlnopad.decode(usable));
  } catch {
    return { ok: false, error: DAMAGED };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, error: DAMAGED };
  }
  const envelope = z.object({ format: z.literal(INVITATION_FORMAT), version: z.number().int(), body: z.unknown(), checksum: z.string() }).safeParse(doc);
  if (!envelope.success) return { ok: false, error: DAMAGED };
  if (envelope.data.version > INVITATION_FORMAT_VERSION) {
    return {
      ok: false,
      error: {
        code: 'INVITATION_CODE_UNSUPPORTED_VERSION',
        message: `This invitation code uses format version ${envelope.data.version}, newer than this node understands (${INVITATION_FORMAT_VERSION}). Upgrade this Exalate node, then accept the invitation again.`,
      },
    };
  }
  if (envelope.data.version !== INVITATION_FORMAT_VERSION) {
    return {
      ok: false,
      error: {
        code: 'INVITATION_CODE_UNSUPPORTED_VERSION',
        message: `This invitation code says it uses format version ${envelope.data.version}, which no Exalate node issues (this node reads version ${INVITATION_FORMAT_VERSION}). Ask the other side to initiate the connection again and send you the new code.`,
      },
    };
  }
  let bodyJson: string;
  try {
    bodyJson = JSON.stringify(envelope.data.body);
  } catch {
    // Nested beyond what can be written back (thousands of levels): no node made this.
    return { ok: false, error: NOT_RECOGNIZED };
  }
  if (checksumOf(bodyJson) !== envelope.data.checksum) return { ok: false, error: DAMAGED };
  const body = InvitationBodySchema.safeParse(envelope.data.body);
  // The checksum matched, so this was not a typo: it was built by something that is not a compatible node.
  if (!body.success) return { ok: false, error: NOT_RECOGNIZED };
  return { ok: true, value: body.data };
}
