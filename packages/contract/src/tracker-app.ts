import { base64urlnopad } from '@scure/base';
import { z } from 'zod';

/**
 * What the node and the Exalate app inside a tracker (the Jira Data Center app) say to each other.
 *
 * - Discovery: the app publishes its node's URL at a public path of the tracker, so a partner who
 *   enters the tracker's own URL in Initiate connection reaches the node.
 * - Pairing: the node shows its operator a one-time pairing code; the tracker's admin pastes it in
 *   the app's General settings; the app sends it to the node (server to server) with the tracker's
 *   base URL and gets the key it signs its admins' tokens with. The key never passes a browser.
 * - Admin tokens: HS256 JWTs the app mints for a signed-in tracker admin, one per call: issuer the
 *   tracker's base URL, audience the node URL, subject the user, at most five minutes, a `jti`.
 */

/** Where the Exalate app in a Jira Data Center publishes its node (public, no sign-in). */
export const JIRA_APP_NODE_PATH = '/plugins/servlet/exalate/node';
/** Where the Exalate application in a ServiceNow instance publishes its node (a public resource of its Scripted REST API). */
export const SERVICENOW_APP_NODE_PATH = '/api/x_exalate_sync/exalate/published-node';

export const TrackerAppNodeSchema = z.object({ product: z.literal('exalate'), nodeUrl: z.string().url() });
export type TrackerAppNode = z.infer<typeof TrackerAppNodeSchema>;

/** The longest life of an admin token the app mints (seconds). */
export const APP_TOKEN_MAX_TTL_S = 300;

const PAIRING_PREFIX = 'EXPAIR1';

export interface PairingCode {
  /** The node to pair with. */
  nodeUrl: string;
  /** Which pairing this is (the node keeps only a hash of the secret). */
  id: string;
  /** 256 random bits, base64url. */
  secret: string;
}

/**
 * `EXPAIR1.<base64url node URL>.<id>.<secret>`: dot-separated so the app's few lines of Java can
 * read it without a JSON parser.
 */
export function encodePairingCode(code: PairingCode): string {
  return [PAIRING_PREFIX, base64urlnopad.encode(new TextEncoder().encode(code.nodeUrl)), code.id, code.secret].join('.');
}

export function decodePairingCode(text: string): PairingCode | null {
  const parts = text.trim().split('.');
  if (parts.length !== 4 || parts[0] !== PAIRING_PREFIX) return null;
  const [, url, id, secret] = parts as [string, string, string, string];
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(url) || !/^[0-9a-f-]{36}$/.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  let nodeUrl: string;
  try {
    nodeUrl = new TextDecoder('utf-8', { fatal: true }).decode(base64urlnopad.decode(url));
  } catch {
    return null;
  }
  if (!z.string().url().safeParse(nodeUrl).success) return null;
  return { nodeUrl, id, secret };
}

export const PairRequestSchema = z.object({
  pairingCode: z.string().max(4_000),
  /** The tracker's base URL as the tracker itself knows it (Jira: its application properties). */
  trackerBaseUrl: z.string().max(2_000),
});
export type PairRequest = z.infer<typeof PairRequestSchema>;

export const PairResponseSchema = z.object({
  /** The HS256 key of the app's admin tokens, base64url (32 bytes). */
  key: z.string(),
  /** What the tokens must carry: `iss` (the tracker's base URL) and `aud` (the node URL). */
  issuer: z.string(),
  audience: z.string(),
});
export type PairResponse = z.infer<typeof PairResponseSchema>;

/** What the operator gets to hand to the tracker's admin. */
export const PairingCodeViewSchema = z.object({ pairingCode: z.string(), expiresAt: z.string() });
export type PairingCodeView = z.infer<typeof PairingCodeViewSchema>;
/** A base URL as both sides write it: no trailing slash, scheme and host in lower case. */
export function sameBaseUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u.trim());
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
    } catch {
      return null;
    }
  };
  const x = norm(a);
  return x !== null && x === norm(b);
}
