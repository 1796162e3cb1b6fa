import { Agent, fetch, type Response } from 'undici';
import ipaddr from 'ipaddr.js';
import { AddressNotAllowedError, guardedLookup, isAddressAllowed, isLoopbackHost, type AddressPolicy } from './address-policy.js';

export type PeerUrlProblem = { kind: 'invalid'; message: string } | { kind: 'not-allowed'; message: string };

/**
 * Normalizes a node URL as an admin may type it ("https://host/nodes/x/", with spaces) and checks
 * it against the address policy as far as that is possible without resolving it.
 */
export function normalizeNodeUrl(input: string, policy: AddressPolicy): { ok: true; url: string } | { ok: false; problem: PeerUrlProblem } {
  const trimmed = input.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return {
      ok: false,
      problem: { kind: 'invalid', message: `"${trimmed}" is not a URL. Enter the partner node's address, like https://exalate.partner.com/nodes/jira.` },
    };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, problem: { kind: 'invalid', message: `The URL must start with https:// (it starts with ${url.protocol}//).` } };
  }
  if (url.username || url.password) {
    return {
      ok: false,
      problem: {
        kind: 'invalid',
        message: 'Remove the user name and password from the URL: nodes authenticate each other by the invitation, not by URL credentials.',
      },
    };
  }
  if (url.search || url.hash) {
    return { ok: false, problem: { kind: 'invalid', message: 'Remove the query (?…) and fragment (#…) from the URL: enter only the node address.' } };
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol === 'http:' && !loopback) {
    return { ok: false, problem: { kind: 'invalid', message: 'Use https:// for the partner node: plain http is only accepted for a node on this machine.' } };
  }
  const bare = url.hostname.replace(/^\[|\]$/g, '');
  if ((loopback && !policy.allowLoopback) || (ipaddr.isValid(bare) && !isAddressAllowed(bare, policy))) {
    return { ok: false, problem: { kind: 'not-allowed', message: notAllowedMessage(url.hostname) } };
  }
  const path = url.pathname.replace(/\/+$/, '');
  return { ok: true, url: `${url.protocol}//${url.host}${path}` };
}

export function notAllowedMessage(host: string): string {
  return `This node may not connect to ${host}: it is not a public address. If the partner node really is on your internal network, an operator can allow its range with EXALATE_PEER_ALLOWED_CIDRS.`;
}

export type PeerFetchFailure = { kind: 'not-allowed'; message: string } | { kind: 'unreachable'; message: string };

export interface PeerHttp {
  /** fetch with the address policy enforced; network failures come back as values. */
  request(
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: string; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ ok: true; response: Response } | { ok: false; failure: PeerFetchFailure }>;
  close(): Promise<void>;
}

export function createPeerHttp(policy: AddressPolicy): PeerHttp {
  const agent = new Agent({ connect: { lookup: guardedLookup(policy) as never, timeout: 10_000 }, keepAliveTimeout: 30_000 });
  return {
    async request(url, init) {
      // IP literals never reach the lookup hook, so they are checked here.
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (ipaddr.isValid(host) && !isAddressAllowed(host, policy)) {
        return { ok: false, failure: { kind: 'not-allowed', message: notAllowedMessage(host) } };
      }
      const signals = [AbortSignal.timeout(init.timeoutMs), ...(init.signal ? [init.signal] : [])];
      try {
        const response = await fetch(url, {
          method: init.method,
          headers: { accept: 'application/json', ...init.headers },
          ...(init.body !== undefined ? { body: init.body } : {}),
          dispatcher: agent,
          redirect: 'error',
          signal: AbortSignal.any(signals),
        });
        return { ok: true, response };
      } catch (error) {
        return { ok: false, failure: describeFailure(error, url) };
      }
    },
    close: () => agent.close(),
  };
}

function describeFailure(error: unknown, url: string): PeerFetchFailure {
  const chain: unknown[] = [];
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  const blocked = chain.find((e): e is AddressNotAllowedError => e instanceof AddressNotAllowedError);
  const host = new URL(url).hostname;
  if (blocked) return { kind: 'not-allowed', message: notAllowedMessage(host) };
  const code = chain.map((e) => (e as { code?: string }).code).find(Boolean);
  const name = chain.map((e) => (e as { name?: string }).name).find((n) => n === 'TimeoutError' || n === 'AbortError');
  const why =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? `the host name ${host} could not be resolved`
      : code === 'ECONNREFUSED'
        ? `nothing answers at ${host} (connection refused)`
        : name
          ? 'it did not answer in time'
          : code
            ? `the connection failed (${code})`
            : 'the connection failed';
  return { kind: 'unreachable', message: why };
}
