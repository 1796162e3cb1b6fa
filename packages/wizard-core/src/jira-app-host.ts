// The admin session's host inside Jira Data Center, where the Exalate app's servlet stands between
// the page and the node: it knows the paired node, pairs by code, and mints one signed token per
// call for the signed-in Jira administrator (the node admits each token once). Framework-free, so
// the Jira page only renders, and this is tested without a browser.
import type { ApiErrorBody } from '@exalate/contract';
import type { AdminHost, AdminTab } from './admin-session.js';
import { AdminApiClient, type ApiResult, type ClientError } from './api-client.js';
import type { Clipboard } from './initiate-flow.js';

export interface JiraAppHostOptions {
  /** The app's servlet, e.g. https://jira.acme.com/plugins/servlet/exalate (from the page it served). */
  servletBase: string;
  clipboard: Clipboard;
  initialTab?: AdminTab;
  fetch?: typeof fetch;
}

/**
 * Calls the servlet makes for its own page only. Same origin with Jira's session cookie; the
 * `X-Atlassian-Token: no-check` header is Jira's XSRF convention: a cross-site form cannot send
 * it, and a cross-origin script cannot send it without a preflight the servlet never answers.
 */
export class JiraAppClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(options: { servletBase: string; fetch?: typeof fetch }) {
    this.base = options.servletBase.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? ((...args) => fetch(...args));
  }

  settings = () => this.call<{ nodeUrl: string | null }>('GET', '/api/settings');
  pair = (pairingCode: string) => this.call<{ nodeUrl: string }>('POST', '/api/pair', { pairingCode });
  token = () => this.call<{ token: string; expiresIn: number }>('POST', '/api/token', {});

  private async call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    let response: Response;
    try {
      response = await this.doFetch(this.base + path, {
        method,
        credentials: 'same-origin',
        headers: { accept: 'application/json', 'X-Atlassian-Token': 'no-check', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { ok: false, error: { code: 'NETWORK_ERROR', message: 'Jira did not answer. Check your connection and reload the page.' } };
    }
    let json: unknown = null;
    try {
      json = await response.json();
    } catch {
      // Jira's own login page or an error page instead of the app's JSON: the session ended.
      return {
        ok: false,
        error: {
          code: 'UNAUTHENTICATED',
          status: response.status,
          message: 'Jira answered with a page instead of the Exalate app. Your Jira session may have ended: reload the page and sign in.',
        },
      };
    }
    if (!response.ok) {
      const error = (json as Partial<ApiErrorBody> | null)?.error;
      if (error && typeof error.code === 'string') return { ok: false, error: { ...error, status: response.status } as ClientError };
      return { ok: false, error: { code: 'UNEXPECTED_RESPONSE', status: response.status, message: `The Exalate app answered HTTP ${response.status}.` } };
    }
    return { ok: true, value: json as T };
  }
}

export function jiraAppHost(options: JiraAppHostOptions): AdminHost {
  const app = new JiraAppClient(options);
  return {
    nodeType: 'JIRA_SERVER',
    clipboard: options.clipboard,
    ...(options.initialTab ? { initialTab: options.initialTab } : {}),
    async loadSettings() {
      const settings = await app.settings();
      if (!settings.ok) throw new Error(settings.error.message);
      return settings.value.nodeUrl ? { nodeUrl: settings.value.nodeUrl } : null;
    },
    pair: (code) => app.pair(code),
    api(nodeUrl) {
      return new AdminApiClient({
        nodeUrl,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        // One token per call: the node admits each `jti` once.
        authorization: async () => {
          const token = await app.token();
          if (!token.ok) throw new Error(token.error.message);
          return `Bearer ${token.value.token}`;
        },
      });
    },
  };
}
