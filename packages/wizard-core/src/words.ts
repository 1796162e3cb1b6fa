import type { NodeSettingsView, NodeType, SyncItemView } from '@exalate/contract';

/**
 * The words every frontend shows: the product guides' words (../shared/product-guides, word for
 * word), and per tracker the names of its things (project or table, issue or work item or record)
 * and of its query language. A view takes its text from here, so the three frontends say the same.
 */
export const GUIDE = {
  connections: 'Connections',
  connectionsSubtitle: 'Connection defines synchronization behavior, including communication details, sync rules, and scope.',
  initiateConnection: 'Initiate connection',
  acceptDialogTitle: 'Accept invitation',
  generalSettings: 'General settings',
  destinationUrl: 'Destination instance URL',
  noUrl: "I don't have a URL",
  configurationType: 'Choose the configuration type',
  connectionInformation: 'Connection information',
  localShortName: 'Local instance short name',
  remoteShortName: 'Remote instance short name',
  destinationShortName: 'Destination instance short name',
  connectionName: 'Connection name',
  description: 'Description',
  projectHeading: 'Select a project for the incoming sync',
  projectIntro:
    'Exalate generates default sync rules to synchronize basic issue fields. You can adapt the sync rules later. By default the following issue data will be synchronized: summary, description, comments, labels and attachments.',
  projectLabelInitiate: 'Please select the project where you want to create issues, received from the other side.',
  projectLabelAccept: 'Please select the project where you want to create entities, received from the other side.',
  selectProject: 'Select Project',
  previous: 'Previous',
  next: 'Next',
  initiate: 'Initiate',
  confirm: 'Confirm',
  done: 'Done',
  copyInvitationCode: 'Copy invitation code',
  invitationCodeCopied: 'Invitation code copied',
  /** What the private partner is called on the invitation screen: its URL is not known. */
  unknownDestination: 'unknown',
  ensureInstalled: (destination: string) => `Ensure that Exalate is installed on the destination side "${destination}"`,
  acceptOnOtherSide: (destination: string) => `On the "${destination}" side, you (or their application administrator) need to Accept the Invitation.`,
  useInvitationCode: 'Use the following invitation code:',
  publicPrivateNote:
    "As this is a Public-Private connection and you don't have admin access to the other side, you can continue to configure on your end and then send an invitation to your partner.",
  pasteInvitationCode: 'Please paste the invitation code, received from your partner',
  invitationCodePlaceholder: 'Enter the invitation code',
  congratulations: 'Congratulations!',
  connectionEstablished: 'Connection is established.',
  configureSync: 'Configure Sync',
} as const;

/** The names of one tracker's things, as its admins say them. */
export interface TrackerWords {
  /** "Azure DevOps", "Jira", "ServiceNow". */
  tracker: string;
  /** Where the frontend is installed: "organization", "Jira", "instance". */
  site: string;
  /** What incoming items are created in: "project" (or "table"). */
  project: string;
  projects: string;
  /** "work item", "issue", "record". */
  item: string;
  items: string;
  /** The name the sync rules use for the local item: `workItem`, `issue`, `entity`. */
  itemVariable: string;
  /** The label of the item type in a trigger. */
  itemType: string;
  /** A few type names, for the hint. */
  itemTypeExamples: string;
  /** "WIQL", "JQL", "encoded query". */
  queryLanguage: string;
  queryLabel: string;
  queryHint: string;
  /** The button on the Connections screen (the Jira guide says "Accept the invitation"). */
  acceptInvitation: string;
  /** An example of a node URL, for hints and placeholders. */
  nodeUrlExample: string;
  /** What the node acts with in the tracker, and what it needs to be allowed. */
  credential: string;
  credentialScopes: string;
}

const ADO: TrackerWords = {
  tracker: 'Azure DevOps',
  site: 'organization',
  project: 'project',
  projects: 'projects',
  item: 'work item',
  items: 'work items',
  itemVariable: 'workItem',
  itemType: 'Work item type',
  itemTypeExamples: 'Bug, Task, User Story',
  queryLanguage: 'WIQL',
  queryLabel: 'Query (WIQL condition)',
  queryHint: "The WHERE part of a WIQL query, e.g. [System.TeamProject] = 'Development' AND [System.Tags] CONTAINS 'sync'.",
  acceptInvitation: 'Accept invitation',
  nodeUrlExample: 'https://exalate.acme.com/nodes/ado',
  credential: 'personal access token',
  credentialScopes: 'the Work Items (read & write) and Service Hooks (read & write) scopes',
};

const JIRA: TrackerWords = {
  tracker: 'Jira',
  site: 'Jira',
  project: 'project',
  projects: 'projects',
  item: 'issue',
  items: 'issues',
  itemVariable: 'issue',
  itemType: 'Issue type',
  itemTypeExamples: 'Bug, Task, Story',
  queryLanguage: 'JQL',
  queryLabel: 'Query (JQL)',
  queryHint: 'A JQL query, e.g. project = SUP AND labels = sync.',
  acceptInvitation: 'Accept the invitation',
  nodeUrlExample: 'https://exalate.acme.com/nodes/jira',
  credential: 'personal access token',
  credentialScopes: 'the permission to browse, create and edit issues in the synced projects, and to administer webhooks',
};

const SERVICENOW: TrackerWords = {
  tracker: 'ServiceNow',
  site: 'instance',
  project: 'table',
  projects: 'tables',
  item: 'record',
  items: 'records',
  itemVariable: 'entity',
  itemType: 'Table',
  itemTypeExamples: 'incident, problem, change_request',
  queryLanguage: 'encoded query',
  queryLabel: 'Query (encoded query)',
  queryHint: 'An encoded query, e.g. active=true^priority=1.',
  acceptInvitation: 'Accept invitation',
  nodeUrlExample: 'https://exalate.acme.com/nodes/servicenow',
  credential: 'password',
  credentialScopes: 'the itil role, and web_service_admin for the business rules that tell of changes',
};

export function wordsFor(nodeType: NodeType): TrackerWords {
  switch (nodeType) {
    case 'AZURE_DEVOPS':
      return ADO;
    case 'JIRA_SERVER':
    case 'JIRA_CLOUD':
      return JIRA;
    case 'SERVICENOW':
      return SERVICENOW;
  }
}

/** A time as the admin reads it: local, with its zone ("9 Dec 2026, 14:05 CET"). */
export function formatTime(iso: string | null | undefined, locale?: string, timeZone?: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
    ...(timeZone ? { timeZone } : {}),
  }).format(date);
}

/** The line above a trigger's preview: "1 issue matches now:", "3 work items match now:", "More than 20 issues match now:". */
export function previewHeadline(preview: { items: unknown[]; more: boolean }, words: Pick<TrackerWords, 'item' | 'items'>): string {
  const n = preview.items.length;
  if (preview.more) return `More than ${n} ${words.items} match now:`;
  return n === 1 ? `1 ${words.item} matches now:` : `${n} ${words.items} match now:`;
}

/** "issue" → "Issue": a tracker's word at the start of a sentence or a column. */
export const capitalize = (word: string): string => (word ? word[0]!.toUpperCase() + word.slice(1) : word);

/** The states of an item in the sync queue, as Configure sync names them. */
export const ITEM_STATUS_LABELS: Record<SyncItemView['status'], string> = { PENDING: 'Pending', SYNCED: 'Synced', FAILED: 'Failed', UNSYNCED: 'Unsynced' };

/** What each rule of Configure sync is for, in the tracker's words and with the partner's short name. */
export function ruleHints(remoteShortName: string | undefined, words: TrackerWords): { outgoing: string; incoming: string } {
  const partner = remoteShortName ?? 'the partner';
  const v = words.itemVariable;
  return {
    outgoing: `What is sent to ${partner}: fill replica from ${v}.`,
    incoming: `How what ${partner} sends is applied here: set ${v} from replica. On first sync, ${v}.project and ${v}.type place the new ${words.item}.`,
  };
}

/** Where the node's tracker credential comes from, as General settings says it. */
export function credentialSourceText(settings: NodeSettingsView, words: TrackerWords): string {
  const { url, credential } = settings.tracker;
  return credential.source === 'settings'
    ? `The node acts in ${url} with the token set here on ${new Date(credential.updatedAt ?? '').toLocaleString()}. It is stored encrypted and is never shown again; enter a new one to replace it.`
    : `The node acts in ${url} with the token from its configuration. Enter one here to replace it: it needs ${words.credentialScopes}.`;
}
