import type { Version2Client, Version3Client } from 'jira.js';
import { ConnectorError, errorFromStatus } from '../connector.js';

export interface JiraConnection {
  /** https://acme.atlassian.net (Cloud) or https://jira.acme.com (Data Center). */
  baseUrl: string;
  deployment: 'cloud' | 'datacenter';
  /** Cloud: account email and API token. Data Center: a personal access token. */
  auth: { email: string; apiToken: string } | { personalAccessToken: string };
  timeoutMs?: number;
}

/**
 * HTTP to Jira and nothing else: jira.js (Version3Client on Cloud, Version2Client on Data Center)
 * for what it covers, plain REST for admin webhooks and streamed attachment downloads.
 */
export class JiraClient {
  private readonly config: ConstructorParameters<typeof Version3Client>[0];
  private api: Promise<Version3Client | Version2Client> | null = null;
  /** The Authorization header the client sends (for the rule's httpClient, rest-passthrough.ts). */
  readonly authorization: string;

  constructor(readonly connection: JiraConnection) {
    const host = connection.baseUrl.replace(/\/+$/, '');
    const baseRequestConfig = { timeout: connection.timeoutMs ?? 30_000 };
    // A Data Center personal access token is a bearer token, which jira.js sends for oauth2.accessToken.
    this.config =
      'apiToken' in connection.auth
        ? { host, authentication: { basic: { email: connection.auth.email, apiToken: connection.auth.apiToken } }, baseRequestConfig }
        : { host, authentication: { oauth2: { accessToken: connection.auth.personalAccessToken } }, baseRequestConfig };
    this.authorization =
      'apiToken' in connection.auth
        ? `Basic ${Buffer.from(`${connection.auth.email}:${connection.auth.apiToken}`).toString('base64')}`
        : `Bearer ${connection.auth.personalAccessToken}`;
  }

  /**
   * jira.js, loaded on first use: it is some 10 MB of heap, and a node only loads the client of
   * its own tracker.
   */
  private client(): Promise<Version3Client | Version2Client> {
    this.api ??= import('jira.js').then((jira) =>
      this.connection.deployment === 'cloud' ? new jira.Version3Client(this.config) : new jira.Version2Client(this.config),
    );
    return this.api;
  }

  get tracker() {
    return this.connection.deployment === 'cloud' ? ('JIRA_CLOUD' as const) : ('JIRA_SERVER' as const);
  }

  /** Runs a jira.js call (Version3Client on Cloud, Version2Client on Data Center), mapping its failures to ConnectorError. */
  async call<T>(fn: (api: Version3Client | Version2Client) => Promise<T>): Promise<T> {
    const api = await this.client();
    try {
      return await fn(api);
    } catch (error) {
      throw mapJiraError(this.tracker, error);
    }
  }

  /** Like `call`, but a 404 is an answer (null), not a failure. */
  async optional<T>(fn: (api: Version3Client | Version2Client) => Promise<T>): Promise<T | null> {
    try {
      return await this.call(fn);
    } catch (error) {
      if (error instanceof ConnectorError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  /** Plain REST with the same credentials. */
  async fetch(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(path.startsWith('http') ? path : `${this.connection.baseUrl.replace(/\/+$/, '')}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(this.connection.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw errorFromStatus(this.tracker, undefined, `Jira could not be reached: ${(error as Error).message}`);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw errorFromStatus(this.tracker, res.status, `Jira answered ${res.status}: ${jiraMessage(text)}`, res.headers.get('retry-after'));
    }
    return res;
  }
}

function jiraMessage(data: unknown): string {
  try {
    const body = (typeof data === 'string' ? JSON.parse(data) : data) as { errorMessages?: string[]; errors?: Record<string, string> };
    const parts = [...(body.errorMessages ?? []), ...Object.entries(body.errors ?? {}).map(([k, v]) => `${k}: ${v}`)];
    if (parts.length) return parts.join('; ');
  } catch {
    /* not JSON */
  }
  return typeof data === 'string' && data ? data.slice(0, 200) : 'no details';
}

export function mapJiraError(tracker: 'JIRA_CLOUD' | 'JIRA_SERVER', error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const e = error as {
    status?: number;
    response?: { data?: unknown; status?: number } | string;
    cause?: { response?: { headers?: Record<string, string> } };
    code?: string;
    message?: string;
    isAxiosError?: boolean;
  };
  const status = typeof e.response === 'object' && e.response?.status ? e.response.status : e.isAxiosError ? undefined : e.status;
  if (status === undefined || (e.isAxiosError && !e.status))
    return errorFromStatus(tracker, undefined, `Jira could not be reached${e.code ? ` (${e.code})` : ''}: ${e.message ?? 'network error'}`);
  const data = typeof e.response === 'object' ? e.response?.data : undefined;
  return errorFromStatus(tracker, status, `Jira answered ${status}: ${jiraMessage(data)}`, e.cause?.response?.headers?.['retry-after']);
}
