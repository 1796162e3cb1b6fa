import {
  NodeInfoSchema,
  PeerAcceptResponseSchema,
  PeerClaimResponseSchema,
  PeerEventsResponseSchema,
  PeerPollResponseSchema,
  PeerVerifyResponseSchema,
  type ApiErrorBody,
  type ErrorCode,
  type NodeInfo,
  type PeerAcceptRequest,
  type PeerAcceptResponse,
  type PeerClaimRequest,
  type PeerBlobRequest,
  type PeerClaimResponse,
  type PeerEventsResponse,
  type PeerNotifyRequest,
  type PeerPollResponse,
  type PeerVerifyRequest,
  type PeerVerifyResponse,
  type Result,
} from '@exalate/contract';
import type { SyncEvent } from '@exalate/contract';
import { JIRA_APP_NODE_PATH, SERVICENOW_APP_NODE_PATH, TrackerAppNodeSchema, type TrackerAppNode } from '@exalate/contract';
import { z } from 'zod';

/** The few fields of Jira's GET /rest/api/2/serverInfo that say it is a Jira (it answers without sign-in). */
const JiraServerInfoSchema = z.object({
  baseUrl: z.string(),
  version: z.string().optional(),
  serverTitle: z.string().optional(),
  deploymentType: z.string().optional(),
});
import type { PeerHttp } from '../net/peer-http.js';
import { signPeerRequest } from './jwt.js';

/** Why a call to another node did not give the expected answer. */
export type PeerCallError =
  | { kind: 'not-allowed'; message: string }
  | { kind: 'unreachable'; message: string }
  /** It answered with an Exalate error body: pass its code and message on. */
  | { kind: 'rejected'; status: number; code: ErrorCode; message: string }
  /** It answered, but not as a node would. */
  | { kind: 'bad-answer'; status: number; message: string };

/** The partner's answer that it deleted the connection (see the peer API's CONNECTION_DELETED). */
export const isDeletedByPartner = (e: PeerCallError): boolean => e.kind === 'rejected' && e.code === 'CONNECTION_DELETED';

export interface SigningIdentity {
  key: string;
  connectionId: string;
  localInstanceId: string;
  partnerInstanceId: string;
}

export const PEER_API = '/api/v1/peer';

export class PeerClient {
  constructor(
    private readonly http: PeerHttp,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Where the Exalate app inside a tracker says its node is: a Jira Data Center's at
   * {tracker}/plugins/servlet/exalate/node, else a ServiceNow instance's at its REST API's published-node.
   */
  async trackerAppNode(trackerUrl: string): Promise<Result<TrackerAppNode, PeerCallError>> {
    const jira = await this.call(trackerUrl, 'GET', JIRA_APP_NODE_PATH, undefined, TrackerAppNodeSchema);
    if (jira.ok || jira.error.kind === 'unreachable' || jira.error.kind === 'not-allowed') return jira;
    return this.call(trackerUrl, 'GET', SERVICENOW_APP_NODE_PATH, undefined, TrackerAppNodeSchema);
  }

  /** Whether a URL is a Jira's own address (its public server info), for a clear message when it has no Exalate app. */
  async jiraServerInfo(url: string): Promise<Result<{ serverTitle?: string | undefined; version?: string | undefined }, PeerCallError>> {
    return this.call(url, 'GET', '/rest/api/2/serverInfo', undefined, JiraServerInfoSchema);
  }

  /** https://…/api/v1/node-info (our own API, docs/api/openapi.yaml) */
  async nodeInfo(nodeUrl: string): Promise<Result<NodeInfo, PeerCallError>> {
    return this.call(nodeUrl, 'GET', '/api/v1/node-info', undefined, NodeInfoSchema);
  }

  async accept(initiatorUrl: string, request: PeerAcceptRequest): Promise<Result<PeerAcceptResponse, PeerCallError>> {
    return this.call(initiatorUrl, 'POST', `${PEER_API}/handshake/accept`, request, PeerAcceptResponseSchema);
  }

  /** Asks the node at the invitation's URL whether it is the one accepting (see PeerVerifyRequestSchema). */
  async verify(acceptorUrl: string, request: PeerVerifyRequest): Promise<Result<PeerVerifyResponse, PeerCallError>> {
    return this.call(acceptorUrl, 'POST', `${PEER_API}/handshake/verify`, request, PeerVerifyResponseSchema);
  }

  async claim(acceptorUrl: string, request: PeerClaimRequest): Promise<Result<PeerClaimResponse, PeerCallError>> {
    return this.call(acceptorUrl, 'POST', `${PEER_API}/handshake/claim`, request, PeerClaimResponseSchema);
  }

  async confirm(partnerUrl: string, id: SigningIdentity): Promise<Result<null, PeerCallError>> {
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/confirm`, {}, null, id);
  }

  /** `ack`: the highest event seq already stored here, so the partner can let go of it. */
  async poll(partnerUrl: string, id: SigningIdentity, waitMs: number, signal?: AbortSignal, ack?: number): Promise<Result<PeerPollResponse, PeerCallError>> {
    const body = ack === undefined ? { waitMs } : { waitMs, ack };
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/poll`, body, PeerPollResponseSchema, id, waitMs + this.timeoutMs, signal);
  }

  async sendEvents(partnerUrl: string, id: SigningIdentity, events: SyncEvent[]): Promise<Result<PeerEventsResponse, PeerCallError>> {
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/events`, { events }, PeerEventsResponseSchema, id);
  }

  async putBlob(partnerUrl: string, id: SigningIdentity, blob: PeerBlobRequest): Promise<Result<null, PeerCallError>> {
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/blobs`, blob, null, id, this.timeoutMs * 6);
  }

  /** The bytes of an attachment of the partner's item, with the sha256 the partner read them with. */
  async getAttachment(
    partnerUrl: string,
    id: SigningIdentity,
    itemKey: string,
    attachmentId: string,
  ): Promise<Result<{ content: Buffer; sha256: string }, PeerCallError>> {
    const path = `${PEER_API}/connections/${id.connectionId}/items/${encodeURIComponent(itemKey)}/attachments/${encodeURIComponent(attachmentId)}`;
    const token = await signPeerRequest(
      id.key,
      { connectionId: id.connectionId, issuer: id.localInstanceId, audience: id.partnerInstanceId },
      { method: 'GET', path, body: '' },
    );
    const sent = await this.http.request(partnerUrl + path, { method: 'GET', headers: { authorization: `Bearer ${token}` }, timeoutMs: this.timeoutMs * 6 });
    if (!sent.ok) return { ok: false, error: sent.failure };
    const { response } = sent;
    if (!response.ok) return { ok: false, error: await errorOf(response) };
    const content = Buffer.from(await response.arrayBuffer());
    const sha256 = response.headers.get('x-exalate-sha256') ?? '';
    return { ok: true, value: { content, sha256 } };
  }

  async notify(partnerUrl: string, id: SigningIdentity, message: PeerNotifyRequest): Promise<Result<null, PeerCallError>> {
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/notify`, message, null, id);
  }

  private async call<T>(
    baseUrl: string,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: z.ZodType<T> | null,
    signing?: SigningIdentity,
    timeoutMs = this.timeoutMs,
    signal?: AbortSignal,
  ): Promise<Result<T, PeerCallError>> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (signing) {
      const token = await signPeerRequest(
        signing.key,
        { connectionId: signing.connectionId, issuer: signing.localInstanceId, audience: signing.partnerInstanceId },
        { method, path, body: text },
      );
      headers['authorization'] = `Bearer ${token}`;
    }
    const sent = await this.http.request(baseUrl + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: text }),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    if (!sent.ok) return { ok: false, error: sent.failure };
    const { response } = sent;
    const json = await jsonOf(response);
    if (!response.ok) return { ok: false, error: peerError(response.status, json) };
    if (schema === null) return { ok: true, value: null as T };
    if (json === undefined) return { ok: false, error: { kind: 'bad-answer', status: response.status, message: 'it answered with a body that is not JSON' } };
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      return { ok: false, error: { kind: 'bad-answer', status: response.status, message: 'its answer does not have the shape an Exalate node sends' } };
    return { ok: true, value: parsed.data };
  }
}

function peerError(status: number, json: unknown): PeerCallError {
  const err = (json as Partial<ApiErrorBody> | undefined)?.error;
  if (err && typeof err.code === 'string' && typeof err.message === 'string') return { kind: 'rejected', status, code: err.code, message: err.message };
  return { kind: 'bad-answer', status, message: `it answered HTTP ${status}${json === undefined ? ' with a body that is not JSON' : ''}` };
}

/** The answer's body as JSON: null when empty, undefined when it is not JSON. */
async function jsonOf(response: { text(): Promise<string> }): Promise<unknown> {
  const raw = await response.text().catch(() => '');
  try {
    return raw === '' ? null : (JSON.parse(raw) as unknown);
  } catch {
    return undefined;
  }
}

async function errorOf(response: { status: number; text(): Promise<string> }): Promise<PeerCallError> {
  return peerError(response.status, await jsonOf(response));
}
