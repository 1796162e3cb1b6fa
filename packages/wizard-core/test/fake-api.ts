import type { ConnectionView, InvitationPreview, ProbeDestinationResponse } from '@exalate/contract';
import type { AdminApi, ApiResult, ClientError } from '../src/index.js';

type Answers<A> = Partial<{ [M in keyof A]: A[M] extends (...args: infer P) => infer R ? (...args: P) => Awaited<R> : never }>;

/** An API (AdminApi by default) whose answers each test scripts; every call is recorded. */
export function fakeApi<A extends object = AdminApi>(answers: NoInfer<Answers<A>>) {
  type Method = keyof A;
  const calls: Array<{ method: Method; args: unknown[] }> = [];
  const api = new Proxy({} as A, {
    get:
      (_t, method: string | symbol) =>
      async (...args: unknown[]) => {
        calls.push({ method: method as Method, args });
        const answer = answers[method as Method] as ((...a: unknown[]) => unknown) | undefined;
        if (!answer) throw new Error(`unexpected call ${String(method)}`);
        return answer(...args);
      },
  });
  return { api, calls };
}

export const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
export const err = (error: ClientError): ApiResult<never> => ({ ok: false, error });

export const probe: ProbeDestinationResponse = {
  url: 'https://partner.example.com/nodes/ado',
  nodeType: 'AZURE_DEVOPS',
  trackerUrl: 'https://dev.azure.com/partner',
  pollOnly: false,
  protocolVersion: 1,
  modes: ['BASIC', 'SCRIPT'],
};

export function connection(overrides: Partial<ConnectionView> = {}): ConnectionView {
  return {
    id: '3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77',
    name: 'jira_to_ado',
    description: '',
    mode: 'SCRIPT',
    role: 'INITIATOR',
    status: 'PENDING',
    pendingStep: 'AWAITING_ACCEPTANCE',
    statusReason: 'Waiting for the other side to accept the invitation code.',
    localShortName: 'jira',
    remoteShortName: 'ado',
    project: 'SUP',
    partner: { instanceId: null, nodeType: null, nodeUrl: null, trackerUrl: null, private: null },
    invitationExpiresAt: '2030-01-01T00:00:00.000Z',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    activatedAt: null,
    ...overrides,
  };
}

export function preview(overrides: Partial<InvitationPreview> = {}): InvitationPreview {
  return {
    connectionId: '3b0f8a5e-4d8b-4c51-9b43-1b2f0e1c9a77',
    connectionName: 'jira_to_ado',
    description: 'Escalations',
    mode: 'SCRIPT',
    localShortName: 'ado',
    remoteShortName: 'jira',
    initiator: { nodeType: 'JIRA_CLOUD', trackerUrl: 'https://acme.atlassian.net', nodeUrl: 'https://exalate.acme.com/nodes/jira', private: false },
    expiresAt: '2030-01-01T00:00:00.000Z',
    nameTaken: false,
    ...overrides,
  };
}
