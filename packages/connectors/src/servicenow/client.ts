import type { Readable } from 'node:stream';
import { errorFromStatus } from '../connector.js';

export interface ServiceNowConnection {
  /** https://acme.service-now.com */
  instanceUrl: string;
  auth: { username: string; password: string } | { bearerToken: string };
  timeoutMs?: number;
}

export type SnRecord = Record<string, unknown>;

/**
 * A small typed client of the ServiceNow Table and Attachment APIs (there is no official Node
 * client). HTTP only: paths, auth, JSON, and ServiceNow's error body mapped to ConnectorError.
 */
export class ServiceNowClient {
  /** The Authorization header the client sends (for the rule's httpClient, rest-passthrough.ts). */
  readonly authorization: string;
  readonly base: string;

  constructor(readonly connection: ServiceNowConnection) {
    this.base = connection.instanceUrl.replace(/\/+$/, '');
    this.authorization =
      'password' in connection.auth
        ? `Basic ${Buffer.from(`${connection.auth.username}:${connection.auth.password}`).toString('base64')}`
        : `Bearer ${connection.auth.bearerToken}`;
  }

  async request(
    method: string,
    path: string,
    init: { query?: Record<string, string>; json?: unknown; body?: Readable | Buffer; contentType?: string } = {},
  ): Promise<Response> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.contentType ? { 'content-type': init.contentType } : {}),
        },
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
        // A stream body is sent as it is read; fetch needs duplex for that.
        ...(init.body !== undefined ? { body: init.body as never, duplex: 'half' } : {}),
        signal: AbortSignal.timeout(this.connection.timeoutMs ?? 30_000),
      } as RequestInit);
    } catch (error) {
      throw errorFromStatus('SERVICENOW', undefined, `ServiceNow could not be reached: ${(error as Error).message}`);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let message = `ServiceNow answered ${res.status}`;
      try {
        const body = JSON.parse(text) as { error?: { message?: string; detail?: string | null } };
        if (body.error?.message) message += `: ${body.error.message}${body.error.detail ? ` (${body.error.detail})` : ''}`;
      } catch {
        /* not JSON */
      }
      throw errorFromStatus('SERVICENOW', res.status, message, res.headers.get('retry-after'));
    }
    return res;
  }

  /** https://www.servicenow.com/docs/r/api-reference/rest-apis/c_TableAPI.html#title_table-GET */
  async list(table: string, query: Record<string, string>): Promise<{ records: SnRecord[]; total: number }> {
    const res = await this.request('GET', `/api/now/table/${table}`, { query });
    const body = (await res.json()) as { result: SnRecord[] };
    return { records: body.result, total: Number(res.headers.get('x-total-count') ?? body.result.length) };
  }

  /** https://www.servicenow.com/docs/r/api-reference/rest-apis/c_TableAPI.html#title_table-POST */
  async insert(table: string, values: Record<string, unknown>): Promise<SnRecord> {
    return (
      (await (await this.request('POST', `/api/now/table/${table}`, { json: values, query: { sysparm_exclude_reference_link: 'true' } })).json()) as {
        result: SnRecord;
      }
    ).result;
  }

  /** https://www.servicenow.com/docs/r/api-reference/rest-apis/c_TableAPI.html#title_table-PATCH */
  async patch(table: string, sysId: string, values: Record<string, unknown>): Promise<SnRecord> {
    return (
      (await (await this.request('PATCH', `/api/now/table/${table}/${sysId}`, { json: values, query: { sysparm_exclude_reference_link: 'true' } })).json()) as {
        result: SnRecord;
      }
    ).result;
  }
}
