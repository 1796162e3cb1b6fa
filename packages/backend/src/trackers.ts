import { AdoConnector, JiraConnector, ServiceNowConnector, type TrackerConnector } from '@exalate/connectors';
import type { NodeType } from '@exalate/contract';

export const TRACKER_KINDS = ['azure-devops', 'jira-cloud', 'jira-datacenter', 'servicenow'] as const;
export type TrackerKind = (typeof TRACKER_KINDS)[number];

/**
 * The tracker behind a node and the credentials the sync acts with. One shape for every kind:
 * - azure-devops: `url` is the organization (https://dev.azure.com/acme), `secret` a PAT with
 *   Work Items (read & write) and Service Hooks scopes.
 * - jira-cloud: `user` is the account email, `secret` its API token.
 * - jira-datacenter: `secret` is a personal access token.
 * - servicenow: `user` and `secret` are a user and password; `tables` are offered as projects.
 */
export interface TrackerConfig {
  kind: TrackerKind;
  url: string;
  user?: string;
  secret: string;
  tables?: string[];
  labelsField?: string;
  /** Register the tracker's webhooks for fast change detection (where it has them). Default true. */
  webhooks?: boolean;
}

export const NODE_TYPE_OF: Record<TrackerKind, NodeType> = {
  'azure-devops': 'AZURE_DEVOPS',
  'jira-cloud': 'JIRA_CLOUD',
  'jira-datacenter': 'JIRA_SERVER',
  servicenow: 'SERVICENOW',
};

export function createConnector(t: TrackerConfig): TrackerConnector {
  switch (t.kind) {
    case 'azure-devops':
      return new AdoConnector({ organizationUrl: t.url, personalAccessToken: t.secret });
    case 'jira-cloud':
      return new JiraConnector({ baseUrl: t.url, deployment: 'cloud', auth: { email: t.user ?? '', apiToken: t.secret } });
    case 'jira-datacenter':
      return new JiraConnector({ baseUrl: t.url, deployment: 'datacenter', auth: { personalAccessToken: t.secret } });
    case 'servicenow':
      return new ServiceNowConnector({
        instanceUrl: t.url,
        auth: t.user ? { username: t.user, password: t.secret } : { bearerToken: t.secret },
        ...(t.tables ? { tables: t.tables } : {}),
        ...(t.labelsField ? { labelsField: t.labelsField } : {}),
      });
  }
}
