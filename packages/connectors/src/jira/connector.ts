import { Readable } from 'node:stream';
import type { Project, TrackerField } from '@exalate/contract';
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
import { JiraClient, type JiraConnection } from './client.js';
import { attachment, comment, isoFromJira, nativeText, toFields, toTrackerItem } from './mappers.js';
import { JIRA_EVENTS, parseJiraWebhook } from './webhooks.js';
import { restPassThrough } from '../rest-passthrough.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- jira.js types its v2 and v3 bodies differently; the two paths share one shape here
type Any = any;

/** Jira Cloud (REST v3 through Version3Client) or Data Center (REST v2 through Version2Client). */
export class JiraConnector implements TrackerConnector {
  readonly trackerType: 'JIRA_CLOUD' | 'JIRA_SERVER';
  readonly trackerUrl: string;
  /** Cloud's v3 API speaks ADF; Data Center's v2 speaks wiki markup. */
  readonly textFormat: 'adf' | 'jira-wiki';
  /** A new comment or attachment updates the issue; an edited comment fires comment_updated and leaves the issue's `updated` as it was. */
  readonly sideChanges = 'webhook';
  private readonly client: JiraClient;
  private readonly deployment: 'cloud' | 'datacenter';
  private timeZone: Promise<string> | null = null;

  constructor(connection: JiraConnection) {
    this.client = new JiraClient(connection);
    this.deployment = connection.deployment;
    this.textFormat = connection.deployment === 'cloud' ? 'adf' : 'jira-wiki';
    this.trackerType = this.client.tracker;
    this.trackerUrl = connection.baseUrl.replace(/\/+$/, '');
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-server-info/ and …/api-group-myself/ */
  async trackerInfo(): Promise<TrackerInfo> {
    const [server, me]: Any[] = await Promise.all([
      this.client.call((api: Any) => api.serverInfo.getServerInfo()),
      this.client.call((api: Any) => api.myself.getCurrentUser()),
    ]);
    return {
      trackerType: this.trackerType,
      trackerUrl: this.trackerUrl,
      version: server.version ?? null,
      user: { displayName: me.displayName, email: me.emailAddress ?? null, id: me.accountId ?? me.name ?? null },
    };
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get */
  async listProjects(): Promise<Project[]> {
    if (this.deployment === 'datacenter') {
      // GET /rest/api/2/project (Data Center); jira.js no longer wraps it.
      const projects = (await (await this.client.fetch('/rest/api/2/project')).json()) as Array<{ key: string; name: string }>;
      return projects.map((p) => ({ key: p.key, name: p.name }));
    }
    const out: Project[] = [];
    for (let startAt = 0; ;) {
      const page: Any = await this.client.call((api: Any) => api.projects.searchProjects({ startAt, maxResults: 50 }));
      out.push(...(page.values ?? []).map((p: Any) => ({ key: p.key, name: p.name })));
      if (page.isLast !== false || !page.values?.length) return out;
      startAt += page.values.length;
    }
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-projectidorkey-statuses-get */
  async listItemTypes(project: string): Promise<ItemType[]> {
    const types: Any[] = await this.client.call((api: Any) => api.projects.getAllStatuses({ projectIdOrKey: project }));
    return types.map((t) => ({ name: t.name, statuses: (t.statuses ?? []).map((s: Any) => s.name) }));
  }

  rest(call: RestCall): Promise<unknown> {
    return restPassThrough(this.trackerType, this.client.connection.baseUrl, this.client.authorization, call);
  }

  /** The site's custom fields. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get */
  async listFields(): Promise<TrackerField[]> {
    const fields: Any[] = await this.client.call((api: Any) => api.issueFields.getFields());
    return fields.filter((f) => f.custom === true).map((f) => ({ id: String(f.id), name: String(f.name), type: String(f.schema?.type ?? 'any') }));
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-priorities/#api-rest-api-3-priority-get */
  async listPriorities(): Promise<string[]> {
    const priorities: Any[] = await this.client.call((api: Any) => api.issuePriorities.getPriorities());
    return priorities.map((p) => String(p.name));
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get */
  async getItem(key: string, known?: { comments: TrackerComment[] }): Promise<TrackerItem | null> {
    // The issue carries its comments (a first page of them): one call where that page has them all.
    const issue: Any = await this.client.optional((api: Any) => api.issues.getIssue({ issueIdOrKey: key, fields: known ? ['*all', '-comment'] : ['*all'] }));
    if (!issue) return null;
    if (known) return { ...toTrackerItem(issue, [], this.trackerUrl, this.deployment), comments: known.comments };
    return toTrackerItem(issue, await this.comments(issue.key, issue.fields?.comment), this.trackerUrl, this.deployment);
  }

  /**
   * JQL compares dates to the minute, in the API user's time zone: ask for everything updated from
   * the watermark's minute on (in that zone), keep what changed strictly after the watermark.
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
   */
  async *searchChanged(query: ChangeQuery): AsyncIterable<ChangedItem> {
    const clauses = [
      query.project ? `project = "${query.project.replace(/"/g, '\\"')}"` : null,
      query.itemType ? `issuetype = "${query.itemType.replace(/"/g, '\\"')}"` : null,
      query.query.trim() ? `(${query.query})` : null,
      query.changedAfter ? `updated >= "${await this.jqlMinute(query.changedAfter)}"` : null,
    ].filter(Boolean);
    const jql = `${clauses.join(' AND ')} ORDER BY updated ASC, key ASC`;
    const after = query.changedAfter ? new Date(query.changedAfter).getTime() : null;
    const pageSize = query.pageSize ?? 100;
    const keep = (issue: Any): ChangedItem | null => {
      const updated = isoFromJira(issue.fields.updated);
      return after === null || new Date(updated).getTime() > after
        ? { key: issue.key, id: issue.id, url: `${this.trackerUrl}/browse/${issue.key}`, updated, summary: String(issue.fields.summary ?? '') }
        : null;
    };
    if (this.deployment === 'cloud') {
      let nextPageToken: string | undefined;
      do {
        const page: Any = await this.client.call((api: Any) =>
          api.issueSearch.searchForIssuesUsingJqlEnhancedSearch({
            jql,
            fields: ['updated', 'summary'],
            maxResults: pageSize,
            ...(nextPageToken ? { nextPageToken } : {}),
          }),
        );
        for (const issue of page.issues ?? []) {
          const item = keep(issue);
          if (item) yield item;
        }
        nextPageToken = page.isLast ? undefined : page.nextPageToken;
      } while (nextPageToken);
      return;
    }
    for (let startAt = 0; ;) {
      const page: Any = await this.client.call((api: Any) =>
        api.issueSearch.searchForIssuesUsingJql({ jql, fields: ['updated', 'summary'], startAt, maxResults: pageSize }),
      );
      for (const issue of page.issues ?? []) {
        const item = keep(issue);
        if (item) yield item;
      }
      startAt += page.issues?.length ?? 0;
      if (!page.issues?.length || startAt >= page.total) return;
    }
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post */
  async createItem(input: NewItem): Promise<ItemRef> {
    const fields = {
      project: { key: input.project },
      issuetype: { name: input.type },
      ...toFields(input, this.deployment, input.assigneeEmail === undefined ? undefined : await this.userRef(input.assigneeEmail)),
    };
    const created: Any = await this.client.call((api: Any) => api.issues.createIssue({ fields }));
    if (input.status) await this.transition(created.key, input.status);
    return { key: created.key, id: created.id, url: `${this.trackerUrl}/browse/${created.key}` };
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put */
  async updateItem(key: string, changes: ItemChanges): Promise<ItemRef> {
    const fields = toFields(changes, this.deployment, changes.assigneeEmail === undefined ? undefined : await this.userRef(changes.assigneeEmail));
    if (Object.keys(fields).length) await this.client.call((api: Any) => api.issues.editIssue({ issueIdOrKey: key, fields }));
    if (changes.status) await this.transition(key, changes.status);
    const issue: Any = await this.client.optional((api: Any) => api.issues.getIssue({ issueIdOrKey: key, fields: ['summary'] }));
    if (!issue) throw this.notFound(key);
    return { key: issue.key, id: issue.id, url: `${this.trackerUrl}/browse/${issue.key}` };
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post */
  async addComment(key: string, body: RichText): Promise<CommentRef> {
    const value = nativeText(body, this.deployment);
    // jira.js sends `comment` as the body in both versions (its v2 type says `body`, its code reads `comment`).
    const c: Any = await this.client.call((api: Any) => api.issueComments.addComment({ issueIdOrKey: key, comment: value }));
    return { id: String(c.id), created: isoFromJira(c.created), updated: isoFromJira(c.updated ?? c.created), comment: comment(c, this.deployment) };
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-id-put */
  async updateComment(key: string, commentId: string, body: RichText): Promise<CommentRef> {
    // jira.js reads the new body from `body` in v3 and from `comment` in v2.
    const value = nativeText(body, this.deployment);
    const c: Any = await this.client.call((api: Any) =>
      api.issueComments.updateComment({ issueIdOrKey: key, id: commentId, ...(this.deployment === 'cloud' ? { body: value } : { comment: value }) }),
    );
    return { id: String(c.id), created: isoFromJira(c.created), updated: isoFromJira(c.updated), comment: comment(c, this.deployment) };
  }

  /** Metadata, then the bytes streamed from its content URL. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-attachment-content-id-get */
  async downloadAttachment(_key: string, attachmentId: string): Promise<AttachmentDownload> {
    const meta: Any = await this.client.optional((api: Any) => api.issueAttachments.getAttachment({ id: attachmentId }));
    if (!meta)
      throw new ConnectorError('NOT_FOUND', `Attachment ${attachmentId} does not exist in ${this.trackerUrl}.`, { tracker: this.trackerType, status: 404 });
    const res = await this.client.fetch(String(meta.content), { headers: { accept: '*/*' } });
    const { stream, sha256 } = hashing(Readable.fromWeb(res.body as never));
    return { info: attachment(meta), stream, sha256 };
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-issue-issueidorkey-attachments-post */
  async uploadAttachment(key: string, file: AttachmentUpload): Promise<AttachmentInfo> {
    const { stream, sha256, size } = hashing(Buffer.isBuffer(file.content) ? Readable.from([file.content]) : file.content);
    const created: Any[] = await this.client.call((api: Any) =>
      api.issueAttachments.addAttachment({
        issueIdOrKey: key,
        attachment: { filename: file.filename, file: stream, ...(file.mimeType ? { mimeType: file.mimeType } : {}) },
      }),
    );
    const a = created[0];
    if (!a)
      throw new ConnectorError('REJECTED', `Jira accepted the upload of ${file.filename} to ${key} but returned no attachment.`, { tracker: this.trackerType });
    return { ...attachment(a), size: size(), sha256: await sha256 };
  }

  /** Admin webhook with a secret (X-Hub-Signature). https://developer.atlassian.com/server/jira/platform/webhooks/ */
  async subscribe(hook: WebhookTarget): Promise<WebhookSubscription> {
    const events = Object.keys(JIRA_EVENTS);
    const res = await this.client.fetch('/rest/webhooks/1.0/webhook', {
      method: 'POST',
      body: {
        name: `Exalate ${new URL(hook.url).host}`,
        url: hook.url,
        events,
        filters: hook.project ? { 'issue-related-events-section': `project = "${hook.project}"` } : {},
        excludeBody: false,
        secret: hook.secret,
      },
    });
    const created = (await res.json()) as { self: string };
    return { id: created.self.split('/').pop()!, events };
  }

  async unsubscribe(subscriptionId: string): Promise<void> {
    await this.client.fetch(`/rest/webhooks/1.0/webhook/${encodeURIComponent(subscriptionId)}`, { method: 'DELETE' }).catch((error: unknown) => {
      if (!(error instanceof ConnectorError && error.code === 'NOT_FOUND')) throw error;
    });
  }

  parseWebhook(request: WebhookRequest, secret: string): ItemEvent[] {
    return parseJiraWebhook(request, secret, this.trackerType);
  }

  /** Jira signs the body (X-Hub-Signature): without the header the call is not ours; with it, the body decides. */
  checkWebhookHeaders(headers: Record<string, string | undefined>): 'refused' | 'body' {
    return headers['x-hub-signature']?.startsWith('sha256=') ? 'body' : 'refused';
  }

  // ───────────────────────── helpers ─────────────────────────

  /**
   * All comments, oldest first, across pages; `first` is the page the issue came with, if it did.
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get
   */
  private async comments(key: string, first?: Any): Promise<Any[]> {
    const embedded: Any[] = Array.isArray(first?.comments) && (first.startAt ?? 0) === 0 ? first.comments : [];
    if (typeof first?.total === 'number' && embedded.length >= first.total) return embedded;
    const out: Any[] = [...embedded];
    for (let startAt = out.length; ;) {
      const page: Any = await this.client.call((api: Any) =>
        api.issueComments.getComments({ issueIdOrKey: key, startAt, maxResults: 100, orderBy: 'created' }),
      );
      out.push(...(page.comments ?? []));
      startAt += page.comments?.length ?? 0;
      if (!page.comments?.length || startAt >= page.total) return out;
    }
  }

  /** Status moves by transition: the one that leads to the wanted status. */
  private async transition(key: string, status: string): Promise<void> {
    const issue: Any = await this.client.call((api: Any) => api.issues.getIssue({ issueIdOrKey: key, fields: ['status'] }));
    if (issue.fields.status?.name === status) return;
    const { transitions }: Any = await this.client.call((api: Any) => api.issues.getTransitions({ issueIdOrKey: key }));
    const t = (transitions ?? []).find((x: Any) => x.to?.name?.toLowerCase() === status.toLowerCase());
    if (!t) {
      throw new ConnectorError(
        'REJECTED',
        `Issue ${key} cannot move to "${status}" from "${issue.fields.status?.name}": its workflow offers ${(transitions ?? []).map((x: Any) => `"${x.to?.name}"`).join(', ') || 'no transition'}.`,
        { tracker: this.trackerType },
      );
    }
    await this.client.call((api: Any) => api.issues.doTransition({ issueIdOrKey: key, transition: { id: t.id } }));
  }

  /** https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-user-get (by email: user search). */
  async findUser(ref: string): Promise<Person | null> {
    let user: Any = null;
    if (ref.includes('@')) user = await this.userByEmail(ref);
    else {
      const query = this.deployment === 'cloud' ? `accountId=${encodeURIComponent(ref)}` : `username=${encodeURIComponent(ref)}`;
      try {
        user = await (await this.client.fetch(`${this.deployment === 'cloud' ? '/rest/api/3' : '/rest/api/2'}/user?${query}`)).json();
      } catch (error) {
        if (!(error instanceof ConnectorError && error.code === 'NOT_FOUND')) throw error;
      }
    }
    return user ? { displayName: String(user.displayName), email: user.emailAddress ?? null, id: String(user.accountId ?? user.name) } : null;
  }

  /** The assignee reference for an email: accountId on Cloud, user name on Data Center; null clears it. */
  private async userRef(email: string | null): Promise<Record<string, string> | null> {
    if (email === null) return null;
    const user = await this.userByEmail(email);
    if (!user)
      throw new ConnectorError('REJECTED', `There is no Jira user with the email ${email} (or it is hidden from the API user).`, { tracker: this.trackerType });
    return this.deployment === 'cloud' ? { accountId: user.accountId } : { name: user.name };
  }

  /** The user whose email this is, by the user search (Cloud: a query; Data Center: the user name field), or null. */
  private async userByEmail(email: string): Promise<Any | null> {
    const users: Any[] = await this.client.call((api: Any) => api.userSearch.findUsers(this.deployment === 'cloud' ? { query: email } : { username: email }));
    return users.find((u) => (u.emailAddress ?? '').toLowerCase() === email.toLowerCase()) ?? null;
  }

  /** "yyyy/MM/dd HH:mm" of an instant in the API user's time zone (how JQL reads dates). */
  private async jqlMinute(iso: string): Promise<string> {
    this.timeZone ??= this.client.call((api: Any) => api.myself.getCurrentUser()).then((me: Any) => me.timeZone ?? 'UTC');
    const zone = await this.timeZone;
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(new Date(iso))
        .map((p) => [p.type, p.value]),
    );
    return `${parts['year']}/${parts['month']}/${parts['day']} ${parts['hour']}:${parts['minute']}`;
  }

  private notFound(key: string): ConnectorError {
    return new ConnectorError('NOT_FOUND', `Issue ${key} does not exist in ${this.trackerUrl}, or the API user cannot see it.`, {
      tracker: this.trackerType,
      status: 404,
    });
  }
}
