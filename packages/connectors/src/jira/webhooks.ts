import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConnectorError, type ItemEvent, type WebhookRequest } from '../connector.js';

export const JIRA_EVENTS: Record<string, ItemEvent['kind']> = {
  'jira:issue_created': 'created',
  'jira:issue_updated': 'updated',
  'jira:issue_deleted': 'deleted',
  comment_created: 'commented',
  comment_updated: 'commented',
};

/**
 * Checks X-Hub-Signature (HMAC-SHA256 of the raw body with the webhook secret) and names the issue.
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
 */
export function parseJiraWebhook(request: WebhookRequest, secret: string, tracker: 'JIRA_CLOUD' | 'JIRA_SERVER'): ItemEvent[] {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(request.rawBody).digest('hex')}`);
  const given = Buffer.from(request.headers['x-hub-signature'] ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ConnectorError('AUTH_FAILED', 'This webhook call is not signed with the subscription secret; it was not sent by our Jira webhook.', {
      tracker,
      status: 401,
    });
  }
  const event = request.body as { webhookEvent?: string; issue?: { key?: string; fields?: { updated?: string } }; comment?: { id?: string } };
  const kind = event.webhookEvent ? JIRA_EVENTS[event.webhookEvent] : undefined;
  if (!kind || !event.issue?.key) return [];
  // The issue's change time after the event, as our items' `updated` reads (ISO 8601). Editing a
  // comment leaves the issue's time as it was, so that event carries none.
  const updated = event.issue.fields?.updated ? Date.parse(event.issue.fields.updated) : Number.NaN;
  const reliable = !Number.isNaN(updated) && kind !== 'deleted' && event.webhookEvent !== 'comment_updated';
  const commentId = kind === 'commented' && event.comment?.id ? String(event.comment.id) : undefined;
  return [{ kind, key: event.issue.key, ...(reliable ? { version: new Date(updated).toISOString() } : {}), ...(commentId ? { commentId } : {}) }];
}
