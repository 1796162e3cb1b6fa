import {
  NodeInfoSchema,
  PeerAcceptResponseSchema,
  PeerClaimResponseSchema,
  PeerPollResponseSchema,
  type ApiErrorBody,
  type ErrorCode,
  type NodeInfo,
  type PeerAcceptRequest,
  type PeerAcceptResponse,
  type PeerClaimRequest,
  type PeerClaimResponse,
  type PeerNotifyRequest,
  type PeerPollResponse,
  type Result,
} from '@exalate/contract';
import type { z } from 'zod';
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

  /** https://…/api/v1/node-info (our own API, docs/api/openapi.yaml) */
  async nodeInfo(nodeUrl: string): Promise<Result<NodeInfo, PeerCallError>> {
    return this.call(nodeUrl, 'GET', '/api/v1/node-info', undefined, NodeInfoSchema);
  }

  async accept(initiatorUrl: string, request: PeerAcceptRequest): Promise<Result<PeerAcceptResponse, PeerCallError>> {
    return this.call(initiatorUrl, 'POST', `${PEER_API}/handshake/accept`, request, PeerAcceptResponseSchema);
  }

  async claim(acceptorUrl: string, request: PeerClaimRequest): Promise<Result<PeerClaimResponse, PeerCallError>> {
    return this.call(acceptorUrl, 'POST', `${PEER_API}/handshake/claim`, request, PeerClaimResponseSchema);
  }

  async confirm(partnerUrl: string, id: SigningIdentity): Promise<Result<null, PeerCallError>> {
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/confirm`, {}, null, id);
  }

  async poll(partnerUrl: string, id: SigningIdentity, waitMs: number, signal?: AbortSignal): Promise<Result<PeerPollResponse, PeerCallError>> {
    return this.call(partnerUrl, 'POST', `${PEER_API}/connections/${id.connectionId}/poll`, { waitMs }, PeerPollResponseSchema, id, waitMs + this.timeoutMs, signal);
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
    const raw = await response.text().catch(() => '');
    let json: unknown = undefined;
    try {
      json = raw === '' ? null : JSON.parse(raw);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const err = (json as Partial<ApiErrorBody> | undefined)?.error;
      if (err && typeof err.code === 'string' && typeof err.message === 'string') {
        return { ok: false, error: { kind: 'rejected', status: response.status, code: err.code, message: err.message } };
      }
      return { ok: false, error: { kind: 'bad-answer', status: response.status, message: `it answered HTTP ${response.status}${json === undefined ? ' with a body that is not JSON' : ''}` } };
    }
    if (schema === null) return { ok: true, value: null as T };
    if (json === undefined) return { ok: false, error: { kind: 'bad-answer', status: response.status, message: 'it answered with a body that is not JSON' } };
    const parsed = schema.safeParse(json);
    if (!parsed.success) return { ok: false, error: { kind: 'bad-answer', status: response.status, message: 'its answer does not have the shape an Exalate node sends' } };
    return { ok: true, value: parsed.data };
  }
}
