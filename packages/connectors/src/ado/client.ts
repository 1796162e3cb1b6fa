import type { WebApi } from 'azure-devops-node-api';
import type { ICoreApi } from 'azure-devops-node-api/CoreApi.js';
import type { IWorkItemTrackingApi } from 'azure-devops-node-api/WorkItemTrackingApi.js';
import { ConnectorError, errorFromStatus } from '../connector.js';

export interface AdoConnection {
  /** https://dev.azure.com/{organization} (or a collection URL on Azure DevOps Server). */
  organizationUrl: string;
  /** A personal access token with Work Items (read & write) and Service Hooks scopes. */
  personalAccessToken: string;
  /** Per request; the service's own limit is far longer. */
  timeoutMs?: number;
}

/**
 * HTTP to Azure DevOps, and nothing else: the official client for what it covers, plain REST for
 * Service Hooks (which it does not), and one mapping of the service's errors to ours.
 */
export class AdoClient {
  private api: Promise<WebApi> | null = null;
  private wit: Promise<IWorkItemTrackingApi> | null = null;
  private core: Promise<ICoreApi> | null = null;

  constructor(readonly connection: AdoConnection) {}

  /** The Authorization header the client sends (for the rule's httpClient, rest-passthrough.ts). */
  get authorization(): string {
    return `Basic ${Buffer.from(`:${this.connection.personalAccessToken}`).toString('base64')}`;
  }

  /** The official client, loaded on first use: a node only loads the client of its own tracker. */
  private webApi(): Promise<WebApi> {
    this.api ??= import('azure-devops-node-api').then(
      ({ WebApi, getPersonalAccessTokenHandler }) =>
        // The client's own retries stay off: the sync queue retries with backoff and honours Retry-After.
        new WebApi(this.connection.organizationUrl.replace(/\/+$/, ''), getPersonalAccessTokenHandler(this.connection.personalAccessToken), {
          socketTimeout: this.connection.timeoutMs ?? 30_000,
          allowRetries: false,
          // One connection per request would cost a TCP handshake on every call.
          keepAlive: true,
        }),
    );
    return this.api;
  }

  /** The Work Item Tracking client; its resource areas are looked up once. */
  witApi(): Promise<IWorkItemTrackingApi> {
    this.wit ??= this.webApi()
      .then((api) => api.getWorkItemTrackingApi())
      .catch((error: unknown) => {
        this.wit = null;
        throw mapError(error);
      });
    return this.wit;
  }

  coreApi(): Promise<ICoreApi> {
    this.core ??= this.webApi()
      .then((api) => api.getCoreApi())
      .catch((error: unknown) => {
        this.core = null;
        throw mapError(error);
      });
    return this.core;
  }

  /** Runs a client call, mapping its failures to ConnectorError. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw mapError(error);
    }
  }

  /** Plain REST with the PAT, for APIs the official client lacks. */
  async rest<T>(method: string, path: string, body?: unknown, apiVersion = '7.1'): Promise<T> {
    const url = `${this.connection.organizationUrl.replace(/\/+$/, '')}${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.connection.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw errorFromStatus('AZURE_DEVOPS', undefined, `Azure DevOps could not be reached: ${(error as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw errorFromStatus('AZURE_DEVOPS', res.status, serviceMessage(text, res.status), res.headers.get('retry-after'));
    return (text ? JSON.parse(text) : null) as T;
  }
}

function serviceMessage(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as { message?: string };
    if (body.message) return `Azure DevOps answered ${status}: ${body.message}`;
  } catch {
    /* not JSON */
  }
  return `Azure DevOps answered ${status}.`;
}

export function mapError(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const e = error as { statusCode?: number; message?: string; responseHeaders?: Record<string, string | string[]>; code?: string };
  if (e.statusCode === undefined) {
    return errorFromStatus('AZURE_DEVOPS', undefined, `Azure DevOps could not be reached${e.code ? ` (${e.code})` : ''}: ${e.message ?? 'network error'}`);
  }
  return errorFromStatus('AZURE_DEVOPS', e.statusCode, `Azure DevOps answered ${e.statusCode}: ${e.message ?? ''}`.trim(), e.responseHeaders?.['retry-after']);
}
