import type {
  AcceptInvitationRequest,
  AcceptInvitationResponse,
  ApiErrorBody,
  ConnectionListResponse,
  ConnectionView,
  ErrorCode,
  InitiateConnectionRequest,
  InitiateConnectionResponse,
  InvitationCodeResponse,
  InvitationPreview,
  NodeInfo,
  ProbeDestinationResponse,
  ProjectListResponse,
  Result,
  BulkSyncView,
  SaveSyncRulesRequest,
  SaveTriggerRequest,
  SyncItemView,
  SyncQueueView,
  SyncRulesView,
  TriggerPreview,
  TriggerPreviewRequest,
  TriggerView,
  NodeSettingsView,
  ItemTypeList,
  PairingCodeView,
} from '@exalate/contract';

/** An admin API failure, or a failure to talk to it at all. */
export interface ClientError {
  code: ErrorCode | 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE';
  message: string;
  fields?: Record<string, string>;
  status?: number;
}

export type ApiResult<T> = Result<T, ClientError>;

/** Everything the flows need from the backend. Views never call the API themselves. */
export interface AdminApi {
  nodeInfo(): Promise<ApiResult<NodeInfo>>;
  listProjects(): Promise<ApiResult<ProjectListResponse>>;
  listConnections(): Promise<ApiResult<ConnectionListResponse>>;
  getConnection(id: string): Promise<ApiResult<ConnectionView>>;
  probeDestination(url: string): Promise<ApiResult<ProbeDestinationResponse>>;
  initiateConnection(request: InitiateConnectionRequest): Promise<ApiResult<InitiateConnectionResponse>>;
  getInvitationCode(id: string): Promise<ApiResult<InvitationCodeResponse>>;
  revokeInvitation(id: string): Promise<ApiResult<null>>;
  previewInvitation(code: string): Promise<ApiResult<InvitationPreview>>;
  acceptInvitation(request: AcceptInvitationRequest): Promise<ApiResult<AcceptInvitationResponse>>;
  deactivateConnection(id: string): Promise<ApiResult<ConnectionView>>;
  activateConnection(id: string): Promise<ApiResult<ConnectionView>>;
  deleteConnection(id: string): Promise<ApiResult<null>>;
}

/** Configure sync: rules, triggers and the queue of one connection. */
export interface SyncAdminApi {
  getConnection(id: string): Promise<ApiResult<ConnectionView>>;
  /** What incoming items can be created in (projects, ServiceNow tables). */
  listProjects(): Promise<ApiResult<ProjectListResponse>>;
  setProject(id: string, project: string): Promise<ApiResult<ConnectionView>>;
  getRules(id: string): Promise<ApiResult<SyncRulesView>>;
  listItemTypes(): Promise<ApiResult<ItemTypeList>>;
  saveRules(id: string, request: SaveSyncRulesRequest): Promise<ApiResult<SyncRulesView>>;
  listTriggers(id: string): Promise<ApiResult<{ triggers: TriggerView[] }>>;
  previewTrigger(id: string, request: TriggerPreviewRequest): Promise<ApiResult<TriggerPreview>>;
  createTrigger(id: string, request: SaveTriggerRequest): Promise<ApiResult<TriggerView>>;
  updateTrigger(id: string, triggerId: string, request: SaveTriggerRequest): Promise<ApiResult<TriggerView>>;
  deleteTrigger(id: string, triggerId: string): Promise<ApiResult<null>>;
  bulkSync(id: string, triggerId: string): Promise<ApiResult<BulkSyncView>>;
  getBulkSync(id: string, bulkId: string): Promise<ApiResult<BulkSyncView>>;
  syncNow(id: string, key: string): Promise<ApiResult<{ key: string }>>;
  getQueue(id: string): Promise<ApiResult<SyncQueueView>>;
  retryItem(id: string, key: string): Promise<ApiResult<SyncItemView>>;
  retryFailed(id: string): Promise<ApiResult<{ retried: number }>>;
}

/** General settings of the node (the tracker credential; secrets go in, never come out). */
export interface NodeSettingsApi {
  getSettings(): Promise<ApiResult<NodeSettingsView>>;
  setTrackerCredential(secret: string): Promise<ApiResult<NodeSettingsView>>;
  clearTrackerCredential(): Promise<ApiResult<NodeSettingsView>>;
}

export interface AdminApiClientOptions {
  /** The node URL, e.g. https://exalate.acme.com/nodes/jira */
  nodeUrl: string;
  /** The Authorization header value for each call (a bearer token, a tracker app token, …). */
  authorization?: () => Promise<string | null> | string | null;
  /** More headers for each call (e.g. the Azure DevOps hub's access token, which proves the organization). */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  fetch?: typeof fetch;
  /**
   * Where a call to `path` (e.g. `/connections`) goes, when not straight to the node: the ServiceNow
   * application forwards the page's calls through the instance.
   */
  endpoint?: (path: string) => string;
}

/** The typed client of the admin API (docs/api/openapi.yaml). Failures come back as values. */
export class AdminApiClient implements AdminApi, SyncAdminApi, NodeSettingsApi {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: AdminApiClientOptions) {
    this.base = `${options.nodeUrl.replace(/\/+$/, '')}/api/v1`;
    this.doFetch = options.fetch ?? ((...args) => fetch(...args));
  }

  nodeInfo = () => this.call<NodeInfo>('GET', '/node-info');
  listProjects = () => this.call<ProjectListResponse>('GET', '/projects');
  listConnections = () => this.call<ConnectionListResponse>('GET', '/connections');
  getConnection = (id: string) => this.call<ConnectionView>('GET', `/connections/${encodeURIComponent(id)}`);
  probeDestination = (url: string) => this.call<ProbeDestinationResponse>('POST', '/destinations/probe', { url });
  initiateConnection = (request: InitiateConnectionRequest) => this.call<InitiateConnectionResponse>('POST', '/connections', request);
  getInvitationCode = (id: string) => this.call<InvitationCodeResponse>('GET', `/connections/${encodeURIComponent(id)}/invitation`);
  revokeInvitation = (id: string) => this.call<null>('POST', `/connections/${encodeURIComponent(id)}/revoke-invitation`, {});
  previewInvitation = (code: string) => this.call<InvitationPreview>('POST', '/invitations/preview', { code });
  acceptInvitation = (request: AcceptInvitationRequest) => this.call<AcceptInvitationResponse>('POST', '/invitations/accept', request);
  deactivateConnection = (id: string) => this.call<ConnectionView>('POST', `/connections/${encodeURIComponent(id)}/deactivate`, {});
  activateConnection = (id: string) => this.call<ConnectionView>('POST', `/connections/${encodeURIComponent(id)}/activate`, {});
  setProject = (id: string, project: string) => this.call<ConnectionView>('PUT', `/connections/${encodeURIComponent(id)}/project`, { project });
  deleteConnection = (id: string) => this.call<null>('DELETE', `/connections/${encodeURIComponent(id)}`);

  listItemTypes = () => this.call<ItemTypeList>('GET', '/item-types');
  getRules = (id: string) => this.call<SyncRulesView>('GET', `${this.sync(id)}/rules`);
  saveRules = (id: string, request: SaveSyncRulesRequest) => this.call<SyncRulesView>('PUT', `${this.sync(id)}/rules`, request);
  listTriggers = (id: string) => this.call<{ triggers: TriggerView[] }>('GET', `${this.sync(id)}/triggers`);
  previewTrigger = (id: string, request: TriggerPreviewRequest) => this.call<TriggerPreview>('POST', `${this.sync(id)}/triggers/preview`, request);
  createTrigger = (id: string, request: SaveTriggerRequest) => this.call<TriggerView>('POST', `${this.sync(id)}/triggers`, request);
  updateTrigger = (id: string, triggerId: string, request: SaveTriggerRequest) =>
    this.call<TriggerView>('PUT', `${this.sync(id)}/triggers/${encodeURIComponent(triggerId)}`, request);
  deleteTrigger = (id: string, triggerId: string) => this.call<null>('DELETE', `${this.sync(id)}/triggers/${encodeURIComponent(triggerId)}`);
  bulkSync = (id: string, triggerId: string) => this.call<BulkSyncView>('POST', `${this.sync(id)}/triggers/${encodeURIComponent(triggerId)}/bulk-sync`, {});
  getBulkSync = (id: string, bulkId: string) => this.call<BulkSyncView>('GET', `${this.sync(id)}/bulk-syncs/${encodeURIComponent(bulkId)}`);
  syncNow = (id: string, key: string) => this.call<{ key: string }>('POST', `${this.sync(id)}/sync-now`, { key });
  getQueue = (id: string) => this.call<SyncQueueView>('GET', `${this.sync(id)}/queue`);
  retryItem = (id: string, key: string) => this.call<SyncItemView>('POST', `${this.sync(id)}/items/${encodeURIComponent(key)}/retry`, {});
  retryFailed = (id: string) => this.call<{ retried: number }>('POST', `${this.sync(id)}/retry-failed`, {});

  getSettings = () => this.call<NodeSettingsView>('GET', '/settings');
  setTrackerCredential = (secret: string) => this.call<NodeSettingsView>('PUT', '/settings/tracker-credential', { secret });
  clearTrackerCredential = () => this.call<NodeSettingsView>('DELETE', '/settings/tracker-credential');
  /** The node operator's one-time code for the tracker's app (Jira Data Center); the admin pastes it there. */
  issuePairingCode = () => this.call<PairingCodeView>('POST', '/settings/tracker-app/pairing-code', {});

  private sync(id: string): string {
    return `/connections/${encodeURIComponent(id)}`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let auth: string | null | undefined;
    try {
      Object.assign(headers, await this.options.headers?.());
      auth = await this.options.authorization?.();
    } catch (error) {
      return {
        ok: false,
        error: { code: 'UNAUTHENTICATED', message: `Could not get a sign-in token from the host page: ${(error as Error).message}. Reload the page.` },
      };
    }
    if (auth) headers['authorization'] = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      const url = this.options.endpoint ? this.options.endpoint(path) : this.base + path;
      response = await this.doFetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      return {
        ok: false,
        error: {
          code: 'NETWORK_ERROR',
          message: 'Could not reach the Exalate node. Check that it is running and that its URL in the settings is right, then try again.',
        },
      };
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      return {
        ok: false,
        error: {
          code: 'UNEXPECTED_RESPONSE',
          status: response.status,
          message: `The Exalate node answered HTTP ${response.status} with something that is not JSON. Is the node URL right?`,
        },
      };
    }
    if (!response.ok) {
      const error = (json as Partial<ApiErrorBody> | null)?.error;
      if (error && typeof error.code === 'string') return { ok: false, error: { ...error, status: response.status } };
      return { ok: false, error: { code: 'UNEXPECTED_RESPONSE', status: response.status, message: `The Exalate node answered HTTP ${response.status}.` } };
    }
    return { ok: true, value: json as T };
  }
}
