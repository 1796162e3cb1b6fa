import { randomUUID } from 'node:crypto';

/** One Jira site, Cloud (REST v3, ADF, account ids) or Data Center (REST v2, wiki markup, user names). */
export type JiraFlavor = 'cloud' | 'datacenter';

export interface JiraUser {
  accountId: string;
  /** Data Center user name (also its key). */
  name: string;
  emailAddress: string;
  displayName: string;
  active: boolean;
}

export interface JiraProject {
  id: string;
  key: string;
  name: string;
  leadId: string;
}

export interface JiraIssue {
  id: string;
  key: string;
  projectId: string;
  issueTypeId: string;
  summary: string;
  /** ADF document (cloud) or wiki markup (data center); null when empty. */
  description: unknown;
  labels: string[];
  priorityId: string;
  statusId: string;
  assigneeId: string | null;
  reporterId: string;
  creatorId: string;
  created: string;
  updated: string;
  customFields: Record<string, unknown>;
  /** The parent issue's id: an epic's child, as the `parent` field sets it (absent in older state files). */
  parentId?: string | null;
  /** Due date (YYYY-MM-DD), components, fix versions (ids of the project's) and resolution (absent in older state files). */
  duedate?: string | null;
  componentIds?: string[];
  fixVersionIds?: string[];
  resolutionId?: string | null;
}

/** A project's component or version. */
export interface JiraProjectPart {
  id: string;
  projectId: string;
  name: string;
}

export interface JiraComment {
  id: string;
  issueId: string;
  authorId: string;
  updateAuthorId: string;
  body: unknown;
  created: string;
  updated: string;
}

export interface JiraAttachment {
  id: string;
  issueId: string;
  filename: string;
  authorId: string;
  created: string;
  mimeType: string;
  /** base64, so the state file stays JSON. */
  content: string;
}

export interface JiraChangeItem {
  field: string;
  fieldtype: 'jira' | 'custom';
  fieldId: string;
  from: string | null;
  fromString: string | null;
  to: string | null;
  toString: string | null;
}

export interface JiraHistory {
  id: string;
  issueId: string;
  authorId: string;
  created: string;
  items: JiraChangeItem[];
}

export interface JiraWebhook {
  id: number;
  name: string;
  url: string;
  events: string[];
  jqlFilter: string;
  enabled: boolean;
  excludeBody: boolean;
  /** When set, deliveries carry X-Hub-Signature: sha256=HMAC(body). */
  secret: string | null;
  lastUpdated: string;
}

export interface JiraState {
  flavor: JiraFlavor;
  serverTitle: string;
  users: JiraUser[];
  /** Cloud API tokens (with the account's email) and Data Center passwords and personal access tokens → account id. */
  credentials: Array<{ kind: 'apiToken' | 'password' | 'pat'; login: string; secret: string; accountId: string }>;
  /** Data Center: the user names in jira-system-administrators (the admin pages admit only them). */
  systemAdministrators?: string[];
  projects: JiraProject[];
  issues: JiraIssue[];
  comments: JiraComment[];
  attachments: JiraAttachment[];
  histories: JiraHistory[];
  webhooks: JiraWebhook[];
  /** The site's custom fields (absent in a state file from before they were kept: CUSTOM_FIELDS). */
  customFields?: JiraCustomField[];
  /** The projects' components and versions (absent in older state files: none). */
  components?: JiraProjectPart[];
  versions?: JiraProjectPart[];
  counters: { issue: number; comment: number; attachment: number; history: number; webhook: number; keys: Record<string, number> };
}

/** The issue types, statuses, transitions and priorities every simulated project shares. */
export const ISSUE_TYPES = [
  { id: '10000', name: 'Epic', hierarchyLevel: 1, description: 'A big user story that needs to be broken down.' },
  { id: '10001', name: 'Task', hierarchyLevel: 0, description: 'A small, distinct piece of work.' },
  { id: '10002', name: 'Bug', hierarchyLevel: 0, description: 'A problem or error.' },
  { id: '10003', name: 'Story', hierarchyLevel: 0, description: 'Functionality or a feature expressed as a user goal.' },
];

export const STATUSES = [
  { id: '10000', name: 'To Do', category: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' } },
  { id: '3', name: 'In Progress', category: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' } },
  { id: '10001', name: 'Done', category: { id: 3, key: 'done', colorName: 'green', name: 'Done' } },
];

/** Global transitions: any status can move to any other. */
export const TRANSITIONS = [
  { id: '11', name: 'To Do', to: '10000' },
  { id: '21', name: 'In Progress', to: '3' },
  { id: '31', name: 'Done', to: '10001' },
];

/** The site's resolutions; moving an issue to a done status sets Done, moving it out clears it (Jira's simplified workflow). */
export const RESOLUTIONS = [
  { id: '10000', name: 'Done', description: 'Work has been completed on this issue.' },
  { id: '10001', name: "Won't Do", description: "This issue won't be actioned." },
  { id: '10002', name: 'Duplicate', description: 'The problem is a duplicate of an existing issue.' },
];

export const PRIORITIES = [
  { id: '1', name: 'Highest', color: '#d04437' },
  { id: '2', name: 'High', color: '#f15C75' },
  { id: '3', name: 'Medium', color: '#f79232' },
  { id: '4', name: 'Low', color: '#707070' },
  { id: '5', name: 'Lowest', color: '#999999' },
];

/** A custom field of the site: `customfield_<n>`, its name, and what its values are. */
export interface JiraCustomField {
  id: string;
  name: string;
  /** As the field's `schema.type` says: a text, a number, or a date (YYYY-MM-DD). */
  type: 'string' | 'number' | 'date';
}

/** The custom fields every simulated site has; a seed adds its own after them. */
export const CUSTOM_FIELDS: JiraCustomField[] = [
  { id: 'customfield_10010', name: 'Customer', type: 'string' },
  { id: 'customfield_10011', name: 'Story Points', type: 'number' },
  { id: 'customfield_10012', name: 'Target Date', type: 'date' },
];

export interface JiraSeed {
  flavor?: JiraFlavor;
  projects?: Array<{ key: string; name: string }>;
  /** More custom fields, numbered after the built-in ones. */
  customFields?: Array<{ name: string; type: JiraCustomField['type'] }>;
}

/** The demo site: two projects, three people; credentials for each flavor's auth. */
export function seedJiraState(seed: JiraSeed = {}): JiraState {
  const flavor = seed.flavor ?? 'cloud';
  const account = () => (flavor === 'cloud' ? `5b10ac8d82e05b22cc7d${randomUUID().replace(/-/g, '').slice(0, 8)}` : randomUUID());
  const users: JiraUser[] = [
    { accountId: account(), name: 'alice', emailAddress: 'alice@acme.example', displayName: 'Alice Admin', active: true },
    { accountId: account(), name: 'bob', emailAddress: 'bob@acme.example', displayName: 'Bob Builder', active: true },
    { accountId: account(), name: 'sync', emailAddress: 'sync@acme.example', displayName: 'Exalate Sync', active: true },
  ];
  const credentials: JiraState['credentials'] = [
    { kind: 'apiToken', login: 'alice@acme.example', secret: 'alice-token', accountId: users[0]!.accountId },
    { kind: 'apiToken', login: 'sync@acme.example', secret: 'sync-token', accountId: users[2]!.accountId },
    { kind: 'password', login: 'alice', secret: 'alice-password', accountId: users[0]!.accountId },
    { kind: 'password', login: 'sync', secret: 'sync-password', accountId: users[2]!.accountId },
    { kind: 'password', login: 'bob', secret: 'bob-password', accountId: users[1]!.accountId },
    { kind: 'pat', login: '', secret: 'alice-pat', accountId: users[0]!.accountId },
    { kind: 'pat', login: '', secret: 'sync-pat', accountId: users[2]!.accountId },
  ];
  const projects = (
    seed.projects ?? [
      { key: 'SUP', name: 'Support' },
      { key: 'ENG', name: 'Engineering' },
    ]
  ).map((p, i) => ({ id: String(10000 + i), key: p.key, name: p.name, leadId: users[0]!.accountId }));
  return {
    flavor,
    serverTitle: flavor === 'cloud' ? 'Acme Jira' : 'Acme Jira Data Center',
    users,
    credentials,
    systemAdministrators: ['alice'],
    projects,
    issues: [],
    comments: [],
    attachments: [],
    histories: [],
    webhooks: [],
    components: projects.flatMap((p, i) => ['Web', 'API'].map((name, j) => ({ id: String(10000 + i * 10 + j), projectId: p.id, name }))),
    versions: projects.flatMap((p, i) => ['1.0', '2.0'].map((name, j) => ({ id: String(10000 + i * 10 + j), projectId: p.id, name }))),
    customFields: [...CUSTOM_FIELDS, ...(seed.customFields ?? []).map((f, i) => ({ id: `customfield_${10100 + i}`, name: f.name, type: f.type }))],
    counters: { issue: 10000, comment: 10000, attachment: 10000, history: 10000, webhook: 0, keys: {} },
  };
}
