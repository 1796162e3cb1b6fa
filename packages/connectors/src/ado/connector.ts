import { Readable } from 'node:stream';
import type { Project, TrackerField } from '@exalate/contract';
import { FieldType, type Comment, type WorkItem } from 'azure-devops-node-api/interfaces/WorkItemTrackingInterfaces.js';
import type { IWorkItemTrackingApi } from 'azure-devops-node-api/WorkItemTrackingApi.js';
import type {
  AttachmentDownload,
  AttachmentInfo,
  AttachmentUpload,
  ChangedItem,
  ChangeQuery,
  CommentRef,
  ItemChanges,
  ItemEvent,
  ItemRef,
  ItemType,
  NewItem,
  RichText,
  TrackerConnector,
  TrackerInfo,
  TrackerComment,
  TrackerItem,
  WebhookRequest,
  WebhookSubscription,
  WebhookTarget,
  RestCall,
  Person,
} from '../connector.js';
import { ConnectorError } from '../connector.js';
import { hashing } from '../streams.js';
import { AdoClient, type AdoConnection } from './client.js';
import { attachmentsOf, isModelField, parentPatch, toPatch, toTrackerComment, toTrackerItem } from './mappers.js';
import { ADO_EVENTS, adoWebhookAuthorized, parseAdoWebhook, subscriptionBody } from './webhooks.js';
import { restPassThrough } from '../rest-passthrough.js';

const RELATIONS = 1; // WorkItemExpand.Relations
const BATCH = 200; // the service's limit per work item batch

/** Azure DevOps Services / Server, through azure-devops-node-api. */
export class AdoConnector implements TrackerConnector {
  readonly trackerType = 'AZURE_DEVOPS' as const;
  readonly trackerUrl: string;
  readonly textFormat = 'html' as const;
  /** Editing a comment makes no work item revision and sends no service hook. */
  readonly sideChanges = 'never';
  /** Subscriptions made before asked for the minimal resource, which carries no revision (see subscriptionBody). */
  readonly webhookShape = 'service hooks: resource all, messages none';
  private readonly client: AdoClient;
  /**
   * Work item id → the project it was last seen in. The comment APIs are project-scoped, and
   * looking the project up before each call cost a request per comment. Bounded; an entry that is
   * stale (the item moved) gets the service's 404 and is looked up again.
   */
  private readonly projectOf = new Map<number, string>();

  constructor(connection: AdoConnection) {
    this.client = new AdoClient(connection);
    this.trackerUrl = connection.organizationUrl.replace(/\/+$/, '');
  }

  /** The authenticated identity. https://learn.microsoft.com/rest/api/azure/devops/core/ (GET _apis/connectionData) */
  async trackerInfo(): Promise<TrackerInfo> {
    const data = await this.client.rest<{ authenticatedUser?: { id?: string; providerDisplayName?: string; properties?: { Account?: { $value?: string } } } }>(
      'GET',
      '/_apis/connectionData',
      undefined,
      '7.1-preview.1',
    );
    const u = data.authenticatedUser;
    return {
      trackerType: this.trackerType,
      trackerUrl: this.trackerUrl,
      version: null,
      user: u ? { displayName: u.providerDisplayName ?? 'Unknown', email: u.properties?.Account?.$value ?? null, id: u.id ?? null } : null,
    };
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/core/projects/list?view=azure-devops-rest-7.1 */
  async listProjects(): Promise<Project[]> {
    const core = await this.client.coreApi();
    const projects: Project[] = [];
    let token: number | undefined;
    do {
      const page = await this.client.call(() => core.getProjects(undefined, 100, undefined, token));
      projects.push(...page.map((p) => ({ key: p.name!, name: p.name! })));
      token = (page as unknown as { continuationToken?: string }).continuationToken
        ? Number((page as unknown as { continuationToken: string }).continuationToken)
        : undefined;
    } while (token);
    return projects;
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/work-item-types/list?view=azure-devops-rest-7.1 */
  async listItemTypes(project: string): Promise<ItemType[]> {
    const wit = await this.client.witApi();
    const types = await this.client.call(() => wit.getWorkItemTypes(project));
    return types.map((t) => ({ name: t.name!, statuses: (t.states ?? []).map((s) => s.name!) }));
  }

  /** A work item's update takes a JSON Patch document, which Azure DevOps wants with its own media type. */
  rest(call: RestCall): Promise<unknown> {
    const patch = (c: RestCall) => (c.method === 'PATCH' || c.method === 'POST') && Array.isArray(c.body) && /\/_apis\/wit\/workitems\//i.test(c.path);
    return restPassThrough('AZURE_DEVOPS', this.client.connection.organizationUrl, this.client.authorization, call, (c) =>
      patch(c) ? 'application/json-patch+json' : 'application/json',
    );
  }

  /**
   * Azure DevOps keeps its people in its identity service (another host, vssps), which this
   * connector does not call: a rule assigns by email (`nodeHelper.getUserByEmail`).
   */
  findUser(): Promise<Person | null> {
    return Promise.reject(
      new ConnectorError('REJECTED', 'nodeHelper.getUser is not available on Azure DevOps; assign by email with nodeHelper.getUserByEmail', {
        tracker: 'AZURE_DEVOPS',
      }),
    );
  }

  /**
   * The work item fields the model has no place for, by reference name (System.AreaPath,
   * Custom.*, …). https://learn.microsoft.com/rest/api/azure/devops/wit/fields/list?view=azure-devops-rest-7.1
   */
  async listFields(project: string): Promise<TrackerField[]> {
    const wit = await this.client.witApi();
    const fields = await this.client.call(() => wit.getFields(project));
    return fields
      .filter((f) => f.referenceName && !isModelField(f.referenceName))
      .map((f) => ({ id: f.referenceName!, name: f.name ?? f.referenceName!, type: fieldTypeName(f.type) }));
  }

  /**
   * `Microsoft.VSTS.Common.Priority` takes 1 to 4 in every process Azure DevOps ships (Agile,
   * Scrum, CMMI, Basic), as the connector writes it (a number).
   */
  listPriorities(): Promise<string[]> {
    return Promise.resolve(['1', '2', '3', '4']);
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/work-items/get-work-item?view=azure-devops-rest-7.1 */
  async getItem(key: string, known?: { comments: TrackerComment[] }): Promise<TrackerItem | null> {
    // A key that is no work item id is no work item.
    if (!/^[0-9]+$/.test(key)) return null;
    const id = this.idOf(key);
    const wit = await this.client.witApi();
    const item = await this.client
      .call(() => wit.getWorkItem(id, undefined, undefined, RELATIONS))
      .catch((error: unknown) => {
        if (error instanceof ConnectorError && error.code === 'NOT_FOUND') return null;
        throw error;
      });
    if (!item) return null;
    this.remember(item);
    if (known) return { ...toTrackerItem(item, [], this.htmlUrl(item)), comments: known.comments };
    const comments = await this.comments(String(item.fields?.['System.TeamProject']), id);
    return toTrackerItem(item, comments, this.htmlUrl(item));
  }

  /**
   * Pages through WIQL by change date: each page asks for items changed at or after the last one
   * seen, skipping ids already returned at that instant, so equal timestamps never lose an item.
   * https://learn.microsoft.com/rest/api/azure/devops/wit/wiql/query-by-wiql?view=azure-devops-rest-7.1
   */
  async *searchChanged(query: ChangeQuery): AsyncIterable<ChangedItem> {
    const wit = await this.client.witApi();
    const pageSize = Math.min(query.pageSize ?? BATCH, BATCH);
    let after = query.changedAfter;
    let strict = true;
    const seenAtBoundary = new Set<number>();
    for (;;) {
      const where = [
        query.project ? `[System.TeamProject] = '${query.project.replace(/'/g, "''")}'` : null,
        query.itemType ? `[System.WorkItemType] = '${query.itemType.replace(/'/g, "''")}'` : null,
        query.query.trim() ? `(${query.query})` : null,
        after ? `[System.ChangedDate] ${strict ? '>' : '>='} '${after}'` : null,
      ].filter(Boolean);
      const wiql = `SELECT [System.Id], [System.ChangedDate] FROM WorkItems${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY [System.ChangedDate] ASC, [System.Id] ASC`;
      const result = await this.client.call(() =>
        wit.queryByWiql({ query: wiql }, query.project ? { project: query.project } : undefined, true, pageSize + seenAtBoundary.size),
      );
      const ids = (result.workItems ?? [])
        .map((w) => w.id!)
        .filter((id) => !seenAtBoundary.has(id))
        .slice(0, pageSize);
      if (ids.length === 0) return;
      const items = await this.client.call(() => wit.getWorkItemsBatch({ ids, fields: ['System.Id', 'System.ChangedDate', 'System.Title'] }));
      const changed = new Map(items.map((i) => [i.id!, new Date(i.fields!['System.ChangedDate'] as string).toISOString()]));
      const titles = new Map(items.map((i) => [i.id!, String(i.fields!['System.Title'] ?? '')]));
      for (const id of ids) {
        const updated = changed.get(id);
        if (!updated) continue;
        yield { key: String(id), id: String(id), url: `${this.trackerUrl}/_workitems/edit/${id}`, updated, summary: titles.get(id) ?? '' };
      }
      const last = changed.get(ids.at(-1)!)!;
      if (last !== after) seenAtBoundary.clear();
      for (const id of ids) if (changed.get(id) === last) seenAtBoundary.add(id);
      after = last;
      strict = false;
      if (ids.length < pageSize) return;
    }
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/work-items/create?view=azure-devops-rest-7.1 */
  async createItem(input: NewItem): Promise<ItemRef> {
    const wit = await this.client.witApi();
    const parent = input.parent ? parentPatch([], input.parent, this.client.connection.organizationUrl) : [];
    const created = await this.client.call(() => wit.createWorkItem(null, [...toPatch(input), ...parent], input.project, input.type));
    return this.ref(created);
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/work-items/update?view=azure-devops-rest-7.1 */
  async updateItem(key: string, changes: ItemChanges): Promise<ItemRef> {
    const wit = await this.client.witApi();
    const patch = toPatch(changes);
    if (changes.parent !== undefined) {
      // The link to replace is found among the work item's relations as they are now.
      const item = await this.client.call(() => wit.getWorkItem(this.idOf(key), undefined, undefined, RELATIONS));
      if (!item) throw this.notFound(key);
      patch.push(...parentPatch(item.relations, changes.parent, this.client.connection.organizationUrl));
    }
    if (patch.length === 0) {
      const item = await this.client.call(() => wit.getWorkItem(this.idOf(key)));
      if (!item) throw this.notFound(key);
      return this.ref(item);
    }
    const updated = await this.client.call(() => wit.updateWorkItem(null, patch, this.idOf(key)));
    if (!updated) throw this.notFound(key);
    return this.ref(updated);
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/comments/add-comment?view=azure-devops-rest-7.1 */
  async addComment(key: string, body: RichText): Promise<CommentRef> {
    const comment = await this.inProject(key, (wit, project, id) => this.client.call(() => wit.addComment({ text: this.html(body) }, project, id)));
    return {
      id: String(comment.id),
      created: new Date(comment.createdDate!).toISOString(),
      updated: new Date(comment.modifiedDate ?? comment.createdDate!).toISOString(),
      comment: toTrackerComment(comment),
    };
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/comments/update-comment?view=azure-devops-rest-7.1 */
  async updateComment(key: string, commentId: string, body: RichText): Promise<CommentRef> {
    const comment = await this.inProject(
      key,
      (wit, project, id) => this.client.call(() => wit.updateComment({ text: this.html(body) }, project, id, Number(commentId))),
      () => new ConnectorError('NOT_FOUND', `Comment ${commentId} of work item ${key} does not exist.`, { tracker: 'AZURE_DEVOPS', status: 404 }),
    );
    return {
      id: String(comment.id),
      created: new Date(comment.createdDate!).toISOString(),
      updated: new Date(comment.modifiedDate!).toISOString(),
      comment: toTrackerComment(comment),
    };
  }

  /** https://learn.microsoft.com/rest/api/azure/devops/wit/attachments/get?view=azure-devops-rest-7.1 */
  async downloadAttachment(key: string, attachmentId: string): Promise<AttachmentDownload> {
    const wit = await this.client.witApi();
    const item = await this.client.call(() => wit.getWorkItem(this.idOf(key), undefined, undefined, RELATIONS));
    const info = item ? attachmentsOf(item).find((a) => a.id === attachmentId.toLowerCase()) : undefined;
    if (!info) throw new ConnectorError('NOT_FOUND', `Work item ${key} has no attachment ${attachmentId}.`, { tracker: 'AZURE_DEVOPS', status: 404 });
    const source = await this.client.call(() => wit.getAttachmentContent(info.id, info.filename, undefined, true));
    const { stream, sha256 } = hashing(Readable.from(source as AsyncIterable<Buffer>));
    return { info, stream, sha256 };
  }

  /**
   * Upload, then link it to the work item.
   * https://learn.microsoft.com/rest/api/azure/devops/wit/attachments/create?view=azure-devops-rest-7.1
   */
  async uploadAttachment(key: string, file: AttachmentUpload): Promise<AttachmentInfo> {
    const { wit, project, id } = await this.locate(key);
    const { stream, sha256, size } = hashing(Buffer.isBuffer(file.content) ? Readable.from([file.content]) : file.content);
    const ref = await this.client.call(() => wit.createAttachment(null, stream, file.filename, undefined, project));
    const digest = await sha256;
    await this.client.call(() =>
      wit.updateWorkItem(null, [{ op: 'add', path: '/relations/-', value: { rel: 'AttachedFile', url: ref.url, attributes: { comment: '' } } } as never], id),
    );
    return { id: ref.id!.toLowerCase(), filename: file.filename, mimeType: file.mimeType, size: size(), sha256: digest };
  }

  /** One subscription per event. https://learn.microsoft.com/rest/api/azure/devops/hooks/subscriptions/create?view=azure-devops-rest-7.1 */
  async subscribe(hook: WebhookTarget): Promise<WebhookSubscription> {
    let projectId: string | undefined;
    if (hook.project) {
      const core = await this.client.coreApi();
      const project = await this.client.call(() => core.getProject(hook.project!));
      if (!project)
        throw new ConnectorError('NOT_FOUND', `There is no project ${hook.project} in ${this.trackerUrl}.`, { tracker: 'AZURE_DEVOPS', status: 404 });
      projectId = project.id;
    }
    const ids: string[] = [];
    try {
      for (const eventType of Object.keys(ADO_EVENTS)) {
        const created = await this.client.rest<{ id: string }>(
          'POST',
          '/_apis/hooks/subscriptions',
          subscriptionBody(eventType, hook.url, hook.secret, projectId),
        );
        ids.push(created.id);
      }
    } catch (error) {
      // All or nothing: a half-made subscription would miss events silently.
      await Promise.allSettled(ids.map((id) => this.client.rest('DELETE', `/_apis/hooks/subscriptions/${id}`)));
      throw error;
    }
    return { id: ids.join(','), events: Object.keys(ADO_EVENTS) };
  }

  async unsubscribe(subscriptionId: string): Promise<void> {
    for (const id of subscriptionId.split(',').filter(Boolean)) {
      await this.client.rest('DELETE', `/_apis/hooks/subscriptions/${id}`).catch((error: unknown) => {
        if (!(error instanceof ConnectorError && error.code === 'NOT_FOUND')) throw error;
      });
    }
  }

  parseWebhook(request: WebhookRequest, secret: string): ItemEvent[] {
    return parseAdoWebhook(request.body, request.headers, secret);
  }

  checkWebhookHeaders(headers: Record<string, string | undefined>, secret: string): 'ok' | 'refused' {
    return adoWebhookAuthorized(headers, secret) ? 'ok' : 'refused';
  }

  // ───────────────────────── helpers ─────────────────────────

  private idOf(key: string): number {
    if (!/^[0-9]+$/.test(key)) throw new ConnectorError('NOT_FOUND', `"${key}" is not an Azure DevOps work item id.`, { tracker: 'AZURE_DEVOPS' });
    return Number(key);
  }

  private async locate(key: string) {
    const wit = await this.client.witApi();
    const id = this.idOf(key);
    const item = await this.client.call(() => wit.getWorkItem(id, ['System.TeamProject']));
    if (!item) throw this.notFound(key);
    this.remember(item);
    return { wit, id, project: String(item.fields!['System.TeamProject']) };
  }

  private remember(item: WorkItem): void {
    const project = item.fields?.['System.TeamProject'];
    if (item.id === undefined || typeof project !== 'string') return;
    this.projectOf.delete(item.id);
    this.projectOf.set(item.id, project);
    // A Map iterates in insertion order, so the first key is the one seen longest ago.
    if (this.projectOf.size > 10_000) this.projectOf.delete(this.projectOf.keys().next().value!);
  }

  /**
   * Runs a project-scoped call with the project the item was last seen in, or looks it up first.
   * The service answers a wrong project like a missing item (404), so that answer looks the
   * project up again before the call is given up as "no such item". A 404 changes nothing.
   */
  private async inProject<T>(
    key: string,
    call: (wit: IWorkItemTrackingApi, project: string, id: number) => Promise<T | null>,
    missing: () => ConnectorError = () => this.notFound(key),
  ): Promise<T> {
    const id = this.idOf(key);
    const known = this.projectOf.get(id);
    if (known !== undefined) {
      try {
        const result = await call(await this.client.witApi(), known, id);
        if (result) return result;
      } catch (error) {
        if (!(error instanceof ConnectorError && error.code === 'NOT_FOUND')) throw error;
      }
      this.projectOf.delete(id);
    }
    const { wit, project } = await this.locate(key);
    const result = await call(wit, project, id);
    if (!result) throw missing();
    return result;
  }

  /** All comments, oldest first, across pages. https://learn.microsoft.com/rest/api/azure/devops/wit/comments/get-comments?view=azure-devops-rest-7.1 */
  private async comments(project: string, id: number): Promise<Comment[]> {
    const wit = await this.client.witApi();
    const all: Comment[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.call(() => wit.getComments(project, id, 200, token, false, undefined, 1 /* CommentSortOrder.Asc */));
      all.push(...(page?.comments ?? []));
      token = page?.continuationToken;
    } while (token);
    return all;
  }

  private html(body: RichText): string {
    if (body.format !== 'html' || typeof body.value !== 'string') throw new Error(`Azure DevOps comments are HTML; convert ${body.format} first.`);
    return body.value;
  }

  private ref(item: WorkItem): ItemRef {
    this.remember(item);
    return { key: String(item.id), id: String(item.id), url: this.htmlUrl(item) };
  }

  private htmlUrl(item: WorkItem): string {
    return `${this.trackerUrl}/_workitems/edit/${item.id}`;
  }

  private notFound(key: string): ConnectorError {
    return new ConnectorError('NOT_FOUND', `Work item ${key} does not exist in ${this.trackerUrl}, or the token cannot read it.`, {
      tracker: 'AZURE_DEVOPS',
      status: 404,
    });
  }
}

/** The client gives a field's type as its enum's number; the service's name for it (`string`, `double`, …). */
function fieldTypeName(type: FieldType | undefined): string {
  const name = type === undefined ? undefined : (FieldType as unknown as Record<number, string>)[type];
  return name ? name[0]!.toLowerCase() + name.slice(1) : 'string';
}
