// The admin session's host inside a ServiceNow instance, where the Exalate application's Scripted
// REST API stands between the page and the node: it knows the paired node, pairs by code, and
// forwards each admin API call server to server with the instance's key, after checking the
// signed-in user's role. The page sends only ServiceNow's own session token (`X-UserToken`, the
// platform's `g_ck`) with the session cookie. Framework-free, tested without a browser.
import type { ApiErrorBody } from '@exalate/contract';
import type { AdminHost, AdminTab } from './admin-session.js';
import { AdminApiClient, type ApiResult, type ClientError } from './api-client.js';
import type { Clipboard } from './initiate-flow.js';

export interface ServiceNowAppHostOptions {
  /** The application's Scripted REST API, e.g. /api/x_exa_sync/exalate (same origin as the page). */
  apiBase: string;
  /** The session's token, as ServiceNow gives every page (`window.g_ck`). */
  userToken: () => string;
  clipboard: Clipboard;
  initialTab?: AdminTab;
  fetch?: typeof fetch;
}

/** The table new records from a partner go to until Configure sync says otherwise. */
export const SERVICENOW_INCOMING_TABLE = 'incident';

export interface ServiceNowAppSettings {
  nodeUrl: string | null;
  pairedAt: string | null;
}

/** The application's own calls (settings and pairing), on the instance's origin with its session. */
export class ServiceNowAppClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: Pick<ServiceNowAppHostOptions, 'apiBase' | 'userToken' | 'fetch'>) {
    this.base = options.apiBase.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? ((...args) => fetch(...args));
  }

  settings = () => this.call<ServiceNowAppSettings>('GET', '/settings');
  pair = (pairingCode: string) => this.call<{ nodeUrl: string }>('POST', '/pair', { pairingCode });

  /** Where the application forwards a call of the node's admin API (`/connections`, …). */
  forwardUrl(path: string): string {
    return `${this.base}/node?path=${encodeURIComponent(path)}`;
  }

  /**
   * The same-origin fetch every call goes through: the session cookie and the user token. The
   * platform's own refusals (no role, no session) are put in the node's error shape, so the admin
   * reads ServiceNow's reason wherever the call came from.
   */
  readonly fetch: typeof fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('X-UserToken', this.options.userToken());
    const response = await this.doFetch(input, { ...init, headers, credentials: 'same-origin' });
    if (response.ok) return response;
    let json: unknown;
    try {
      json = await response.clone().json();
    } catch {
      return response;
    }
    const error = serviceNowError(json, response.status);
    return new Response(JSON.stringify({ error }), { status: response.status, headers: { 'content-type': 'application/json' } });
  };

  private async call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    let response: Response;
    try {
      response = await this.fetch(this.base + path, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { ok: false, error: { code: 'NETWORK_ERROR', message: 'ServiceNow did not answer. Check your connection and reload the page.' } };
    }
    if (!response.ok && response.headers.get('content-type')?.includes('json'))
      return { ok: false, error: serviceNowError(await response.json(), response.status) };
    let json: unknown = null;
    try {
      json = await response.json();
    } catch {
      return {
        ok: false,
        error: {
          code: 'UNAUTHENTICATED',
          status: response.status,
          message: 'ServiceNow answered with a page instead of the Exalate application. Your session may have ended: reload the page and sign in.',
        },
      };
    }
    if (!response.ok) return { ok: false, error: serviceNowError(json, response.status) };
    return { ok: true, value: unwrap(json) as T };
  }
}

/** A Scripted REST API's own answers come wrapped in `{ result: … }`; forwarded ones are the node's JSON. */
function unwrap(json: unknown): unknown {
  return json && typeof json === 'object' && 'result' in json ? (json as { result: unknown }).result : json;
}

/**
 * The error of a failed call: the application's and the node's `{ error: { code, message } }`, or the
 * platform's own `{ error: { message, detail }, status: 'failure' }` (no role, no session).
 */
function serviceNowError(json: unknown, status: number): ClientError {
  const error = (json as Partial<ApiErrorBody> | null)?.error as { code?: unknown; message?: unknown; detail?: unknown } | undefined;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') return { ...(error as ClientError), status };
  if (error && typeof error.message === 'string') {
    const detail = typeof error.detail === 'string' && error.detail ? ` ${error.detail}` : '';
    const code = status === 401 || status === 403 ? 'UNAUTHENTICATED' : 'UNEXPECTED_RESPONSE';
    return { code, status, message: `ServiceNow: ${error.message}.${detail}`.replace(/\.\./g, '.') };
  }
  return { code: 'UNEXPECTED_RESPONSE', status, message: `The Exalate application answered HTTP ${status}.` };
}

export function serviceNowAppHost(options: ServiceNowAppHostOptions): AdminHost {
  const app = new ServiceNowAppClient(options);
  return {
    nodeType: 'SERVICENOW',
    clipboard: options.clipboard,
    incomingProject: SERVICENOW_INCOMING_TABLE,
    ...(options.initialTab ? { initialTab: options.initialTab } : {}),
    async loadSettings() {
      const settings = await app.settings();
      if (!settings.ok) throw new Error(settings.error.message);
      return settings.value.nodeUrl ? { nodeUrl: settings.value.nodeUrl } : null;
    },
    pair: (code) => app.pair(code),
    api(nodeUrl) {
      // nodeUrl names the node on screen; every call goes to the instance, which holds the key.
      return new AdminApiClient({ nodeUrl, fetch: app.fetch, endpoint: (path) => app.forwardUrl(path) });
    },
  };
}
