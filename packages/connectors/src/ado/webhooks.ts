import { timingSafeEqual } from 'node:crypto';
import { ConnectorError, type ItemEvent } from '../connector.js';

/** The Service Hooks events a connection listens to, and what each means for us. */
export const ADO_EVENTS: Record<string, ItemEvent['kind']> = {
  'workitem.created': 'created',
  'workitem.updated': 'updated',
  'workitem.commented': 'commented',
  'workitem.deleted': 'deleted',
};

/** The user name our subscriptions send with the secret as basic-auth password. */
export const HOOK_USER = 'exalate';

/**
 * The subscription body for one event. https://learn.microsoft.com/rest/api/azure/devops/hooks/subscriptions/create?view=azure-devops-rest-7.1
 *
 * The whole resource is asked for: only it carries the work item's revision (`rev`), by which the
 * node recognises the webhooks of its own writes without reading the item ("minimal" keeps the
 * ids alone, and is the default of a subscription without a project). The messages are not used.
 */
export function subscriptionBody(eventType: string, url: string, secret: string, projectId: string | undefined): Record<string, unknown> {
  return {
    publisherId: 'tfs',
    eventType,
    resourceVersion: '1.0',
    consumerId: 'webHooks',
    consumerActionId: 'httpRequest',
    publisherInputs: projectId ? { projectId } : {},
    consumerInputs: {
      url,
      basicAuthUsername: HOOK_USER,
      basicAuthPassword: secret,
      resourceDetailsToSend: 'all',
      messagesToSend: 'none',
      detailedMessagesToSend: 'none',
    },
  };
}

/** Whether a Service Hooks call carries our subscription's basic-auth secret (a header: no body needed). */
export function adoWebhookAuthorized(headers: Record<string, string | undefined>, secret: string): boolean {
  const expected = Buffer.from(`Basic ${Buffer.from(`${HOOK_USER}:${secret}`).toString('base64')}`);
  const given = Buffer.from(headers['authorization'] ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The work item a Service Hooks event is about; checks the basic-auth secret first. */
export function parseAdoWebhook(body: unknown, headers: Record<string, string | undefined>, secret: string): ItemEvent[] {
  if (!adoWebhookAuthorized(headers, secret)) {
    throw new ConnectorError('AUTH_FAILED', 'This webhook call does not carry the subscription secret; it was not sent by our Azure DevOps subscription.', {
      tracker: 'AZURE_DEVOPS',
      status: 401,
    });
  }
  const event = body as { eventType?: string; resource?: { id?: number; workItemId?: number; rev?: number } };
  const kind = event.eventType ? ADO_EVENTS[event.eventType] : undefined;
  if (!kind || !event.resource) return [];
  // workitem.updated carries the update (its workItemId, and the revision it made); the others carry the work item itself.
  const id = kind === 'updated' ? event.resource.workItemId : event.resource.id;
  const rev = event.resource.rev;
  return id === undefined ? [] : [{ kind, key: String(id), ...(typeof rev === 'number' && kind !== 'deleted' ? { version: String(rev) } : {}) }];
}
