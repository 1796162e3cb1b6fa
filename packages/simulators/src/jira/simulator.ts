import { createHmac, randomUUID } from 'node:crypto';
import Busboy from 'busboy';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { ArrayIndex } from '../common/array-index.js';
import { credentials } from '../common/http.js';
import { SimulatorBase, type SimulatorBaseOptions } from '../common/simulator-base.js';
import { JiraAdminShell, type InstalledApp } from './admin-shell.js';
import { applyPlanningField, checkCustomValue, PLANNING_FIELDS, renderFields, renderParts, renderPlanningFields, renderResolutions } from './fields.js';
import { jqlDate, JqlError, parseJql, type JqlClause, type JqlValue } from './jql.js';
import {
  ISSUE_TYPES,
  PRIORITIES,
  RESOLUTIONS,
  seedJiraState,
  STATUSES,
  TRANSITIONS,
  type JiraAttachment,
  type JiraChangeItem,
  type JiraComment,
  type JiraIssue,
  type JiraSeed,
  type JiraState,
  type JiraUser,
  type JiraWebhook,
} from './state.js';

/**
 * A local Jira site. Cloud: REST v3 (descriptions and comments in Atlassian Document Format, users
 * by account id, enhanced JQL search with page tokens). Data Center: REST v2 (wiki markup, user
 * names, offset paging). Both: admin webhooks (/rest/webhooks/1.0). Shapes, status codes and the
 * ErrorCollection error body follow https://developer.atlassian.com/cloud/jira/platform/rest/v3/
 * and https://docs.atlassian.com/software/jira/docs/api/REST/latest/.
 */
export interface JiraSimulatorOptions extends SimulatorBaseOptions {
  seed?: JiraSeed;
  /** How many comments an issue's `comment` field carries, oldest first (the rest by the comment API): 5000 unless set. */
  issueCommentLimit?: number;
}

type Json = Record<string, unknown>;

class JiraError extends Error {
  constructor(
    readonly status: number,
    readonly errorMessages: string[],
    readonly errors: Record<string, string> = {},
  ) {
    super(errorMessages.join(' ') || Object.values(errors).join(' '));
  }
}

const jiraTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

export class JiraSimulator extends SimulatorBase<JiraState> {
  readonly app: Express;
  private lastChange = 0;
  private deliveries = new Set<Promise<void>>();
  /** Page tokens of the enhanced search (opaque to callers). */
  private pageTokens = new Map<string, { jql: string; offset: number }>();
  private readonly issuesByKeyOrId = new ArrayIndex<JiraIssue, string>((i) => [i.key, i.id]);
  private readonly commentsByIssue = new ArrayIndex<JiraComment, string>((c) => [c.issueId]);

  private readonly issueCommentLimit: number;
  /** Data Center's administration: sign-in, Manage apps, installed apps' pages and servlets. */
  readonly admin: JiraAdminShell;

  constructor(options: JiraSimulatorOptions = {}) {
    super(options, () => seedJiraState(options.seed));
    this.issueCommentLimit = options.issueCommentLimit ?? 5000;
    this.admin = new JiraAdminShell(() => this.state);
    this.app = this.build();
  }

  /** Manage apps → Upload app (Data Center): the jar's descriptor and servlets, run from its own classes. */
  installApp(o: { jar: string; harnessClasspath: string; baseUrl: string }): Promise<InstalledApp> {
    if (this.state.flavor !== 'datacenter') throw new Error('apps are uploaded to Jira Data Center only (Cloud apps are Forge or Connect)');
    return this.admin.install(o);
  }

  /** Stops what installed apps run (their servlet harnesses). */
  close(): Promise<void> {
    return this.admin.close();
  }

  get flavor() {
    return this.state.flavor;
  }

  /** /rest/api/3 on Cloud, /rest/api/2 on Data Center. */
  get apiPath(): string {
    return this.state.flavor === 'cloud' ? '/rest/api/3' : '/rest/api/2';
  }

  async settled(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  user(login: string): JiraUser | undefined {
    return this.state.users.find((u) => u.emailAddress === login || u.name === login || u.accountId === login);
  }

  // ───────────────────────── app ─────────────────────────

  private build(): Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const json = express.json({ limit: '10mb' });
    const r = express.Router({ caseSensitive: true });

    r.use(
      this.faults.middleware((_req, res, fault) => {
        res.status(fault.status).json({ errorMessages: [fault.status === 429 ? 'Rate limit exceeded.' : 'Internal server error.'], errors: {} });
      }),
    );
    const api = this.apiPath;
    const apis = this.state.flavor === 'cloud' ? [api] : [api, '/rest/api/latest'];
    // Data Center answers serverInfo without sign-in (a partner's node asks it whether a URL is a Jira).
    if (this.state.flavor === 'datacenter') for (const a of apis) r.get(`${a}/serverInfo`, (req, res) => this.serverInfo(req, res));
    if (this.state.flavor === 'datacenter') r.use(this.admin.pages());
    r.use((req, res, next) => this.authenticate(req, res, next));
    for (const a of apis) this.apiRoutes(r, a, json);

    // Admin webhooks, on both flavors. https://developer.atlassian.com/server/jira/platform/webhooks/
    r.post('/rest/webhooks/1.0/webhook', json, (req, res) => {
      res.status(201).json(this.renderWebhook(this.base(req), this.createWebhook(req.body as Json)));
    });
    r.get('/rest/webhooks/1.0/webhook', (req, res) => {
      res.json(this.state.webhooks.map((w) => this.renderWebhook(this.base(req), w)));
    });
    r.get('/rest/webhooks/1.0/webhook/:id', (req, res) => {
      res.json(this.renderWebhook(this.base(req), this.webhook(String(req.params['id']))));
    });
    r.delete('/rest/webhooks/1.0/webhook/:id', (req, res) => {
      const hook = this.webhook(String(req.params['id']));
      this.state.webhooks = this.state.webhooks.filter((w) => w !== hook);
      res.status(204).end();
    });
    // Data Center serves attachment bytes here (the attachment's `content` URL).
    r.get('/secure/attachment/:id/:filename', (req, res) => this.sendAttachment(res, String(req.params['id'])));

    app.use(r);
    app.use((_req, res) =>
      res.status(404).json({ errorMessages: ['No such resource: check the path and the API version (v3 on Cloud, v2 on Data Center).'], errors: {} }),
    );
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (error instanceof JiraError) return void res.status(error.status).json({ errorMessages: error.errorMessages, errors: error.errors });
      if ((error as { type?: string }).type === 'entity.parse.failed')
        return void res.status(400).json({ errorMessages: ['Unexpected character in the request body: it is not valid JSON.'], errors: {} });
      res.status(500).json({ errorMessages: [`Internal server error: ${(error as Error).message}`], errors: {} });
    });
    return app;
  }

  private serverInfo(req: Request, res: Response): void {
    res.json({
      baseUrl: this.base(req),
      version: this.state.flavor === 'cloud' ? '1001.0.0-SNAPSHOT' : '9.12.2',
      versionNumbers: this.state.flavor === 'cloud' ? [1001, 0, 0] : [9, 12, 2],
      deploymentType: this.state.flavor === 'cloud' ? 'Cloud' : 'Server',
      buildNumber: 100250,
      buildDate: '2024-01-01T00:00:00.000+0000',
      serverTime: jiraTime(Date.now()),
      scmInfo: 'simulator',
      serverTitle: this.state.serverTitle,
    });
  }

  private apiRoutes(r: express.Router, a: string, json: express.RequestHandler): void {
    r.get(`${a}/serverInfo`, (req, res) => this.serverInfo(req, res));
    r.get(`${a}/myself`, (req, res) => {
      res.json(this.renderUser(this.base(req), this.me(req), true));
    });
    // One user: by account id (Cloud), by user name or key (Data Center).
    r.get(`${a}/user`, (req, res) => {
      const q = req.query as Record<string, string | undefined>;
      const ref = q['accountId'] ?? q['username'] ?? q['key'];
      const user = this.state.users.find((u) => (q['accountId'] !== undefined ? u.accountId === ref : u.name === ref));
      if (!user) throw new JiraError(404, [`The user with ${q['accountId'] !== undefined ? 'account ID' : 'user name'} '${ref ?? ''}' does not exist`]);
      res.json(this.renderUser(this.base(req), user, true));
    });
    r.get(`${a}/user/search`, (req, res) => {
      const q = String(req.query['query'] ?? req.query['username'] ?? '').toLowerCase();
      res.json(
        this.state.users
          .filter((u) => q && [u.emailAddress, u.displayName, u.name].some((x) => x.toLowerCase().includes(q)))
          .map((u) => this.renderUser(this.base(req), u, true)),
      );
    });
    r.get(`${a}/field`, (_req, res) => {
      res.json(renderFields(this.state));
    });
    r.get(`${a}/resolution`, (req, res) => {
      res.json(renderResolutions(this.base(req), a));
    });
    r.get(`${a}/project/:key/components`, (req, res) => {
      res.json(renderParts(this.state, this.base(req), a, 'components', this.project(String(req.params['key'])).id));
    });
    r.get(`${a}/project/:key/versions`, (req, res) => {
      res.json(renderParts(this.state, this.base(req), a, 'versions', this.project(String(req.params['key'])).id));
    });
    r.get(`${a}/priority`, (req, res) => {
      res.json(PRIORITIES.map((p) => this.renderPriority(this.base(req), p.id)));
    });
    r.get(`${a}/project`, (req, res) => {
      res.json(this.state.projects.map((p) => this.renderProject(this.base(req), p, false)));
    });
    r.get(`${a}/project/search`, (req, res) => {
      const startAt = Number(req.query['startAt'] ?? 0);
      const maxResults = Number(req.query['maxResults'] ?? 50);
      const all = this.state.projects;
      const values = all
        .slice(startAt, startAt + maxResults)
        .map((p) => this.renderProject(this.base(req), p, String(req.query['expand'] ?? '').includes('issueTypes')));
      res.json({ self: `${this.base(req)}${a}/project/search`, maxResults, startAt, total: all.length, isLast: startAt + maxResults >= all.length, values });
    });
    r.get(`${a}/project/:key`, (req, res) => {
      res.json(this.renderProject(this.base(req), this.project(String(req.params['key'])), true));
    });
    r.get(`${a}/project/:key/statuses`, (req, res) => {
      const base = this.base(req);
      this.project(String(req.params['key']));
      res.json(
        ISSUE_TYPES.map((t) => ({
          self: `${base}${a}/issuetype/${t.id}`,
          id: t.id,
          name: t.name,
          subtask: false,
          statuses: STATUSES.map((s) => this.renderStatus(base, s.id)),
        })),
      );
    });

    // Issues. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/
    r.post(`${a}/issue`, json, (req, res) => {
      const issue = this.createIssue(req, (req.body ?? {}) as Json);
      res.status(201).json({ id: issue.id, key: issue.key, self: `${this.base(req)}${a}/issue/${issue.id}` });
    });
    r.get(`${a}/issue/:key`, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      res.json(this.renderIssue(req, issue, { fields: this.fieldsParam(req.query['fields'], '*all'), expand: String(req.query['expand'] ?? '') }));
    });
    r.put(`${a}/issue/:key`, json, (req, res) => {
      this.editIssue(req, this.issue(String(req.params['key'])), (req.body ?? {}) as Json);
      res.status(204).end();
    });
    r.delete(`${a}/issue/:key`, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      this.state.issues = this.state.issues.filter((i) => i !== issue);
      this.emit(req, 'jira:issue_deleted', issue, null);
      res.status(204).end();
    });
    r.get(`${a}/issue/:key/transitions`, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      res.json({
        expand: 'transitions',
        transitions: TRANSITIONS.filter((t) => t.to !== issue.statusId).map((t) => ({
          id: t.id,
          name: t.name,
          to: this.renderStatus(this.base(req), t.to),
          hasScreen: false,
          isGlobal: true,
          isInitial: false,
          isAvailable: true,
          isConditional: false,
          isLooped: false,
        })),
      });
    });
    r.post(`${a}/issue/:key/transitions`, json, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      const id = String(((req.body ?? {}) as { transition?: { id?: unknown } }).transition?.id ?? '');
      const transition = TRANSITIONS.find((t) => t.id === id && t.to !== issue.statusId);
      if (!transition) throw new JiraError(400, [`Transition id '${id}' is not valid for this issue.`]);
      const before = structuredClone(issue);
      issue.statusId = transition.to;
      // The simplified workflow's resolution: Done on reaching a done status, none on leaving it.
      const done = (id: string) => STATUSES.find((x) => x.id === id)?.category.key === 'done';
      if (done(issue.statusId) && !issue.resolutionId) issue.resolutionId = '10000';
      if (!done(issue.statusId)) issue.resolutionId = null;
      const fields = ((req.body as Json)['fields'] ?? {}) as Json;
      if (Object.keys(fields).length) this.applyFields(issue, fields);
      this.changed(req, before, issue);
      res.status(204).end();
    });
    r.get(`${a}/issue/:key/changelog`, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      const startAt = Number(req.query['startAt'] ?? 0);
      const maxResults = Number(req.query['maxResults'] ?? 100);
      const all = this.state.histories.filter((h) => h.issueId === issue.id);
      res.json({
        self: `${this.base(req)}${a}/issue/${issue.key}/changelog?maxResults=${maxResults}&startAt=${startAt}`,
        maxResults,
        startAt,
        total: all.length,
        isLast: startAt + maxResults >= all.length,
        values: all.slice(startAt, startAt + maxResults).map((h) => this.renderHistory(req, h)),
      });
    });

    // Search. Cloud: /search/jql with page tokens; Data Center: /search with offsets.
    const enhanced = (req: Request, input: Json) => {
      const token = input['nextPageToken'] ? this.pageTokens.get(String(input['nextPageToken'])) : undefined;
      if (input['nextPageToken'] && !token) throw new JiraError(400, ['The nextPageToken is not valid or has expired.']);
      const jql = token?.jql ?? String(input['jql'] ?? '');
      const maxResults = Math.min(Number(input['maxResults'] ?? 50), 5000);
      const offset = token?.offset ?? 0;
      const found = this.search(req, jql);
      const page = found.slice(offset, offset + maxResults);
      const fields = this.fieldsParam(input['fields'], 'id');
      const more = offset + maxResults < found.length;
      let nextPageToken: string | undefined;
      if (more) {
        nextPageToken = randomUUID();
        this.pageTokens.set(nextPageToken, { jql, offset: offset + maxResults });
      }
      return {
        issues: page.map((i) => this.renderIssue(req, i, { fields, expand: String(input['expand'] ?? '') })),
        ...(nextPageToken ? { nextPageToken } : {}),
        isLast: !more,
      };
    };
    const classic = (req: Request, input: Json) => {
      const jql = String(input['jql'] ?? '');
      const startAt = Number(input['startAt'] ?? 0);
      const maxResults = Math.min(Number(input['maxResults'] ?? 50), 1000);
      const found = this.search(req, jql);
      const fields = this.fieldsParam(input['fields'], '*navigable');
      return {
        expand: 'schema,names',
        startAt,
        maxResults,
        total: found.length,
        issues: found.slice(startAt, startAt + maxResults).map((i) => this.renderIssue(req, i, { fields, expand: String(input['expand'] ?? '') })),
      };
    };
    if (this.state.flavor === 'cloud') {
      r.get(`${a}/search/jql`, (req, res) => void res.json(enhanced(req, req.query as Json)));
      r.post(`${a}/search/jql`, json, (req, res) => void res.json(enhanced(req, (req.body ?? {}) as Json)));
    } else {
      r.get(`${a}/search`, (req, res) => void res.json(classic(req, req.query as Json)));
      r.post(`${a}/search`, json, (req, res) => void res.json(classic(req, (req.body ?? {}) as Json)));
    }

    // Comments. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/
    r.get(`${a}/issue/:key/comment`, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      res.json(
        this.commentPage(req, issue, Number(req.query['startAt'] ?? 0), Number(req.query['maxResults'] ?? 5000), String(req.query['orderBy'] ?? 'created')),
      );
    });
    r.post(`${a}/issue/:key/comment`, json, (req, res) => {
      const issue = this.issue(String(req.params['key']));
      res.status(201).json(this.renderComment(req, this.addComment(req, issue, (req.body as Json)?.['body'])));
    });
    r.get(`${a}/issue/:key/comment/:id`, (req, res) => {
      res.json(this.renderComment(req, this.comment(String(req.params['key']), String(req.params['id']))));
    });
    r.put(`${a}/issue/:key/comment/:id`, json, (req, res) => {
      const comment = this.comment(String(req.params['key']), String(req.params['id']));
      comment.body = this.checkText((req.body as Json)?.['body'], 'body', true);
      comment.updateAuthorId = this.me(req).accountId;
      comment.updated = this.nextChange();
      const issue = this.issue(comment.issueId);
      this.emit(req, 'comment_updated', issue, comment);
      res.json(this.renderComment(req, comment));
    });
    r.delete(`${a}/issue/:key/comment/:id`, (req, res) => {
      const comment = this.comment(String(req.params['key']), String(req.params['id']));
      this.state.comments = this.state.comments.filter((c) => c !== comment);
      res.status(204).end();
    });

    // Attachments. https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/
    r.post(`${a}/issue/:key/attachments`, (req, res, next) => {
      if (String(req.headers['x-atlassian-token'] ?? '').toLowerCase() !== 'no-check') {
        return next(new JiraError(403, ['XSRF check failed: send the header X-Atlassian-Token: no-check with attachment uploads.']));
      }
      const issue = this.issue(String(req.params['key']));
      this.receiveFiles(req)
        .then((files) => {
          if (files.length === 0) throw new JiraError(400, ['No file was sent: use multipart/form-data with a part named "file".']);
          const created = files.map((f) => {
            const attachment: JiraAttachment = {
              id: String(++this.state.counters.attachment),
              issueId: issue.id,
              filename: f.filename,
              authorId: this.me(req).accountId,
              created: this.nextChange(),
              mimeType: f.mimeType,
              content: f.content.toString('base64'),
            };
            this.state.attachments.push(attachment);
            return attachment;
          });
          issue.updated = created.at(-1)!.created;
          this.recordHistory(
            req,
            issue,
            created.map((c) => ({
              field: 'Attachment',
              fieldtype: 'jira',
              fieldId: 'attachment',
              from: null,
              fromString: null,
              to: c.id,
              toString: c.filename,
            })),
          );
          this.emit(req, 'jira:issue_updated', issue, null);
          res.json(created.map((c) => this.renderAttachment(req, c)));
        })
        .catch(next);
    });
    // Attachment metadata: the same fields, with a numeric id (AttachmentMetadata).
    r.get(`${a}/attachment/:id`, (req, res) => {
      const rendered = this.renderAttachment(req, this.attachment(String(req.params['id'])));
      res.json({ ...rendered, id: Number(rendered['id']) });
    });
    r.get(`${a}/attachment/content/:id`, (req, res) => this.sendAttachment(res, String(req.params['id'])));
  }

  // ───────────────────────── cross-cutting ─────────────────────────

  private authenticate(req: Request, res: Response, next: NextFunction): void {
    const cred = credentials(req);
    const found =
      cred?.scheme === 'basic'
        ? this.state.credentials.find(
            (c) => c.kind === (this.state.flavor === 'cloud' ? 'apiToken' : 'password') && c.login === cred.user && c.secret === cred.password,
          )
        : cred?.scheme === 'bearer'
          ? this.state.credentials.find((c) => (c.kind === 'pat' || c.kind === 'apiToken') && c.secret === cred.token)
          : undefined;
    const user = found && this.state.users.find((u) => u.accountId === found.accountId && u.active);
    if (!user) {
      res.setHeader('WWW-Authenticate', 'Basic realm="protected-area"');
      res.status(401).json({ errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} });
      return;
    }
    if (this.limiter) {
      const take = this.limiter.take(user.accountId);
      if (!take.allowed) {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil((take.resetAt - Date.now()) / 1000))));
        res.setHeader('X-RateLimit-Limit', String(this.limiter.limit));
        res.setHeader('X-RateLimit-Remaining', '0');
        res.setHeader('X-RateLimit-Reset', new Date(take.resetAt).toISOString());
        res.status(429).json({ errorMessages: ['Rate limit exceeded.'], errors: {} });
        return;
      }
    }
    (req as Request & { user: JiraUser }).user = user;
    next();
  }

  private me(req: Request): JiraUser {
    return (req as Request & { user: JiraUser }).user;
  }

  private base(req: Request): string {
    return `${req.protocol}://${req.get('host')}`;
  }

  private nextChange(): string {
    const now = Math.max(Date.now(), this.lastChange + 1);
    this.lastChange = now;
    return jiraTime(now);
  }

  private fieldsParam(raw: unknown, fallback: string): Set<string> {
    const list = (Array.isArray(raw) ? raw.map(String) : raw === undefined ? [fallback] : String(raw).split(',')).map((s) => s.trim()).filter(Boolean);
    return new Set(list.length ? list : [fallback]);
  }

  project(keyOrId: string): JiraProject {
    const p = this.state.projects.find((x) => x.key === keyOrId || x.id === keyOrId);
    if (!p) throw new JiraError(404, [`No project could be found with key '${keyOrId}'.`]);
    return p;
  }

  issue(keyOrId: string): JiraIssue {
    const i = this.issuesByKeyOrId.first(this.state.issues, keyOrId);
    if (!i) throw new JiraError(404, ['Issue does not exist or you do not have permission to see it.']);
    return i;
  }

  /** An issue's comments, oldest first. */
  private commentsOf(issue: JiraIssue): readonly JiraComment[] {
    return this.commentsByIssue.all(this.state.comments, issue.id);
  }

  private comment(issueKey: string, id: string): JiraComment {
    const issue = this.issue(issueKey);
    const c = this.commentsOf(issue).find((x) => x.id === id);
    if (!c) throw new JiraError(404, [`Can not find a comment for the id: ${id}.`]);
    return c;
  }

  private attachment(id: string): JiraAttachment {
    const a = this.state.attachments.find((x) => x.id === id);
    if (!a) throw new JiraError(404, [`The attachment with id '${id}' does not exist.`]);
    return a;
  }

  private webhook(id: string): JiraWebhook {
    const w = this.state.webhooks.find((x) => String(x.id) === id);
    if (!w) throw new JiraError(404, [`Webhook ${id} does not exist.`]);
    return w;
  }

  private sendAttachment(res: Response, id: string): void {
    const a = this.attachment(id);
    res.setHeader('content-type', a.mimeType);
    res.setHeader('content-disposition', `attachment; filename="${a.filename}"`);
    res.end(Buffer.from(a.content, 'base64'));
  }

  private receiveFiles(req: Request): Promise<Array<{ filename: string; mimeType: string; content: Buffer }>> {
    return new Promise((resolve, reject) => {
      let bb: Busboy.Busboy;
      try {
        bb = Busboy({ headers: req.headers, limits: { fileSize: 1024 * 1024 * 1024 } });
      } catch {
        reject(new JiraError(415, ['Attachments are uploaded as multipart/form-data.']));
        return;
      }
      const files: Array<{ filename: string; mimeType: string; content: Buffer }> = [];
      bb.on('file', (name, stream, info) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (name === 'file')
            files.push({ filename: info.filename ?? 'attachment', mimeType: info.mimeType || 'application/octet-stream', content: Buffer.concat(chunks) });
        });
      });
      bb.on('error', reject);
      bb.on('close', () => resolve(files));
      req.pipe(bb);
    });
  }

  // ───────────────────────── issues ─────────────────────────

  /** Text fields: ADF documents on Cloud v3, strings on Data Center v2. */
  private checkText(value: unknown, field: string, required: boolean): unknown {
    if (value === undefined || value === null || value === '') {
      if (required) throw new JiraError(400, [], { [field]: `${field === 'body' ? 'Comment body' : field} can not be empty!` });
      return null;
    }
    if (this.state.flavor === 'cloud') {
      const doc = value as { type?: unknown; version?: unknown; content?: unknown };
      if (typeof value !== 'object' || doc.type !== 'doc' || doc.version !== 1 || !Array.isArray(doc.content)) {
        throw new JiraError(400, [], { [field]: 'Operation value must be an Atlassian Document (see the Atlassian Document Format).' });
      }
      return value;
    }
    if (typeof value !== 'string') throw new JiraError(400, [], { [field]: 'Operation value must be a string.' });
    return value;
  }

  private userFrom(value: unknown, field: string): JiraUser | null {
    if (value === null) return null;
    const v = (value ?? {}) as { accountId?: string; name?: string; key?: string; emailAddress?: string };
    const id = this.state.flavor === 'cloud' ? v.accountId : (v.name ?? v.key);
    const user = id ? this.state.users.find((u) => (this.state.flavor === 'cloud' ? u.accountId === id : u.name === id)) : undefined;
    if (!user)
      throw new JiraError(400, [], {
        [field]: this.state.flavor === 'cloud' ? `Specify a valid accountId for ${field}.` : `User '${id ?? ''}' does not exist.`,
      });
    return user;
  }

  private createIssue(req: Request, body: Json): JiraIssue {
    const fields = (body['fields'] ?? {}) as Json;
    const errors: Record<string, string> = {};
    const projectRef = (fields['project'] ?? {}) as { key?: string; id?: string };
    const project = this.state.projects.find((p) => (projectRef.key && p.key === projectRef.key) || (projectRef.id && p.id === String(projectRef.id)));
    if (!project) errors['project'] = 'Specify a valid project ID or key';
    const typeRef = (fields['issuetype'] ?? {}) as { name?: string; id?: string };
    const type = ISSUE_TYPES.find((t) => (typeRef.name && t.name === typeRef.name) || (typeRef.id && t.id === String(typeRef.id)));
    if (!type) errors['issuetype'] = 'Specify an issue type';
    if (typeof fields['summary'] !== 'string' || fields['summary'].trim() === '') errors['summary'] = 'You must specify a summary of the issue.';
    if ('status' in fields) errors['status'] = "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.";
    if (Object.keys(errors).length) throw new JiraError(400, [], errors);
    const now = this.nextChange();
    const me = this.me(req);
    const n = (this.state.counters.keys[project!.key] ?? 0) + 1;
    this.state.counters.keys[project!.key] = n;
    const issue: JiraIssue = {
      id: String(++this.state.counters.issue),
      key: `${project!.key}-${n}`,
      projectId: project!.id,
      issueTypeId: type!.id,
      summary: '',
      description: null,
      labels: [],
      priorityId: '3',
      statusId: STATUSES[0]!.id,
      assigneeId: null,
      reporterId: me.accountId,
      creatorId: me.accountId,
      created: now,
      updated: now,
      customFields: {},
    };
    const { project: _p, issuetype: _t, ...rest } = fields;
    void _p;
    void _t;
    this.applyFields(issue, rest);
    this.state.issues.push(issue);
    this.emit(req, 'jira:issue_created', issue, null);
    return issue;
  }

  private applyFields(issue: JiraIssue, fields: Json): void {
    const errors: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) {
      try {
        switch (name) {
          case 'summary':
            if (typeof value !== 'string' || !value.trim()) throw new JiraError(400, [], { summary: 'You must specify a summary of the issue.' });
            if (value.length > 255) throw new JiraError(400, [], { summary: 'Summary must be less than 255 characters.' });
            issue.summary = value;
            break;
          case 'description':
            issue.description = this.checkText(value, 'description', false);
            break;
          case 'duedate':
          case 'components':
          case 'fixVersions':
          case 'resolution': {
            const refused = applyPlanningField(this.state, issue, name, value);
            if (refused) throw new JiraError(400, [], { [name]: refused });
            break;
          }
          case 'parent': {
            // Jira's hierarchy: a parent is one level up (an epic above a task, a story, a bug).
            if (value === null) {
              issue.parentId = null;
              break;
            }
            const ref = (value ?? {}) as { id?: string; key?: string };
            const parent = this.state.issues.find((x) => (ref.id !== undefined && x.id === String(ref.id)) || (ref.key !== undefined && x.key === ref.key));
            if (!parent) throw new JiraError(400, [], { parent: `Could not find issue by id or key.` });
            const level = (i: JiraIssue) => ISSUE_TYPES.find((t) => t.id === i.issueTypeId)!.hierarchyLevel;
            if (parent.id === issue.id || level(parent) !== level(issue) + 1 || parent.projectId !== issue.projectId)
              throw new JiraError(400, [], { parent: 'Given parent work item does not belong to appropriate hierarchy.' });
            issue.parentId = parent.id;
            break;
          }
          case 'labels':
            if (!Array.isArray(value) || value.some((l) => typeof l !== 'string' || /\s/.test(l)))
              throw new JiraError(400, [], { labels: 'Labels are strings without spaces.' });
            issue.labels = [...new Set(value as string[])];
            break;
          case 'priority': {
            const ref = (value ?? {}) as { id?: string; name?: string };
            const p = PRIORITIES.find((x) => x.id === ref.id || x.name === ref.name);
            if (!p) throw new JiraError(400, [], { priority: `The priority selected is invalid.` });
            issue.priorityId = p.id;
            break;
          }
          case 'assignee':
            issue.assigneeId = this.userFrom(value, 'assignee')?.accountId ?? null;
            break;
          case 'reporter':
            issue.reporterId = this.userFrom(value, 'reporter')!.accountId;
            break;
          case 'status':
            throw new JiraError(400, [], { status: "Field 'status' cannot be set. It is not on the appropriate screen, or unknown." });
          default: {
            const checked = checkCustomValue(this.state, name, value);
            if (!checked.ok) throw new JiraError(400, [], { [name]: checked.message });
            if (checked.value === undefined) delete issue.customFields[name];
            else issue.customFields[name] = checked.value;
          }
        }
      } catch (error) {
        if (error instanceof JiraError) Object.assign(errors, error.errors);
        else throw error;
      }
    }
    if (Object.keys(errors).length) throw new JiraError(400, [], errors);
  }

  private editIssue(req: Request, issue: JiraIssue, body: Json): void {
    const before = structuredClone(issue);
    const draft = structuredClone(issue);
    this.applyFields(draft, (body['fields'] ?? {}) as Json);
    const update = (body['update'] ?? {}) as Record<string, Array<Record<string, unknown>>>;
    for (const [field, ops] of Object.entries(update)) {
      for (const op of ops) {
        if (field === 'labels') {
          if (op['add'] !== undefined) draft.labels = [...new Set([...draft.labels, String(op['add'])])];
          if (op['remove'] !== undefined) draft.labels = draft.labels.filter((l) => l !== String(op['remove']));
          if (op['set'] !== undefined) this.applyFields(draft, { labels: op['set'] });
        } else if (op['set'] !== undefined) {
          this.applyFields(draft, { [field]: op['set'] });
        } else {
          throw new JiraError(400, [], { [field]: `Field '${field}' does not support that update operation.` });
        }
      }
    }
    Object.assign(issue, draft);
    this.changed(req, before, issue);
  }

  /** Stamps an edit: updated time, changelog, webhook. */
  private changed(req: Request, before: JiraIssue, issue: JiraIssue): void {
    const items: JiraChangeItem[] = [];
    const add = (field: string, fieldId: string, from: string | null, fromString: string | null, to: string | null, toString: string | null) =>
      items.push({ field, fieldtype: 'jira', fieldId, from, fromString, to, toString });
    if (before.summary !== issue.summary) add('summary', 'summary', null, before.summary, null, issue.summary);
    if (JSON.stringify(before.description) !== JSON.stringify(issue.description))
      add('description', 'description', null, this.plain(before.description), null, this.plain(issue.description));
    if (before.labels.join(' ') !== issue.labels.join(' ')) add('labels', 'labels', null, before.labels.join(' '), null, issue.labels.join(' '));
    if ((before.duedate ?? null) !== (issue.duedate ?? null)) add('duedate', 'duedate', null, before.duedate ?? null, null, issue.duedate ?? null);
    if ((before.resolutionId ?? null) !== (issue.resolutionId ?? null)) {
      const nameOf = (id: string | null | undefined) => RESOLUTIONS.find((r) => r.id === id)?.name ?? null;
      add('resolution', 'resolution', before.resolutionId ?? null, nameOf(before.resolutionId), issue.resolutionId ?? null, nameOf(issue.resolutionId));
    }
    for (const [field, key] of [
      ['Component', 'componentIds'],
      ['Fix Version', 'fixVersionIds'],
    ] as const)
      if ((before[key] ?? []).join(',') !== (issue[key] ?? []).join(','))
        add(
          field,
          key === 'componentIds' ? 'components' : 'fixVersions',
          null,
          (before[key] ?? []).join(',') || null,
          null,
          (issue[key] ?? []).join(',') || null,
        );
    if ((before.parentId ?? null) !== (issue.parentId ?? null)) {
      const keyOf = (id: string | null | undefined) => (id ? (this.state.issues.find((x) => x.id === id)?.key ?? null) : null);
      add('Parent', 'parent', before.parentId ?? null, keyOf(before.parentId), issue.parentId ?? null, keyOf(issue.parentId));
    }
    if (before.priorityId !== issue.priorityId)
      add(
        'priority',
        'priority',
        before.priorityId,
        PRIORITIES.find((p) => p.id === before.priorityId)!.name,
        issue.priorityId,
        PRIORITIES.find((p) => p.id === issue.priorityId)!.name,
      );
    if (before.statusId !== issue.statusId)
      add(
        'status',
        'status',
        before.statusId,
        STATUSES.find((s) => s.id === before.statusId)!.name,
        issue.statusId,
        STATUSES.find((s) => s.id === issue.statusId)!.name,
      );
    if (before.assigneeId !== issue.assigneeId)
      add(
        'assignee',
        'assignee',
        before.assigneeId,
        this.state.users.find((u) => u.accountId === before.assigneeId)?.displayName ?? null,
        issue.assigneeId,
        this.state.users.find((u) => u.accountId === issue.assigneeId)?.displayName ?? null,
      );
    for (const k of new Set([...Object.keys(before.customFields), ...Object.keys(issue.customFields)])) {
      if (JSON.stringify(before.customFields[k]) !== JSON.stringify(issue.customFields[k]))
        items.push({
          field: k,
          fieldtype: 'custom',
          fieldId: k,
          from: null,
          fromString: before.customFields[k] === undefined ? null : JSON.stringify(before.customFields[k]),
          to: null,
          toString: issue.customFields[k] === undefined ? null : JSON.stringify(issue.customFields[k]),
        });
    }
    if (items.length === 0) return;
    issue.updated = this.nextChange();
    this.recordHistory(req, issue, items);
    this.emit(req, 'jira:issue_updated', issue, null, items);
  }

  private recordHistory(req: Request, issue: JiraIssue, items: JiraChangeItem[]): void {
    this.state.histories.push({
      id: String(++this.state.counters.history),
      issueId: issue.id,
      authorId: this.me(req).accountId,
      created: issue.updated,
      items,
    });
  }

  private addComment(req: Request, issue: JiraIssue, body: unknown): JiraComment {
    const now = this.nextChange();
    const me = this.me(req);
    const comment: JiraComment = {
      id: String(++this.state.counters.comment),
      issueId: issue.id,
      authorId: me.accountId,
      updateAuthorId: me.accountId,
      body: this.checkText(body, 'body', true),
      created: now,
      updated: now,
    };
    this.state.comments.push(comment);
    // Commenting updates the issue, as in Jira.
    issue.updated = now;
    this.emit(req, 'comment_created', issue, comment);
    return comment;
  }

  /** The plain text of a description (for changelog strings and ~ searches). */
  plain(value: unknown): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    const out: string[] = [];
    const walk = (n: unknown) => {
      if (!n || typeof n !== 'object') return;
      const node = n as { type?: string; text?: string; content?: unknown[] };
      if (node.type === 'text' && node.text) out.push(node.text);
      node.content?.forEach(walk);
      if (node.type === 'paragraph' || node.type === 'heading') out.push('\n');
    };
    walk(value);
    return out.join('').trim();
  }

  // ───────────────────────── JQL ─────────────────────────

  /** The issues (of `among`, all by default) that the query matches, in its order. */
  private search(req: Request, jql: string, among: JiraIssue[] = this.state.issues): JiraIssue[] {
    let q;
    try {
      q = parseJql(jql);
    } catch (error) {
      if (error instanceof JqlError) throw new JiraError(400, [error.message]);
      throw error;
    }
    const me = this.me(req);
    const text = (v: JqlValue): string => (v.kind === 'text' ? v.value : v.name === 'currentuser' ? me.accountId : '');
    const known = [
      'project',
      'key',
      'issuekey',
      'id',
      'labels',
      'status',
      'statuscategory',
      'updated',
      'created',
      'issuetype',
      'type',
      'assignee',
      'reporter',
      'summary',
      'description',
      'text',
      'comment',
      'priority',
    ];
    const checkField = (f: string) => {
      const name = f.toLowerCase();
      if (!known.includes(name) && !/^cf\[[0-9]+\]$/.test(name) && !/^customfield_[0-9]+$/.test(name)) {
        throw new JiraError(400, [`Field '${f}' does not exist or you do not have permission to view it.`]);
      }
      return name;
    };
    const userMatches = (id: string | null, v: JqlValue) => {
      if (v.kind === 'function') return v.name === 'currentuser' && id === me.accountId;
      const u = this.state.users.find((x) => x.accountId === id);
      return !!u && [u.accountId, u.name, u.emailAddress, u.displayName].some((x) => x.toLowerCase() === v.value.toLowerCase());
    };
    const single = (issue: JiraIssue, field: string, v: JqlValue): number => {
      switch (field) {
        case 'project': {
          const p = this.state.projects.find((x) => x.id === issue.projectId)!;
          const want = text(v);
          if (!this.state.projects.some((x) => x.key.toLowerCase() === want.toLowerCase() || x.id === want || x.name.toLowerCase() === want.toLowerCase())) {
            throw new JiraError(400, [`The value '${want}' does not exist for the field 'project'.`]);
          }
          return [p.key, p.id, p.name].some((x) => x.toLowerCase() === want.toLowerCase()) ? 0 : 1;
        }
        case 'key':
        case 'issuekey': {
          const want = text(v).toUpperCase();
          const [pk, n] = want.split('-');
          const [ik, m] = issue.key.split('-');
          if (pk !== ik) return issue.key < want ? -1 : 1;
          return Number(m) - Number(n);
        }
        case 'id':
          return Number(issue.id) - Number(text(v));
        case 'status':
        case 'statuscategory': {
          const s = STATUSES.find((x) => x.id === issue.statusId)!;
          const want = text(v).toLowerCase();
          if (field === 'statuscategory') return [s.category.name.toLowerCase(), s.category.key].includes(want) ? 0 : 1;
          if (!STATUSES.some((x) => x.name.toLowerCase() === want || x.id === want))
            throw new JiraError(400, [`The value '${text(v)}' does not exist for the field 'status'.`]);
          return s.name.toLowerCase() === want || s.id === want ? 0 : 1;
        }
        case 'issuetype':
        case 'type': {
          const t = ISSUE_TYPES.find((x) => x.id === issue.issueTypeId)!;
          return t.name.toLowerCase() === text(v).toLowerCase() || t.id === text(v) ? 0 : 1;
        }
        case 'priority': {
          const p = PRIORITIES.find((x) => x.id === issue.priorityId)!;
          const want = PRIORITIES.find((x) => x.name.toLowerCase() === text(v).toLowerCase() || x.id === text(v));
          if (!want) throw new JiraError(400, [`The value '${text(v)}' does not exist for the field 'priority'.`]);
          // Higher priority sorts first: Highest (1) > … > Lowest (5).
          return Number(want.id) - Number(p.id);
        }
        case 'updated':
        case 'created': {
          const at = jqlDate(v);
          if (at === null)
            throw new JiraError(400, [
              `Date value '${text(v)}' for field '${field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.`,
            ]);
          const mine = Date.parse((field === 'updated' ? issue.updated : issue.created).replace('+0000', 'Z'));
          return mine - at;
        }
        default:
          return String(issue.customFields[field.replace(/^cf\[([0-9]+)\]$/, 'customfield_$1')] ?? '').localeCompare(text(v));
      }
    };
    const contains = (issue: JiraIssue, field: string, v: JqlValue): boolean => {
      const needle = text(v).toLowerCase().replace(/[*?]/g, '');
      const comments = () =>
        this.commentsOf(issue)
          .map((c) => this.plain(c.body))
          .join(' ');
      const hay =
        field === 'summary'
          ? issue.summary
          : field === 'description'
            ? (this.plain(issue.description) ?? '')
            : field === 'comment'
              ? comments()
              : `${issue.summary} ${this.plain(issue.description) ?? ''} ${comments()}`;
      return needle.split(/\s+/).every((w) => hay.toLowerCase().includes(w));
    };
    const test = (issue: JiraIssue, c: JqlClause): boolean => {
      if (c.kind === 'and') return test(issue, c.left) && test(issue, c.right);
      if (c.kind === 'or') return test(issue, c.left) || test(issue, c.right);
      if (c.kind === 'not') return !test(issue, c.inner);
      const field = checkField(c.field);
      if (c.kind === 'empty') {
        const empty =
          field === 'labels'
            ? issue.labels.length === 0
            : field === 'assignee'
              ? issue.assigneeId === null
              : field === 'description'
                ? issue.description === null
                : issue.customFields[field] === undefined;
        return empty !== c.negated;
      }
      const eq = (v: JqlValue) =>
        field === 'labels'
          ? issue.labels.some((l) => l.toLowerCase() === text(v).toLowerCase())
          : field === 'assignee' || field === 'reporter'
            ? userMatches(field === 'assignee' ? issue.assigneeId : issue.reporterId, v)
            : single(issue, field, v) === 0;
      if (c.kind === 'in') return c.values.some(eq) !== c.negated;
      switch (c.op) {
        case '=':
          return eq(c.value);
        case '!=':
          return !eq(c.value);
        case '~':
        case '!~':
          if (!['summary', 'description', 'text', 'comment'].includes(field))
            throw new JiraError(400, [`The operator '${c.op}' is not supported by the '${c.field}' field.`]);
          return contains(issue, field, c.value) === (c.op === '~');
        default: {
          if (['labels', 'assignee', 'reporter', 'summary', 'description', 'text', 'comment', 'issuetype', 'type', 'project', 'status'].includes(field)) {
            throw new JiraError(400, [`The operator '${c.op}' is not supported by the '${c.field}' field.`]);
          }
          const d = single(issue, field, c.value);
          return { '>': d > 0, '>=': d >= 0, '<': d < 0, '<=': d <= 0 }[c.op];
        }
      }
    };
    const found = among.filter((i) => !q.where || test(i, q.where));
    const order = q.orderBy.length ? q.orderBy : [{ field: 'created', descending: true }];
    const key = (i: JiraIssue, f: string): number | string => {
      const name = checkField(f);
      if (name === 'updated') return Date.parse(i.updated.replace('+0000', 'Z'));
      if (name === 'created') return Date.parse(i.created.replace('+0000', 'Z'));
      if (name === 'key' || name === 'issuekey' || name === 'id') return Number(i.id);
      if (name === 'priority') return Number(i.priorityId);
      if (name === 'summary') return i.summary.toLowerCase();
      if (name === 'status') return STATUSES.findIndex((s) => s.id === i.statusId);
      return String(i.customFields[name] ?? '');
    };
    return found.sort((a, b) => {
      for (const o of order) {
        const x = key(a, o.field);
        const y = key(b, o.field);
        const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        if (d !== 0) return o.descending ? -d : d;
      }
      return Number(a.id) - Number(b.id);
    });
  }

  // ───────────────────────── rendering ─────────────────────────

  private avatars(base: string, id: string) {
    const url = (s: number) => `${base}/secure/useravatar?size=${s}&ownerId=${encodeURIComponent(id)}`;
    return { '48x48': url(48), '24x24': url(24), '16x16': url(16), '32x32': url(32) };
  }

  /** A user; `full` is the User of /myself and /user (with locale), otherwise the UserDetails embedded in issues. */
  renderUser(base: string, u: JiraUser, full = false): Json {
    if (this.state.flavor === 'cloud') {
      return {
        self: `${base}/rest/api/3/user?accountId=${u.accountId}`,
        accountId: u.accountId,
        accountType: 'atlassian',
        emailAddress: u.emailAddress,
        avatarUrls: this.avatars(base, u.accountId),
        displayName: u.displayName,
        active: u.active,
        timeZone: 'UTC',
        ...(full ? { locale: 'en_US' } : {}),
      };
    }
    return {
      self: `${base}/rest/api/2/user?username=${u.name}`,
      key: u.name,
      name: u.name,
      emailAddress: u.emailAddress,
      avatarUrls: this.avatars(base, u.name),
      displayName: u.displayName,
      active: u.active,
      timeZone: 'UTC',
    };
  }

  private userRef(base: string, id: string | null): Json | null {
    const u = this.state.users.find((x) => x.accountId === id);
    return u ? this.renderUser(base, u) : null;
  }

  private renderStatus(base: string, id: string): Json {
    const s = STATUSES.find((x) => x.id === id)!;
    return {
      self: `${base}${this.apiPath}/status/${s.id}`,
      description: '',
      iconUrl: `${base}/images/icons/statuses/generic.png`,
      name: s.name,
      id: s.id,
      statusCategory: {
        self: `${base}${this.apiPath}/statuscategory/${s.category.id}`,
        id: s.category.id,
        key: s.category.key,
        colorName: s.category.colorName,
        name: s.category.name,
      },
    };
  }

  private renderPriority(base: string, id: string): Json {
    const p = PRIORITIES.find((x) => x.id === id)!;
    return {
      self: `${base}${this.apiPath}/priority/${p.id}`,
      statusColor: p.color,
      description: `${p.name} priority`,
      iconUrl: `${base}/images/icons/priorities/${p.name.toLowerCase()}.svg`,
      name: p.name,
      id: p.id,
    };
  }

  private renderIssueType(base: string, id: string): Json {
    const t = ISSUE_TYPES.find((x) => x.id === id)!;
    return {
      self: `${base}${this.apiPath}/issuetype/${t.id}`,
      id: t.id,
      description: t.description,
      iconUrl: `${base}/images/icons/issuetypes/${t.name.toLowerCase()}.svg`,
      name: t.name,
      subtask: false,
      avatarId: 10300 + Number(t.id.slice(-1)),
      hierarchyLevel: t.hierarchyLevel,
    };
  }

  private renderProject(base: string, p: JiraProject, full: boolean): Json {
    const out: Json = {
      self: `${base}${this.apiPath}/project/${p.id}`,
      id: p.id,
      key: p.key,
      name: p.name,
      avatarUrls: {
        '48x48': `${base}/secure/projectavatar?pid=${p.id}`,
        '24x24': `${base}/secure/projectavatar?size=small&pid=${p.id}`,
        '16x16': `${base}/secure/projectavatar?size=xsmall&pid=${p.id}`,
        '32x32': `${base}/secure/projectavatar?size=medium&pid=${p.id}`,
      },
      projectTypeKey: 'software',
      simplified: false,
      style: 'classic',
      isPrivate: false,
    };
    if (full) {
      out['description'] = '';
      out['lead'] = this.userRef(base, p.leadId);
      out['issueTypes'] = ISSUE_TYPES.map((t) => this.renderIssueType(base, t.id));
      out['assigneeType'] = 'UNASSIGNED';
    }
    return out;
  }

  private renderComment(req: Request, c: JiraComment): Json {
    const base = this.base(req);
    return {
      self: `${base}${this.apiPath}/issue/${c.issueId}/comment/${c.id}`,
      id: c.id,
      author: this.userRef(base, c.authorId),
      body: c.body,
      updateAuthor: this.userRef(base, c.updateAuthorId),
      created: c.created,
      updated: c.updated,
      ...(this.state.flavor === 'cloud' ? { jsdPublic: true } : {}),
    };
  }

  private commentPage(req: Request, issue: JiraIssue, startAt: number, maxResults: number, orderBy: string): Json {
    let all = this.commentsOf(issue);
    if (orderBy.startsWith('-')) all = [...all].reverse();
    return {
      self: `${this.base(req)}${this.apiPath}/issue/${issue.id}/comment`,
      startAt,
      maxResults,
      total: all.length,
      comments: all.slice(startAt, startAt + maxResults).map((c) => this.renderComment(req, c)),
    };
  }

  private renderAttachment(req: Request, a: JiraAttachment): Json {
    const base = this.base(req);
    return {
      self: `${base}${this.apiPath}/attachment/${a.id}`,
      id: a.id,
      filename: a.filename,
      author: this.userRef(base, a.authorId),
      created: a.created,
      size: Buffer.from(a.content, 'base64').length,
      mimeType: a.mimeType,
      content:
        this.state.flavor === 'cloud' ? `${base}/rest/api/3/attachment/content/${a.id}` : `${base}/secure/attachment/${a.id}/${encodeURIComponent(a.filename)}`,
    };
  }

  /** Change items carry only the values there are (the v3 description types them as strings). */
  private renderHistory(req: Request, h: { id: string; authorId: string; created: string; items: JiraChangeItem[] }): Json {
    const items = h.items.map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => v !== null)));
    return { id: h.id, author: this.userRef(this.base(req), h.authorId), created: h.created, items };
  }

  renderIssue(req: Request, issue: JiraIssue, o: { fields: Set<string>; expand: string }): Json {
    const base = this.base(req);
    const all = o.fields.has('*all') || o.fields.has('*navigable');
    const want = (f: string) => (all || o.fields.has(f)) && !o.fields.has(`-${f}`);
    const project = this.state.projects.find((p) => p.id === issue.projectId)!;
    const fields: Json = {};
    if (want('summary')) fields['summary'] = issue.summary;
    if (want('description')) fields['description'] = issue.description;
    if (want('labels')) fields['labels'] = issue.labels;
    if (want('priority')) fields['priority'] = this.renderPriority(base, issue.priorityId);
    if (want('status')) fields['status'] = this.renderStatus(base, issue.statusId);
    if (want('assignee')) fields['assignee'] = this.userRef(base, issue.assigneeId);
    if (want('reporter')) fields['reporter'] = this.userRef(base, issue.reporterId);
    if (want('creator')) fields['creator'] = this.userRef(base, issue.creatorId);
    if (want('issuetype')) fields['issuetype'] = this.renderIssueType(base, issue.issueTypeId);
    if (want('project')) fields['project'] = this.renderProject(base, project, false);
    const planning = renderPlanningFields(this.state, base, this.apiPath, issue);
    for (const f of PLANNING_FIELDS) if (want(f)) fields[f] = planning[f];
    const parent = issue.parentId ? this.state.issues.find((x) => x.id === issue.parentId) : undefined;
    if (want('parent') && parent)
      fields['parent'] = {
        id: parent.id,
        key: parent.key,
        self: `${base}${this.apiPath}/issue/${parent.id}`,
        fields: {
          summary: parent.summary,
          status: this.renderStatus(base, parent.statusId),
          priority: this.renderPriority(base, parent.priorityId),
          issuetype: this.renderIssueType(base, parent.issueTypeId),
        },
      };
    if (want('created')) fields['created'] = issue.created;
    if (want('updated')) fields['updated'] = issue.updated;
    if (want('comment') && (o.fields.has('*all') || o.fields.has('comment')))
      fields['comment'] = this.commentPage(req, issue, 0, this.issueCommentLimit, 'created');
    if (want('attachment')) fields['attachment'] = this.state.attachments.filter((a) => a.issueId === issue.id).map((a) => this.renderAttachment(req, a));
    for (const [k, v] of Object.entries(issue.customFields)) if (want(k)) fields[k] = v;
    const out: Json = {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: `${base}${this.apiPath}/issue/${issue.id}`,
      key: issue.key,
    };
    if (Object.keys(fields).length || !o.fields.has('id')) out['fields'] = fields;
    if (o.expand.split(',').includes('changelog')) {
      const histories = this.state.histories.filter((h) => h.issueId === issue.id);
      out['changelog'] = { startAt: 0, maxResults: histories.length, total: histories.length, histories: histories.map((h) => this.renderHistory(req, h)) };
    }
    return out;
  }

  // ───────────────────────── webhooks ─────────────────────────

  private createWebhook(body: Json): JiraWebhook {
    const errors: Record<string, string> = {};
    if (typeof body['name'] !== 'string' || !body['name']) errors['name'] = 'A webhook needs a name.';
    try {
      const u = new URL(String(body['url'] ?? ''));
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      errors['url'] = 'The URL is not valid.';
    }
    const events = Array.isArray(body['events']) ? (body['events'] as unknown[]).map(String) : [];
    const supported = ['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted', 'comment_created', 'comment_updated'];
    if (!events.length || events.some((e) => !supported.includes(e))) errors['events'] = `Choose events among ${supported.join(', ')}.`;
    const filters = (body['filters'] ?? {}) as Record<string, string>;
    const jqlFilter = String(filters['issue-related-events-section'] ?? body['jqlFilter'] ?? '');
    if (jqlFilter) {
      try {
        parseJql(jqlFilter);
      } catch (error) {
        errors['filters'] = (error as Error).message;
      }
    }
    if (Object.keys(errors).length) throw new JiraError(400, [], errors);
    const hook: JiraWebhook = {
      id: ++this.state.counters.webhook,
      name: String(body['name']),
      url: String(body['url']),
      events,
      jqlFilter,
      enabled: body['enabled'] !== false,
      excludeBody: body['excludeBody'] === true,
      secret: typeof body['secret'] === 'string' && body['secret'] ? (body['secret'] as string) : null,
      lastUpdated: jiraTime(Date.now()),
    };
    this.state.webhooks.push(hook);
    return hook;
  }

  private renderWebhook(base: string, w: JiraWebhook): Json {
    return {
      self: `${base}/rest/webhooks/1.0/webhook/${w.id}`,
      name: w.name,
      url: w.url,
      events: w.events,
      filters: { 'issue-related-events-section': w.jqlFilter },
      enabled: w.enabled,
      excludeBody: w.excludeBody,
      lastUpdated: w.lastUpdated,
    };
  }

  /** Delivers an event to every enabled webhook whose events and JQL filter match. */
  private emit(req: Request, event: string, issue: JiraIssue, comment: JiraComment | null, items: JiraChangeItem[] = []): void {
    for (const hook of this.state.webhooks) {
      if (!hook.enabled || !hook.events.includes(event)) continue;
      // The filter asks about this one issue, not the whole site (a write would otherwise cost a search).
      if (hook.jqlFilter && event !== 'jira:issue_deleted' && this.search(req, hook.jqlFilter, [issue]).length === 0) continue;
      const payload: Json = {
        timestamp: Date.now(),
        webhookEvent: event,
        ...(event.startsWith('jira:issue')
          ? {
              issue_event_type_name:
                event === 'jira:issue_created'
                  ? 'issue_created'
                  : event === 'jira:issue_deleted'
                    ? 'issue_deleted'
                    : items.some((i) => i.field === 'status')
                      ? 'issue_generic'
                      : 'issue_updated',
            }
          : {}),
        user: this.renderUser(this.base(req), this.me(req)),
        ...(hook.excludeBody ? {} : { issue: this.renderIssue(req, issue, { fields: new Set(['*navigable']), expand: '' }) }),
        ...(items.length ? { changelog: { id: this.state.histories.at(-1)?.id, items } } : {}),
        ...(comment ? { comment: this.renderComment(req, comment) } : {}),
      };
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'x-atlassian-webhook-identifier': randomUUID() };
      if (hook.secret) headers['x-hub-signature'] = `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`;
      const delivery = fetch(hook.url, { method: 'POST', headers, body })
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    }
  }
}

type JiraProject = JiraState['projects'][number];
