import { randomUUID } from 'node:crypto';
import type { ExtensionHostState } from './extension-state.js';
import { CUSTOM_FIELDS, type FieldDefinition } from './fields.js';

/** What the Azure DevOps simulator holds: one organization, in memory, serializable to a state file. */
export interface AdoIdentity {
  id: string;
  displayName: string;
  uniqueName: string;
}

export interface AdoProject {
  id: string;
  name: string;
  description: string;
  /** The process the project uses, which decides its work item types and states. */
  process: 'Agile' | 'Scrum' | 'Basic';
  lastUpdateTime: string;
}

export interface AdoRelation {
  rel: string;
  url: string;
  attributes: Record<string, unknown>;
}

export interface AdoRevision {
  rev: number;
  fields: Record<string, unknown>;
  relations: AdoRelation[];
  /** The discussion comment this revision added (System.History keeps showing the latest one). */
  comment?: string;
}

export interface AdoWorkItem {
  id: number;
  rev: number;
  fields: Record<string, unknown>;
  relations: AdoRelation[];
  /** Every revision, oldest first; the last one equals the current state. */
  revisions: AdoRevision[];
}

export interface AdoComment {
  workItemId: number;
  commentId: number;
  version: number;
  text: string;
  createdBy: string;
  createdDate: string;
  modifiedBy: string;
  modifiedDate: string;
  isDeleted: boolean;
}

export interface AdoAttachment {
  id: string;
  fileName: string;
  /** base64, so the state file stays JSON. */
  content: string;
  /** A chunked upload still waiting for chunks (registered with uploadType=Chunked). */
  pending?: boolean;
}

export interface AdoSavedQuery {
  id: string;
  name: string;
  wiql: string;
  project: string;
}

/** Work item events are delivered; subscriptions to other events (builds, …) are kept but never fire here. */
export const DELIVERED_EVENTS = ['workitem.created', 'workitem.updated', 'workitem.commented', 'workitem.deleted'] as const;

export interface AdoSubscription {
  id: string;
  publisherId: string;
  eventType: string;
  resourceVersion: string;
  consumerId: string;
  consumerActionId: string;
  publisherInputs: Record<string, string>;
  consumerInputs: Record<string, string>;
  status: 'enabled' | 'disabledBySystem' | 'disabledByUser';
  createdBy: string;
  createdDate: string;
  modifiedBy: string;
  modifiedDate: string;
}

export interface AdoState {
  organization: string;
  collectionId: string;
  identities: AdoIdentity[];
  /** PAT → identity id. */
  tokens: Record<string, string>;
  projects: AdoProject[];
  workItems: Record<string, AdoWorkItem>;
  comments: Record<string, AdoComment[]>;
  attachments: Record<string, AdoAttachment>;
  subscriptions: AdoSubscription[];
  queries: AdoSavedQuery[];
  nextWorkItemId: number;
  nextCommentId: number;
  /** Installed web extensions and their data documents (absent in state files from before them). */
  extensionHost?: ExtensionHostState;
  /** The process's custom fields (absent in state files from before they were kept: CUSTOM_FIELDS). */
  customFields?: FieldDefinition[];
}

/** Work item types and their states, per process (the subset the simulator models). */
export const PROCESSES: Record<AdoProject['process'], Record<string, { states: string[]; initial: string }>> = {
  Agile: {
    Bug: { states: ['New', 'Active', 'Resolved', 'Closed'], initial: 'New' },
    Task: { states: ['New', 'Active', 'Closed', 'Removed'], initial: 'New' },
    'User Story': { states: ['New', 'Active', 'Resolved', 'Closed', 'Removed'], initial: 'New' },
    Epic: { states: ['New', 'Active', 'Resolved', 'Closed', 'Removed'], initial: 'New' },
    Issue: { states: ['Active', 'Closed'], initial: 'Active' },
  },
  Scrum: {
    'Product Backlog Item': { states: ['New', 'Approved', 'Committed', 'Done', 'Removed'], initial: 'New' },
    Bug: { states: ['New', 'Approved', 'Committed', 'Done', 'Removed'], initial: 'New' },
    Task: { states: ['To Do', 'In Progress', 'Done', 'Removed'], initial: 'To Do' },
    Feature: { states: ['New', 'In Progress', 'Done', 'Removed'], initial: 'New' },
    Epic: { states: ['New', 'In Progress', 'Done', 'Removed'], initial: 'New' },
    Impediment: { states: ['Open', 'Closed'], initial: 'Open' },
  },
  Basic: {
    Issue: { states: ['To Do', 'Doing', 'Done'], initial: 'To Do' },
    Task: { states: ['To Do', 'Doing', 'Done'], initial: 'To Do' },
    Epic: { states: ['To Do', 'Doing', 'Done'], initial: 'To Do' },
  },
};

export interface AdoSeed {
  organization?: string;
  /** Personal access tokens accepted, each acting as the identity with that unique name. */
  tokens?: Record<string, string>;
  projects?: Array<Pick<AdoProject, 'name'> & Partial<AdoProject>>;
  identities?: Array<Omit<AdoIdentity, 'id'> & Partial<AdoIdentity>>;
  /** More custom fields (`Custom.*`), after the built-in ones. */
  customFields?: FieldDefinition[];
}

/** The demo organization: two projects, three people, one PAT per person. */
export function seedAdoState(seed: AdoSeed = {}): AdoState {
  const identities = (
    seed.identities ?? [
      { displayName: 'Alice Admin', uniqueName: 'alice@acme.example' },
      { displayName: 'Bob Builder', uniqueName: 'bob@acme.example' },
      { displayName: 'Exalate Sync', uniqueName: 'sync@acme.example' },
    ]
  ).map((i) => ({ id: i.id ?? randomUUID(), displayName: i.displayName, uniqueName: i.uniqueName }));
  const byName = new Map(identities.map((i) => [i.uniqueName, i.id]));
  const tokenSeed = seed.tokens ?? { 'alice-pat': 'alice@acme.example', 'sync-pat': 'sync@acme.example' };
  const tokens: Record<string, string> = {};
  for (const [pat, who] of Object.entries(tokenSeed)) {
    const id = byName.get(who);
    if (!id) throw new Error(`seed token ${pat}: no identity ${who}`);
    tokens[pat] = id;
  }
  const now = new Date().toISOString();
  return {
    organization: seed.organization ?? 'acme',
    collectionId: randomUUID(),
    identities,
    tokens,
    projects: (
      seed.projects ?? [
        { name: 'Development', description: 'Product development', process: 'Agile' as const },
        { name: 'Operations', description: 'Run and support', process: 'Basic' as const },
      ]
    ).map((p) => ({ id: p.id ?? randomUUID(), name: p.name, description: p.description ?? '', process: p.process ?? 'Agile', lastUpdateTime: now })),
    workItems: {},
    comments: {},
    attachments: {},
    subscriptions: [],
    queries: [],
    nextWorkItemId: 1,
    nextCommentId: 1,
    customFields: [...CUSTOM_FIELDS, ...(seed.customFields ?? [])],
  };
}
