import type { Readable } from 'node:stream';
import type { NodeType, Project, TrackerField } from '@exalate/contract';

/**
 * What the sync engine asks of a tracker. One implementation per tracker (ado/, jira/,
 * servicenow/); the engine never knows which one it talks to.
 */
export interface TrackerConnector {
  readonly trackerType: NodeType;
  /** Where the tracker lives, as shown to the partner admin. */
  readonly trackerUrl: string;
  /** The format descriptions and comments are stored in: what createItem, updateItem and the comment calls take. */
  readonly textFormat: TextFormat;
  /**
   * How the tracker tells of an edited comment (or a new attachment), which leaves the item's own
   * change time as it was: `webhook`, by a webhook of its own (Jira's comment_updated); `never`
   * (Azure DevOps comment edits, ServiceNow journal edits and attachments). Where it goes unseen
   * (`never`, or `webhook` while the node has no webhooks), the sync engine re-reads recently
   * synced items now and then.
   */
  readonly sideChanges: 'webhook' | 'never';

  /** What is behind the node: the tracker, its version where it says, and whose credentials are used. Fails with AUTH_FAILED on refused credentials. */
  trackerInfo(): Promise<TrackerInfo>;

  listProjects(): Promise<Project[]>;
  /**
   * A person of the tracker by its id (Jira's account id or user name, ServiceNow's sys_id or
   * user name) or email, for `nodeHelper.getUser`; null when there is none. Fails with REJECTED
   * where the tracker's API offers no such lookup to the connector.
   */
  findUser(ref: string): Promise<Person | null>;
  listItemTypes(project: string): Promise<ItemType[]>;
  /**
   * The fields an item of `project` (ServiceNow: the table) may hold in `customFields`: their ids
   * are the keys `getItem` gives them under and `createItem`/`updateItem` take.
   */
  listFields(project: string): Promise<TrackerField[]>;
  /** The priorities an item may have, in the tracker's own words (Jira's names, Azure DevOps' and ServiceNow's numbers). */
  listPriorities(): Promise<string[]>;

  /**
   * Everything the outgoing script may read of one item. Null when it does not exist.
   * `known.comments`: the item's comments as the caller knows them to be (the sync, right after
   * writing them, from the `comment` its writes were answered with); a connector may then skip
   * reading them. Without it, everything is read.
   */
  getItem(key: string, known?: { comments: TrackerComment[] }): Promise<TrackerItem | null>;

  /**
   * Items that match a trigger query (in the tracker's language) and changed after the watermark,
   * oldest change first, all pages. The safety net behind webhooks. A tracker whose change times
   * are coarse (ServiceNow: whole seconds) also returns items changed within the watermark's own
   * tick: delivery is at least once, and the sync engine recognises a change it has already seen.
   */
  searchChanged(query: ChangeQuery): AsyncIterable<ChangedItem>;

  createItem(input: NewItem): Promise<ItemRef>;
  updateItem(key: string, changes: ItemChanges): Promise<ItemRef>;

  addComment(key: string, body: RichText): Promise<CommentRef>;
  updateComment(key: string, commentId: string, body: RichText): Promise<CommentRef>;

  /** Streams an attachment's bytes; the sha256 is known once the stream has ended. */
  downloadAttachment(key: string, attachmentId: string): Promise<AttachmentDownload>;
  uploadAttachment(key: string, file: AttachmentUpload): Promise<AttachmentInfo>;

  /**
   * A rule's `httpClient` call: the tracker's REST API at a path relative to its address, with the
   * connector's credentials, never another host (rest-passthrough.ts). The answer's body.
   */
  rest(call: RestCall): Promise<unknown>;

  /**
   * What `subscribe` asks the tracker for, as a label that changes whenever that does: a node whose
   * stored subscription was made with another one subscribes again. Absent where it never changed.
   */
  readonly webhookShape?: string;
  /** Registers a webhook for item events where the tracker offers them; null where it does not. */
  subscribe(hook: WebhookTarget): Promise<WebhookSubscription | null>;
  unsubscribe(subscriptionId: string): Promise<void>;
  /**
   * The items an incoming webhook call is about (empty when it is no item event). Throws
   * ConnectorError AUTH_FAILED when the call does not carry the subscription's secret.
   */
  parseWebhook(request: WebhookRequest, secret: string): ItemEvent[];
  /**
   * What a webhook call's headers alone say, before its body is read: `refused` when they cannot
   * be the subscription's, `ok` when they prove it (a secret in a header), `body` when only the
   * body can (a signature over it; parseWebhook then decides).
   */
  checkWebhookHeaders(headers: Record<string, string | undefined>, secret: string): 'ok' | 'refused' | 'body';
}

export type RestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A rule's `httpClient` call, as `TrackerConnector.rest` takes it. */
export interface RestCall {
  method: RestMethod;
  /** Relative to the tracker's address: "/rest/api/2/myself", "/Project/_apis/wit/workitems/1". */
  path: string;
  body?: unknown;
  /** How long the call may take (the rule's time left). */
  timeoutMs: number;
}

/** The native text format of a field, named so the converter knows what it holds. */
export type TextFormat = 'html' | 'jira-wiki' | 'adf' | 'plain';

export interface RichText {
  format: TextFormat;
  /** A string for html, jira-wiki and plain; the document object for adf. */
  value: string | Record<string, unknown>;
}

export interface Person {
  displayName: string;
  email: string | null;
  /** The tracker's own id for the person. */
  id: string | null;
}

export interface TrackerInfo {
  trackerType: NodeType;
  trackerUrl: string;
  /** The tracker's version, where it tells. */
  version: string | null;
  /** The account the connector acts as (null where the tracker does not say). */
  user: Person | null;
}

export interface ItemType {
  name: string;
  statuses: string[];
}

export interface ItemRef {
  /** What people call it: "SUP-12", "42", "INC0010001". */
  key: string;
  /** The tracker's internal id, when it differs from the key. */
  id: string;
  url: string;
}

export interface TrackerItem extends ItemRef {
  project: string;
  type: string;
  summary: string;
  description: RichText | null;
  status: string;
  priority: string | null;
  labels: string[];
  assignee: Person | null;
  reporter: Person | null;
  created: string;
  updated: string;
  /** The tracker's revision/version counter, when it has one. */
  version: string | null;
  comments: TrackerComment[];
  attachments: AttachmentInfo[];
  /** Every other field, by the tracker's field name, as the tracker returns it. */
  customFields: Record<string, unknown>;
  /** The item one level up (a Jira epic, an Azure DevOps parent link, a ServiceNow task's parent); absent or null for none. */
  parent?: ItemRef | null;
}

export interface TrackerComment {
  id: string;
  author: Person | null;
  body: RichText;
  created: string;
  updated: string;
}

export interface CommentRef {
  id: string;
  created: string;
  updated: string;
  /** The comment as the tracker stored it, where its answer to the write says (as `getItem` would read it). */
  comment?: TrackerComment;
}

export interface AttachmentInfo {
  id: string;
  filename: string;
  mimeType: string | null;
  size: number | null;
  /** Known after a transfer through the connector (download or upload). */
  sha256: string | null;
}

export interface AttachmentDownload {
  info: AttachmentInfo;
  stream: Readable;
  /** Resolves when the stream has ended: the sha256 of the bytes that went through. */
  sha256: Promise<string>;
}

export interface AttachmentUpload {
  filename: string;
  mimeType: string | null;
  content: Readable | Buffer;
}

export interface ChangeQuery {
  /** The trigger, in the tracker's language (WIQL condition, JQL, encoded query); empty: everything in `project`. */
  query: string;
  project?: string;
  /** Only items of this type (ServiceNow: the table). */
  itemType?: string;
  /** Only items changed strictly after this instant (ISO 8601). */
  changedAfter: string | null;
  pageSize?: number;
}

export interface ChangedItem extends ItemRef {
  updated: string;
  /** The item's title, for the admin's preview of what a trigger matches. */
  summary: string;
}

export interface NewItem {
  project: string;
  type: string;
  summary: string;
  description?: RichText | null;
  status?: string;
  priority?: string | null;
  labels?: string[];
  assigneeEmail?: string | null;
  customFields?: Record<string, unknown>;
  /** The parent, by its key or its id (null: none). */
  parent?: string | null;
}

export type ItemChanges = Partial<Omit<NewItem, 'project' | 'type'>>;

export interface WebhookTarget {
  url: string;
  /** Sent back by the tracker so a webhook call can be told from a forgery. */
  secret: string;
  project?: string;
}

/** An incoming webhook call; `rawBody` is the exact bytes received (signatures are over them). */
export interface WebhookRequest {
  body: unknown;
  rawBody: string;
  headers: Record<string, string | undefined>;
}

export interface WebhookSubscription {
  id: string;
  events: string[];
}

export interface ItemEvent {
  kind: 'created' | 'updated' | 'commented' | 'deleted';
  key: string;
  /**
   * The item's state after the event, where the payload tells: its revision (a number) or its
   * change time (ISO 8601), comparable with `TrackerItem.version ?? TrackerItem.updated`. Lets the
   * sync skip events for states it has already read or written, so it is left out wherever the
   * event may not move it (a comment edit that leaves the item's time alone).
   */
  version?: string;
  /** The comment a `commented` event is about, where the payload names it. */
  commentId?: string;
}

/** Every failure a connector reports, mapped from the tracker's own. */
export type ConnectorErrorCode = 'AUTH_FAILED' | 'FORBIDDEN' | 'NOT_FOUND' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'REJECTED' | 'NETWORK';

export class ConnectorError extends Error {
  constructor(
    readonly code: ConnectorErrorCode,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; tracker: NodeType },
  ) {
    super(message);
    this.name = 'ConnectorError';
  }

  /** Whether trying again later can succeed (the queue backs off, honouring retryAfterMs). */
  get retryable(): boolean {
    return this.code === 'RATE_LIMITED' || this.code === 'UNAVAILABLE' || this.code === 'NETWORK';
  }
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined | null, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^[0-9]+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function errorFromStatus(tracker: NodeType, status: number | undefined, message: string, retryAfter?: string | string[] | null): ConnectorError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const details = { tracker, ...(status !== undefined ? { status } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (status === undefined) return new ConnectorError('NETWORK', message, details);
  if (status === 401) return new ConnectorError('AUTH_FAILED', message, details);
  if (status === 403) return new ConnectorError('FORBIDDEN', message, details);
  if (status === 404) return new ConnectorError('NOT_FOUND', message, details);
  if (status === 429) return new ConnectorError('RATE_LIMITED', message, details);
  if (status >= 500) return new ConnectorError('UNAVAILABLE', message, details);
  return new ConnectorError('REJECTED', message, details);
}
