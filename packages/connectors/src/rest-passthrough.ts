/**
 * A rule's `httpClient` call on its node's own tracker: a path relative to the tracker's address,
 * sent with the node's credentials, and nowhere else. The node builds the address itself, and a
 * path that would leave the tracker (another host, a scheme, `//`, a `..` out of the tracker's base
 * path, a backslash, a control character) is refused before anything is sent. Bodies both ways
 * are bounded; a redirect is not followed (it could lead anywhere).
 */
import type { NodeType } from '@exalate/contract';
import { ConnectorError, errorFromStatus, type RestCall } from './connector.js';

/** The largest body a rule sends or receives this way. */
export const MAX_REST_BYTES = 1024 * 1024;

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** The address `path` names under `base`; throws REJECTED for one that is not under it. */
export function restUrl(tracker: NodeType, base: string, path: string): URL {
  const refuse = (why: string) =>
    new ConnectorError('REJECTED', `httpClient takes a path on this node's tracker (${why}), like "/rest/api/2/myself"`, { tracker });
  if (typeof path !== 'string' || path.length === 0) throw refuse('no path was given');
  if (path.length > 4096) throw refuse('this one is longer than 4,096 characters');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(path)) throw refuse('this one has a control character or a backslash');
  if (!path.startsWith('/') || path.startsWith('//')) throw refuse(`"${path.slice(0, 40)}" does not start with a single "/"`);
  const root = new URL(base);
  const basePath = root.pathname.replace(/\/+$/, '');
  const url = new URL(`${root.origin}${basePath}${path}`);
  if (url.origin !== root.origin || (basePath && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)))
    throw refuse(`"${path.slice(0, 40)}" leads out of it`);
  return url;
}

/**
 * Sends the call; the answer's body (parsed JSON, text, or null when empty). A status of 400 or
 * more fails with the tracker's error, as the connector's other calls do.
 */
export async function restPassThrough(
  tracker: NodeType,
  base: string,
  authorization: string,
  call: RestCall,
  contentType: (call: RestCall) => string = () => 'application/json',
): Promise<unknown> {
  const rejected = (message: string) => new ConnectorError('REJECTED', message, { tracker });
  if (!METHODS.has(call.method)) throw rejected(`httpClient has no method ${String(call.method)}`);
  const url = restUrl(tracker, base, call.path);
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  if (body !== undefined && Buffer.byteLength(body) > MAX_REST_BYTES) throw rejected('httpClient sends a body of at most 1 MB');
  if (call.timeoutMs <= 0) throw new ConnectorError('NETWORK', 'no time is left for the call', { tracker });
  let res: Response;
  try {
    res = await fetch(url, {
      method: call.method,
      headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': contentType(call) }) },
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(call.timeoutMs),
    });
  } catch (error) {
    throw errorFromStatus(tracker, undefined, `the tracker could not be reached: ${(error as Error).message}`);
  }
  const text = await boundedText(res, tracker);
  if (res.status >= 300)
    throw errorFromStatus(tracker, res.status, `the tracker answered ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`, res.headers.get('retry-after'));
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The body as text, refused past MAX_REST_BYTES. */
async function boundedText(res: Response, tracker: NodeType): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_REST_BYTES) throw new ConnectorError('REJECTED', 'the tracker answered with more than 1 MB; httpClient reads at most that', { tracker });
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
