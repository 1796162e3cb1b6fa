import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { credentials, FaultInjector, listen, RateLimiter, type RunningSimulator } from '../common/http.js';
import { FIELDS, findField } from './fields.js';
import { LOCATIONS, MAX_API_VERSION, RESOURCE_AREAS } from './locations.js';
import { PROCESSES, seedAdoState, type AdoAttachment, type AdoComment, type AdoIdentity, type AdoProject, type AdoRelation, type AdoSeed, type AdoState, type AdoSubscription, type AdoWorkItem } from './state.js';
import { parseWiql, WiqlError, type WiqlCondition, type WiqlValue } from './wiql.js';

/**
 * A local Azure DevOps Services organization: the Work Item Tracking, Core (projects), Location and
 * Service Hooks REST APIs as documented for api-version 7.1, answering in the service's shapes,
 * status codes and error bodies. https://learn.microsoft.com/rest/api/azure/devops/wit/?view=azure-devops-rest-7.1
 */
export interface AdoSimulatorOptions {
  seed?: AdoSeed;
  /** Load from and save to this JSON file (`save()`); created from the seed when absent. */
  stateFile?: string;
  /** Requests per window per identity; past it, 429 with Retry-After and X-RateLimit-* headers. */
  rateLimit?: { limit: number; windowMs: number };
}

type Json = Record<string, unknown>;

const IDENTITY_FIELDS = new Set(FIELDS.filter((f) => f.type === 'identity').map((f) => f.referenceName));
const DATE_FIELDS = new Set(FIELDS.filter((f) => f.type === 'dateTime').map((f) => f.referenceName));

/** The service's error body. */
function vssError(res: Response, status: number, typeKey: string, message: string): void {
  res.status(status).json({
    $id: '1',
    innerException: null,
    message,
    typeName: `Microsoft.VisualStudio.Services.WebApi.${typeKey}, Microsoft.VisualStudio.Services.WebApi`,
    typeKey,
    errorCode: 0,
    eventId: 3000,
  });
}

class HttpError extends Error {
  constructor(readonly status: number, readonly typeKey: string, message: string) {
    super(message);
  }
}

interface Ctx {
  base: string;
  identity: AdoIdentity;
  /** The api-version the caller asked for; some shapes changed between versions. */
  apiVersion: { major: number; minor: number; resourceVersion: number | null };
}

export class AdoSimulator {
  readonly app: Express;
  readonly faults = new FaultInjector();
  state: AdoState;
  private readonly limiter: RateLimiter | null;
  private lastChange = 0;
  /** Deliveries of service-hook events still under way (tests await them). */
  private deliveries = new Set<Promise<void>>();

  constructor(private readonly options: AdoSimulatorOptions = {}) {
    this.state = options.stateFile && existsSync(options.stateFile) ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as AdoState) : seedAdoState(options.seed);
    this.limiter = options.rateLimit ? new RateLimiter(options.rateLimit.limit, options.rateLimit.windowMs) : null;
    this.app = this.build();
  }

  get organization(): string {
    return this.state.organization;
  }

  save(): void {
    if (!this.options.stateFile) throw new Error('no stateFile configured');
    writeFileSync(this.options.stateFile, JSON.stringify(this.state, null, 2));
  }

  listen(port = 0): Promise<RunningSimulator> {
    return listen(this.app, port);
  }

  /** Waits for service-hook deliveries triggered so far. */
  async settled(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  /** A work item as stored (for test assertions; the API is the way to read it). */
  workItem(id: number): AdoWorkItem | undefined {
    return this.state.workItems[String(id)];
  }

  // ───────────────────────── app ─────────────────────────

  private build(): Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const org = `/${this.state.organization}`;
    const r = express.Router({ caseSensitive: false });

    r.use(this.faults.middleware((_req, res, fault) => {
      if (fault.status === 429) res.setHeader('X-RateLimit-Resource', 'Core');
      vssError(res, fault.status, fault.status === 429 ? 'RequestThrottledException' : 'VssServiceException', fault.status === 429 ? 'Request was blocked due to exceeding usage of resource \'Core\' in namespace \'User\'.' : 'VS402371: An unexpected error occurred. Try again later.');
    }));
    r.use((req, res, next) => this.authenticate(req, res, next));
    r.use((req, res, next) => this.checkApiVersion(req, res, next));

    r.options('/_apis/:area', (req, res) => {
      const area = String(req.params['area']).toLowerCase();
      const value = LOCATIONS.filter((l) => l.area.toLowerCase() === area);
      res.json({ count: value.length, value });
    });
    r.get('/_apis/resourceAreas', (req, res) => {
      const base = this.ctx(req).base;
      res.json({ count: RESOURCE_AREAS.length, value: RESOURCE_AREAS.map((a) => ({ id: a.id, name: a.name, locationUrl: `${base}/` })) });
    });

    // Core: projects. https://learn.microsoft.com/rest/api/azure/devops/core/projects/list?view=azure-devops-rest-7.1
    r.get('/_apis/projects', (req, res) => {
      const top = Number(req.query['$top'] ?? 100);
      const skip = Number(req.query['continuationToken'] ?? req.query['$skip'] ?? 0);
      const all = this.state.projects;
      const page = all.slice(skip, skip + top);
      if (skip + top < all.length) res.setHeader('x-ms-continuationtoken', String(skip + top));
      res.json({ count: page.length, value: page.map((p) => this.renderProject(this.ctx(req).base, p)) });
    });
    r.get('/_apis/projects/:projectId', (req, res) => {
      res.json(this.renderProject(this.ctx(req).base, this.project(String(req.params['projectId']))));
    });

    const json = express.json({ type: ['application/json', 'application/json-patch+json'], limit: '25mb' });

    // Work items. https://learn.microsoft.com/rest/api/azure/devops/wit/work-items?view=azure-devops-rest-7.1
    r.post('{/:project}/_apis/wit/workitems/:type', json, (req, res) => {
      const type = String(req.params['type']);
      if (!type.startsWith('$')) throw new HttpError(405, 'VssServiceException', 'The requested resource does not support http method \'POST\'.');
      this.requirePatchContentType(req);
      const project = this.project(this.requiredProject(req));
      const item = this.createWorkItem(this.ctx(req), project, type.slice(1), req.body as unknown, this.flag(req, 'validateOnly'), this.flag(req, 'bypassRules'));
      res.json(this.renderWorkItem(this.ctx(req).base, item, { expand: String(req.query['$expand'] ?? '') }));
    });
    r.get('{/:project}/_apis/wit/workitems/:id', (req, res) => {
      const item = this.item(String(req.params['id']));
      res.json(this.renderWorkItem(this.ctx(req).base, item, { expand: String(req.query['$expand'] ?? ''), fields: this.listParam(req, 'fields') }));
    });
    r.patch('{/:project}/_apis/wit/workitems/:id', json, (req, res) => {
      this.requirePatchContentType(req);
      const item = this.updateWorkItem(this.ctx(req), this.item(String(req.params['id'])), req.body as unknown, this.flag(req, 'validateOnly'), this.flag(req, 'bypassRules'));
      res.json(this.renderWorkItem(this.ctx(req).base, item, { expand: String(req.query['$expand'] ?? '') }));
    });
    r.delete('{/:project}/_apis/wit/workitems/:id', (req, res) => {
      const item = this.item(String(req.params['id']));
      delete this.state.workItems[String(item.id)];
      this.emit('workitem.deleted', this.ctx(req), item, null);
      res.json({ id: item.id, deletedBy: this.identityRef(this.ctx(req).base, this.ctx(req).identity), deletedDate: new Date().toISOString(), url: `${this.ctx(req).base}/_apis/wit/recyclebin/${item.id}` });
    });
    r.get('{/:project}/_apis/wit/workitems', (req, res) => {
      const ids = this.listParam(req, 'ids');
      if (!ids?.length) throw new HttpError(400, 'VssPropertyValidationException', 'The ids parameter is required.');
      if (ids.length > 200) throw new HttpError(400, 'VssServiceException', 'VS403474: You cannot request more than 200 work items at once.');
      const value = ids.map((id) => this.item(id)).map((i) => this.renderWorkItem(this.ctx(req).base, i, { expand: String(req.query['$expand'] ?? ''), fields: this.listParam(req, 'fields') }));
      res.json({ count: value.length, value });
    });
    r.post('{/:project}/_apis/wit/workitemsbatch', json, (req, res) => {
      const body = (req.body ?? {}) as { ids?: number[]; fields?: string[]; $expand?: string; errorPolicy?: string };
      if (!Array.isArray(body.ids) || body.ids.length === 0) throw new HttpError(400, 'VssPropertyValidationException', 'The ids are required.');
      if (body.ids.length > 200) throw new HttpError(400, 'VssServiceException', 'VS403474: You cannot request more than 200 work items at once.');
      const value = body.ids.flatMap((id) => {
        const item = this.state.workItems[String(id)];
        if (!item) {
          if (body.errorPolicy === 'omit') return [null];
          throw this.notFound(id);
        }
        return [this.renderWorkItem(this.ctx(req).base, item, { expand: body.$expand ?? '', fields: body.fields ?? null, links: false })];
      });
      res.json({ count: value.length, value });
    });

    // WIQL. https://learn.microsoft.com/rest/api/azure/devops/wit/wiql/query-by-wiql?view=azure-devops-rest-7.1
    r.post('{/:project}{/:team}/_apis/wit/wiql', json, (req, res) => {
      const query = String((req.body as { query?: unknown })?.query ?? '');
      const projectName = req.params['project'] ? this.project(String(req.params['project'])).name : null;
      res.json(this.runWiql(this.ctx(req), query, projectName, Number(req.query['$top'] ?? 20000), this.flag(req, 'timePrecision')));
    });

    // Comments (preview). https://learn.microsoft.com/rest/api/azure/devops/wit/comments?view=azure-devops-rest-7.1
    r.post('/:project/_apis/wit/workitems/:id/comments', json, (req, res) => {
      const item = this.item(String(req.params['id']));
      const text = (req.body as { text?: unknown })?.text;
      if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'VssPropertyValidationException', 'The comment text is required.');
      res.json(this.renderComment(this.ctx(req), this.addComment(this.ctx(req), item, text)));
    });
    r.get('/:project/_apis/wit/workitems/:id/comments', (req, res) => {
      const item = this.item(String(req.params['id']));
      const includeDeleted = this.flag(req, 'includeDeleted');
      let comments = (this.state.comments[String(item.id)] ?? []).filter((c) => includeDeleted || !c.isDeleted);
      if (String(req.query['order'] ?? 'desc').toLowerCase() !== 'asc') comments = [...comments].reverse();
      const ids = this.listParam(req, 'ids');
      if (ids) comments = comments.filter((c) => ids.includes(String(c.commentId)));
      const top = Math.min(Number(req.query['$top'] ?? 200), 200);
      const start = req.query['continuationToken'] ? Number(Buffer.from(String(req.query['continuationToken']), 'base64url').toString()) : 0;
      const page = comments.slice(start, start + top);
      const base = this.ctx(req).base;
      const url = `${base}/${encodeURIComponent(String(req.params['project']))}/_apis/wit/workItems/${item.id}/comments`;
      const more = start + top < comments.length;
      const token = Buffer.from(String(start + top)).toString('base64url');
      res.json({
        totalCount: comments.length,
        count: page.length,
        comments: page.map((c) => this.renderComment(this.ctx(req), c)),
        ...(more ? { nextPage: `${url}?continuationToken=${token}`, continuationToken: token } : {}),
        url,
      });
    });
    r.get('/:project/_apis/wit/workitems/:id/comments/:commentId', (req, res) => {
      res.json(this.renderComment(this.ctx(req), this.comment(String(req.params['id']), String(req.params['commentId']))));
    });
    r.patch('/:project/_apis/wit/workitems/:id/comments/:commentId', json, (req, res) => {
      const comment = this.comment(String(req.params['id']), String(req.params['commentId']));
      const text = (req.body as { text?: unknown })?.text;
      if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'VssPropertyValidationException', 'The comment text is required.');
      comment.text = text;
      comment.version += 1;
      comment.modifiedBy = this.ctx(req).identity.id;
      comment.modifiedDate = this.nextChangeDate();
      res.json(this.renderComment(this.ctx(req), comment));
    });
    r.delete('/:project/_apis/wit/workitems/:id/comments/:commentId', (req, res) => {
      const comment = this.comment(String(req.params['id']), String(req.params['commentId']));
      comment.isDeleted = true;
      comment.modifiedDate = this.nextChangeDate();
      res.status(200).end();
    });

    // Attachments. https://learn.microsoft.com/rest/api/azure/devops/wit/attachments?view=azure-devops-rest-7.1
    r.post('{/:project}/_apis/wit/attachments', express.raw({ type: () => true, limit: '130mb' }), (req, res) => {
      const fileName = String(req.query['fileName'] ?? '');
      if (!fileName) throw new HttpError(400, 'VssPropertyValidationException', 'The fileName parameter is required.');
      const content = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const attachment: AdoAttachment = { id: randomUUID(), fileName, content: content.toString('base64') };
      this.state.attachments[attachment.id] = attachment;
      res.status(201).json({ id: attachment.id, url: this.attachmentUrl(this.ctx(req).base, attachment) });
    });
    r.get('{/:project}/_apis/wit/attachments/:id', (req, res) => {
      const attachment = this.state.attachments[String(req.params['id']).toLowerCase()];
      if (!attachment) throw new HttpError(404, 'AttachmentNotFoundException', `TF401001: Attachment with id ${req.params['id']} does not exist.`);
      const bytes = Buffer.from(attachment.content, 'base64');
      res.setHeader('content-type', 'application/octet-stream');
      if (this.flag(req, 'download')) res.setHeader('content-disposition', `attachment; filename="${attachment.fileName}"`);
      res.end(bytes);
    });

    // Updates and revisions. https://learn.microsoft.com/rest/api/azure/devops/wit/updates?view=azure-devops-rest-7.1
    r.get('{/:project}/_apis/wit/workitems/:id/updates', (req, res) => {
      const item = this.item(String(req.params['id']));
      const all = this.updatesOf(this.ctx(req).base, item);
      const skip = Number(req.query['$skip'] ?? 0);
      const top = Number(req.query['$top'] ?? 200);
      const value = all.slice(skip, skip + top);
      res.json({ count: value.length, value });
    });
    r.get('{/:project}/_apis/wit/workitems/:id/updates/:n', (req, res) => {
      const item = this.item(String(req.params['id']));
      const update = this.updatesOf(this.ctx(req).base, item).find((u) => u['id'] === Number(req.params['n']));
      if (!update) throw new HttpError(404, 'WorkItemUpdateNotFoundException', `The update ${req.params['n']} of work item ${item.id} does not exist.`);
      res.json(update);
    });
    r.get('{/:project}/_apis/wit/workitems/:id/revisions', (req, res) => {
      const item = this.item(String(req.params['id']));
      const skip = Number(req.query['$skip'] ?? 0);
      const top = Number(req.query['$top'] ?? 200);
      const value = item.revisions.slice(skip, skip + top).map((rev) => this.renderWorkItem(this.ctx(req).base, { ...item, rev: rev.rev, fields: rev.fields, relations: rev.relations }, { expand: String(req.query['$expand'] ?? '') }));
      res.json({ count: value.length, value });
    });
    r.get('{/:project}/_apis/wit/workitems/:id/revisions/:n', (req, res) => {
      const item = this.item(String(req.params['id']));
      const rev = item.revisions.find((x) => x.rev === Number(req.params['n']));
      if (!rev) throw new HttpError(404, 'WorkItemRevisionNotFoundException', `TF401233: Revision ${req.params['n']} of work item ${item.id} does not exist.`);
      res.json(this.renderWorkItem(this.ctx(req).base, { ...item, rev: rev.rev, fields: rev.fields, relations: rev.relations }, { expand: String(req.query['$expand'] ?? '') }));
    });

    // Work item types.
    r.get('/:project/_apis/wit/workitemtypes', (req, res) => {
      const project = this.project(String(req.params['project']));
      const base = this.ctx(req).base;
      const value = Object.entries(PROCESSES[project.process]).map(([name, def]) => ({
        name,
        referenceName: `Microsoft.VSTS.WorkItemTypes.${name.replace(/\s/g, '')}`,
        description: `${name} work item`,
        color: '009CCC',
        icon: { id: `icon_${name.toLowerCase().replace(/\s/g, '_')}`, url: `${base}/_apis/wit/workItemIcons/icon` },
        isDisabled: false,
        states: def.states.map((s) => ({ name: s, color: 'b2b2b2', category: s === def.initial ? 'Proposed' : ['Closed', 'Done', 'Removed'].includes(s) ? 'Completed' : 'InProgress' })),
        url: `${base}/${project.id}/_apis/wit/workItemTypes/${encodeURIComponent(name)}`,
      }));
      res.json({ count: value.length, value });
    });

    // Service hooks. https://learn.microsoft.com/rest/api/azure/devops/hooks/subscriptions?view=azure-devops-rest-7.1
    r.post('/_apis/hooks/subscriptions', json, (req, res) => {
      res.json(this.renderSubscription(this.ctx(req).base, this.createSubscription(this.ctx(req), req.body as Json)));
    });
    r.get('/_apis/hooks/subscriptions', (req, res) => {
      res.json({ count: this.state.subscriptions.length, value: this.state.subscriptions.map((s) => this.renderSubscription(this.ctx(req).base, s)) });
    });
    r.get('/_apis/hooks/subscriptions/:id', (req, res) => {
      res.json(this.renderSubscription(this.ctx(req).base, this.subscription(String(req.params['id']))));
    });
    r.delete('/_apis/hooks/subscriptions/:id', (req, res) => {
      const sub = this.subscription(String(req.params['id']));
      this.state.subscriptions = this.state.subscriptions.filter((s) => s !== sub);
      res.status(204).end();
    });

    app.use(org, r);
    app.use((_req, res) => vssError(res, 404, 'RouteNotFoundException', 'The requested resource is not available: no such route.'));
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (error instanceof HttpError) return vssError(res, error.status, error.typeKey, error.message);
      if ((error as { type?: string }).type === 'entity.parse.failed') return vssError(res, 400, 'VssRequestContentException', 'The request body is not valid JSON.');
      vssError(res, 500, 'VssServiceException', `VS402371: ${(error as Error).message}`);
    });
    return app;
  }

  // ───────────────────────── cross-cutting ─────────────────────────

  private authenticate(req: Request, res: Response, next: NextFunction): void {
    const cred = credentials(req);
    const token = cred?.scheme === 'basic' ? cred.password : cred?.scheme === 'bearer' ? cred.token : null;
    const identityId = token ? this.state.tokens[token] : undefined;
    const identity = this.state.identities.find((i) => i.id === identityId);
    if (!identity) {
      res.setHeader('WWW-Authenticate', 'Basic realm="https://dev.azure.com/"');
      return vssError(res, 401, 'UnauthorizedRequestException', 'TF400813: The user \'\' is not authorized to access this resource.');
    }
    if (this.limiter) {
      const take = this.limiter.take(identity.id);
      res.setHeader('X-RateLimit-Limit', String(this.limiter.limit));
      res.setHeader('X-RateLimit-Remaining', String(take.remaining));
      res.setHeader('X-RateLimit-Reset', String(Math.ceil(take.resetAt / 1000)));
      if (!take.allowed) {
        const wait = Math.max(1, Math.ceil((take.resetAt - Date.now()) / 1000));
        res.setHeader('Retry-After', String(wait));
        res.setHeader('X-RateLimit-Resource', 'Core');
        res.setHeader('X-RateLimit-Delay', String(wait));
        return vssError(res, 429, 'RequestThrottledException', `Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'. Retry after ${wait} seconds.`);
      }
    }
    (req as Request & { ctx: Ctx }).ctx = { identity, base: `${req.protocol}://${req.get('host')}/${this.state.organization}`, apiVersion: { major: 0, minor: 0, resourceVersion: null } };
    next();
  }

  /** api-version is required on every call except location discovery, in the query or the Accept header. */
  private checkApiVersion(req: Request, _res: Response, next: NextFunction): void {
    if (req.method === 'OPTIONS') return next();
    const fromQuery = typeof req.query['api-version'] === 'string' ? (req.query['api-version'] as string) : null;
    const fromAccept = /api-version=([0-9.]+(?:-preview(?:\.[0-9]+)?)?)/i.exec(req.headers.accept ?? '')?.[1] ?? null;
    const version = fromQuery ?? fromAccept;
    if (!version) {
      throw new HttpError(400, 'VssVersionNotSpecifiedException', `No api-version was supplied for the "${req.method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`);
    }
    const m = /^([0-9]+)\.([0-9]+)(-preview(\.[0-9]+)?)?$/i.exec(version);
    if (!m) throw new HttpError(400, 'VssInvalidApiVersionException', `The api-version '${version}' is not valid. Use the form 7.1 or 7.1-preview.1.`);
    if (Number(`${m[1]}.${m[2]}`) > Number(MAX_API_VERSION)) {
      throw new HttpError(400, 'VssVersionOutOfRangeException', `The requested REST API version of ${m[1]}.${m[2]} is out of range for this server. The latest REST API version for this server is ${MAX_API_VERSION}.`);
    }
    this.ctx(req).apiVersion = { major: Number(m[1]), minor: Number(m[2]), resourceVersion: m[4] ? Number(m[4].slice(1)) : null };
    const previewOnly = /\/_apis\/wit\/workitems\/[^/]+\/comments/i.test(req.path) || /\/_apis\/resourceAreas/i.test(req.path);
    if (previewOnly && !m[3]) {
      throw new HttpError(400, 'VssInvalidPreviewVersionException', `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${version}-preview"`);
    }
    next();
  }

  private ctx(req: Request): Ctx {
    return (req as Request & { ctx: Ctx }).ctx;
  }

  private flag(req: Request, name: string): boolean {
    return String(req.query[name] ?? '').toLowerCase() === 'true';
  }

  private listParam(req: Request, name: string): string[] | null {
    const raw = req.query[name];
    if (raw === undefined) return null;
    return String(raw).split(',').map((s) => s.trim()).filter(Boolean);
  }

  private requirePatchContentType(req: Request): void {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json-patch+json')) {
      throw new HttpError(415, 'VssRequestContentException', 'The request indicated a Content-Type of "' + (req.headers['content-type'] ?? '') + '" for method type "' + req.method + '" which is not supported. Valid content types for this method are: application/json-patch+json.');
    }
  }

  private requiredProject(req: Request): string {
    const project = req.params['project'];
    if (!project) throw new HttpError(400, 'VssPropertyValidationException', 'A project is required to create a work item.');
    return String(project);
  }

  project(nameOrId: string): AdoProject {
    const key = decodeURIComponent(nameOrId).toLowerCase();
    const project = this.state.projects.find((p) => p.id.toLowerCase() === key || p.name.toLowerCase() === key);
    if (!project) throw new HttpError(404, 'ProjectDoesNotExistWithNameException', `TF200016: The following project does not exist: ${decodeURIComponent(nameOrId)}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`);
    return project;
  }

  private item(id: string | number): AdoWorkItem {
    const item = /^[0-9]+$/.test(String(id)) ? this.state.workItems[String(Number(id))] : undefined;
    if (!item) throw this.notFound(id);
    return item;
  }

  private notFound(id: string | number): HttpError {
    return new HttpError(404, 'WorkItemUnauthorizedAccessException', `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`);
  }

  private comment(workItemId: string, commentId: string): AdoComment {
    const item = this.item(workItemId);
    const comment = (this.state.comments[String(item.id)] ?? []).find((c) => c.commentId === Number(commentId));
    if (!comment) throw new HttpError(404, 'CommentNotFoundException', `TF401234: Comment ${commentId} of work item ${item.id} does not exist.`);
    return comment;
  }

  /** Strictly increasing change timestamps, so "changed since" watermarks never miss an edit. */
  private nextChangeDate(): string {
    const now = Math.max(Date.now(), this.lastChange + 1);
    this.lastChange = now;
    return new Date(now).toISOString();
  }

  // ───────────────────────── identities ─────────────────────────

  private identityRef(base: string, identity: AdoIdentity): Json {
    return {
      displayName: identity.displayName,
      url: `${base}/_apis/Identities/${identity.id}`,
      _links: { avatar: { href: `${base}/_apis/GraphProfile/MemberAvatars/aad.${Buffer.from(identity.id).toString('base64url')}` } },
      id: identity.id,
      uniqueName: identity.uniqueName,
      imageUrl: `${base}/_api/_common/identityImage?id=${identity.id}`,
      descriptor: `aad.${Buffer.from(identity.id).toString('base64url')}`,
    };
  }

  /** An identity by display name, unique name (email), "Name <email>", or an IdentityRef object. */
  private resolveIdentity(value: unknown, field: string): AdoIdentity | null {
    if (value === '' || value === null) return null;
    let key: string;
    if (typeof value === 'object' && value) {
      const v = value as { id?: string; uniqueName?: string; displayName?: string; descriptor?: string };
      key = v.id ?? v.uniqueName ?? v.displayName ?? '';
    } else key = String(value);
    const email = /<([^>]+)>\s*$/.exec(key)?.[1];
    const k = (email ?? key).trim().toLowerCase();
    const found = this.state.identities.filter((i) => i.id.toLowerCase() === k || i.uniqueName.toLowerCase() === k || i.displayName.toLowerCase() === k);
    if (found.length !== 1) {
      throw new HttpError(400, 'WorkItemFieldInvalidException', found.length ? `TF401320: Rule Error for field ${field}. Error code: HasValues, InvalidIdentity. The identity value '${key}' is ambiguous.` : `The identity value '${key}' for field '${field}' is an unknown identity.`);
    }
    return found[0]!;
  }

  // ───────────────────────── work items ─────────────────────────

  private createWorkItem(ctx: Ctx, project: AdoProject, typeName: string, patch: unknown, validateOnly: boolean, bypassRules: boolean): AdoWorkItem {
    const types = PROCESSES[project.process];
    const type = Object.keys(types).find((t) => t.toLowerCase() === decodeURIComponent(typeName).toLowerCase());
    if (!type) throw new HttpError(404, 'WorkItemTypeNotFoundException', `TF401326: Work item type ${decodeURIComponent(typeName)} does not exist in project ${project.name} or you do not have permission to access it.`);
    const now = this.nextChangeDate();
    const draft: AdoWorkItem = {
      id: 0,
      rev: 0,
      fields: {
        'System.AreaPath': project.name,
        'System.TeamProject': project.name,
        'System.IterationPath': project.name,
        'System.WorkItemType': type,
        'System.State': types[type]!.initial,
        'System.Reason': 'New',
        'System.CreatedDate': now,
        'System.CreatedBy': ctx.identity.id,
        'System.ChangedDate': now,
        'System.ChangedBy': ctx.identity.id,
        'System.CommentCount': 0,
        'Microsoft.VSTS.Common.Priority': 2,
        'Microsoft.VSTS.Common.StateChangeDate': now,
      },
      relations: [],
      revisions: [],
    };
    const { history } = this.applyPatch(draft, project, patch, bypassRules);
    if (!draft.fields['System.Title']) throw new HttpError(400, 'RuleValidationException', 'TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty.');
    if (validateOnly) return draft;
    draft.id = this.state.nextWorkItemId++;
    this.commit(draft, ctx);
    this.state.workItems[String(draft.id)] = draft;
    if (history) this.addCommentRecord(ctx, draft, history);
    this.emit('workitem.created', ctx, draft, null);
    return draft;
  }

  private updateWorkItem(ctx: Ctx, item: AdoWorkItem, patch: unknown, validateOnly: boolean, bypassRules: boolean): AdoWorkItem {
    const draft: AdoWorkItem = structuredClone(item);
    const project = this.project(String(item.fields['System.TeamProject']));
    const before = structuredClone(item);
    const { history, touched } = this.applyPatch(draft, project, patch, bypassRules);
    if (validateOnly) return draft;
    // With bypassRules the caller may set the change stamp itself (migrations do); otherwise the service does.
    if (!touched.has('System.ChangedDate')) draft.fields['System.ChangedDate'] = this.nextChangeDate();
    if (!touched.has('System.ChangedBy')) draft.fields['System.ChangedBy'] = ctx.identity.id;
    if (draft.fields['System.State'] !== before.fields['System.State']) draft.fields['Microsoft.VSTS.Common.StateChangeDate'] = draft.fields['System.ChangedDate'];
    this.commit(draft, ctx);
    this.state.workItems[String(item.id)] = draft;
    if (history) this.addCommentRecord(ctx, draft, history);
    this.emit('workitem.updated', ctx, draft, before);
    return draft;
  }

  /** Applies a JSON Patch document: the System.History text (a new comment), if any, and the fields it set. */
  private applyPatch(item: AdoWorkItem, project: AdoProject, patch: unknown, bypassRules: boolean): { history: string | null; touched: Set<string> } {
    if (!Array.isArray(patch) || patch.length === 0) {
      throw new HttpError(400, 'VssPropertyValidationException', 'You must pass a valid patch document in the body of the request.');
    }
    const touched = new Set<string>();
    let history: string | null = null;
    for (const op of patch as Array<{ op?: string; path?: string; value?: unknown; from?: unknown }>) {
      const kind = String(op.op ?? '').toLowerCase();
      const path = String(op.path ?? '');
      if (!['add', 'replace', 'remove', 'test'].includes(kind)) throw new HttpError(400, 'VssPropertyValidationException', `The operation '${op.op}' is not supported. Use add, replace, remove or test.`);
      if (kind === 'test') {
        if (path === '/rev' && Number(op.value) !== item.rev) throw new HttpError(412, 'WorkItemRevisionMismatchException', `TF26071: This work item has been changed by someone else since you opened it. You will need to refresh it and discard your changes. (rev ${item.rev}, expected ${op.value})`);
        continue;
      }
      if (path.startsWith('/fields/')) {
        const def = findField(path.slice(8));
        if (!def) throw new HttpError(400, 'WorkItemFieldInvalidException', `TF51535: Cannot find field ${path.slice(8)}.`);
        const ref = def.referenceName;
        if (def.readOnly === 'always' || (def.readOnly === 'unlessBypassRules' && !bypassRules)) {
          throw new HttpError(400, 'WorkItemFieldInvalidException', `TF401326: Invalid field status 'ReadOnly' for field '${ref}'.`);
        }
        touched.add(ref);
        if (kind === 'remove') {
          delete item.fields[ref];
          continue;
        }
        const value = op.value;
        if (ref === 'System.History') {
          history = value === null || value === undefined ? null : String(value);
          continue;
        }
        item.fields[ref] = this.coerce(def.type, ref, def.name, value, project, String(item.fields['System.WorkItemType']));
        if (value === '' || value === null) delete item.fields[ref];
        continue;
      }
      if (path === '/relations/-' && kind === 'add') {
        item.relations.push(this.relation(op.value));
        continue;
      }
      const rel = /^\/relations\/([0-9]+)(\/attributes\/([A-Za-z]+))?$/.exec(path);
      if (rel) {
        const i = Number(rel[1]);
        if (!item.relations[i]) throw new HttpError(400, 'VssPropertyValidationException', `Relation index ${i} is out of range.`);
        if (kind === 'remove' && !rel[2]) item.relations.splice(i, 1);
        else if (rel[3]) item.relations[i]!.attributes[rel[3]] = op.value;
        else item.relations[i] = this.relation(op.value);
        continue;
      }
      throw new HttpError(400, 'VssPropertyValidationException', `The path '${path}' is not supported. Use /fields/{referenceName}, /relations/- or /relations/{index}.`);
    }
    return { history, touched };
  }

  private coerce(type: string, ref: string, name: string, value: unknown, project: AdoProject, workItemType: string): unknown {
    if (value === null || value === '') return value;
    if (type === 'identity') return this.resolveIdentity(value, name)?.id ?? null;
    if (type === 'integer' || type === 'double') {
      const n = Number(value);
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) throw new HttpError(400, 'WorkItemFieldInvalidException', `TF401320: Rule Error for field ${name}. Error code: InvalidType. The value '${String(value)}' is not a number.`);
      if (ref === 'Microsoft.VSTS.Common.Priority' && (n < 1 || n > 4)) throw new HttpError(400, 'RuleValidationException', `TF401320: Rule Error for field Priority. Error code: LimitedToValues. Allowed values: 1, 2, 3, 4.`);
      return n;
    }
    if (type === 'dateTime') {
      const d = new Date(String(value));
      if (Number.isNaN(d.getTime())) throw new HttpError(400, 'WorkItemFieldInvalidException', `The value '${String(value)}' for field '${name}' is not a date.`);
      return d.toISOString();
    }
    if (ref === 'System.State') {
      const states = PROCESSES[project.process][workItemType]?.states ?? [];
      const state = states.find((s) => s.toLowerCase() === String(value).toLowerCase());
      if (!state) throw new HttpError(400, 'RuleValidationException', `TF401320: Rule Error for field State. Error code: LimitedToValues. '${String(value)}' is not a state of ${workItemType}; allowed: ${states.join(', ')}.`);
      return state;
    }
    if (ref === 'System.Tags') {
      const tags = [...new Set(String(value).split(';').map((t) => t.trim()).filter(Boolean))];
      return tags.join('; ');
    }
    if (ref === 'System.Title' && String(value).length > 255) throw new HttpError(400, 'RuleValidationException', 'TF401320: Rule Error for field Title. Error code: InvalidLength. The title is longer than 255 characters.');
    return String(value);
  }

  private relation(value: unknown): AdoRelation {
    const v = (value ?? {}) as { rel?: string; url?: string; attributes?: Record<string, unknown> };
    if (!v.rel || !v.url) throw new HttpError(400, 'VssPropertyValidationException', 'A relation needs "rel" and "url".');
    const attributes = { ...(v.attributes ?? {}) };
    if (v.rel === 'AttachedFile') {
      const id = /\/attachments\/([0-9a-f-]{36})/i.exec(v.url)?.[1]?.toLowerCase();
      const attachment = id ? this.state.attachments[id] : undefined;
      if (!attachment) throw new HttpError(400, 'AttachmentNotFoundException', `TF401001: The attachment ${v.url} does not exist; upload it first.`);
      const now = new Date().toISOString();
      Object.assign(attributes, { authorizedDate: now, id: Object.keys(this.state.attachments).indexOf(attachment.id) + 1, resourceCreatedDate: now, resourceModifiedDate: now, revisedDate: '9999-01-01T00:00:00Z', resourceSize: Buffer.from(attachment.content, 'base64').length, name: attachment.fileName });
    }
    return { rel: v.rel, url: v.url, attributes };
  }

  /** Stamps a new revision and records it. */
  private commit(item: AdoWorkItem, ctx: Ctx): void {
    item.rev += 1;
    item.fields['System.Id'] = item.id;
    item.fields['System.Rev'] = item.rev;
    if (!item.fields['System.ChangedBy']) item.fields['System.ChangedBy'] = ctx.identity.id;
    item.revisions.push({ rev: item.rev, fields: structuredClone(item.fields), relations: structuredClone(item.relations) });
  }

  private addComment(ctx: Ctx, item: AdoWorkItem, text: string): AdoComment {
    // A comment is also a new revision of the work item (with System.History), as in the service.
    const before = structuredClone(item);
    item.fields['System.ChangedDate'] = this.nextChangeDate();
    item.fields['System.ChangedBy'] = ctx.identity.id;
    const comment = this.addCommentRecord(ctx, item, text);
    this.commit(item, ctx);
    this.emit('workitem.commented', ctx, item, before, text);
    return comment;
  }

  private addCommentRecord(ctx: Ctx, item: AdoWorkItem, text: string): AdoComment {
    const now = String(item.fields['System.ChangedDate']);
    const comment: AdoComment = { workItemId: item.id, commentId: this.state.nextCommentId++, version: 1, text, createdBy: ctx.identity.id, createdDate: now, modifiedBy: ctx.identity.id, modifiedDate: now, isDeleted: false };
    (this.state.comments[String(item.id)] ??= []).push(comment);
    item.fields['System.CommentCount'] = (this.state.comments[String(item.id)] ?? []).filter((c) => !c.isDeleted).length;
    if (item.revisions.length) item.revisions[item.revisions.length - 1]!.fields['System.CommentCount'] = item.fields['System.CommentCount'];
    return comment;
  }

  // ───────────────────────── rendering ─────────────────────────

  private renderFields(base: string, fields: Record<string, unknown>, only: string[] | null): Json {
    const out: Json = {};
    const wanted = only?.map((f) => findField(f)?.referenceName ?? f);
    for (const [k, v] of Object.entries(fields)) {
      if (wanted && !wanted.some((w) => w.toLowerCase() === k.toLowerCase())) continue;
      if (IDENTITY_FIELDS.has(k)) {
        const identity = this.state.identities.find((i) => i.id === v);
        if (identity) out[k] = this.identityRef(base, identity);
      } else out[k] = v;
    }
    return out;
  }

  renderWorkItem(base: string, item: AdoWorkItem, o: { expand?: string; fields?: string[] | null; links?: boolean }): Json {
    // $expand is an enum the service takes by name or by number (None, Relations, Fields, Links, All).
    const raw = (o.expand ?? '').toLowerCase();
    const expand = ['none', 'relations', 'fields', 'links', 'all'][Number(raw)] ?? raw;
    const project = this.state.projects.find((p) => p.name === item.fields['System.TeamProject']);
    const url = `${base}/_apis/wit/workItems/${item.id}`;
    const out: Json = { id: item.id, rev: item.rev, fields: this.renderFields(base, item.fields, o.fields ?? null) };
    if ((expand === 'relations' || expand === 'all') && item.relations.length) out['relations'] = item.relations;
    if (o.links !== false && !o.fields) {
      out['_links'] = {
        self: { href: url },
        workItemUpdates: { href: `${url}/updates` },
        workItemRevisions: { href: `${url}/revisions` },
        workItemComments: { href: `${url}/comments` },
        html: { href: `${base}/web/wi.aspx?pcguid=${this.state.collectionId}&id=${item.id}` },
        workItemType: { href: `${base}/${project?.id ?? ''}/_apis/wit/workItemTypes/${encodeURIComponent(String(item.fields['System.WorkItemType']))}` },
        fields: { href: `${base}/_apis/wit/fields` },
      };
    }
    out['url'] = url;
    return out;
  }

  /**
   * Comments API 7.x (resource version 3 and later) names the id `id` and adds `format` and
   * `renderedText`; earlier previews (the recorded 5.1 examples) call it `commentId`.
   */
  private renderComment(ctx: Ctx, c: AdoComment): Json {
    const base = ctx.base;
    const v = ctx.apiVersion;
    const modern = v.major >= 6 || (v.resourceVersion ?? 0) >= 3;
    const who = (id: string) => this.identityRef(base, this.state.identities.find((i) => i.id === id) ?? { id, displayName: 'Unknown', uniqueName: '' });
    const item = this.state.workItems[String(c.workItemId)];
    const project = this.state.projects.find((p) => p.name === item?.fields['System.TeamProject']);
    return {
      workItemId: c.workItemId,
      ...(modern ? { id: c.commentId } : { commentId: c.commentId }),
      version: c.version,
      text: c.text,
      ...(modern ? { renderedText: c.text, format: 'html' } : {}),
      createdBy: who(c.createdBy),
      createdDate: c.createdDate,
      modifiedBy: who(c.modifiedBy),
      modifiedDate: c.modifiedDate,
      isDeleted: c.isDeleted,
      url: `${base}/${project?.id ?? ''}/_apis/wit/workItems/${c.workItemId}/comments/${c.commentId}`,
    };
  }

  private renderProject(base: string, p: AdoProject): Json {
    return { id: p.id, name: p.name, description: p.description, url: `${base}/_apis/projects/${p.id}`, state: 'wellFormed', revision: 1, visibility: 'private', lastUpdateTime: p.lastUpdateTime };
  }

  private attachmentUrl(base: string, a: AdoAttachment): string {
    return `${base}/_apis/wit/attachments/${a.id}?fileName=${encodeURIComponent(a.fileName)}`;
  }

  private updatesOf(base: string, item: AdoWorkItem): Json[] {
    return item.revisions.map((rev, i) => {
      const prev = i > 0 ? item.revisions[i - 1]! : null;
      const fields: Json = {};
      for (const k of new Set([...Object.keys(rev.fields), ...Object.keys(prev?.fields ?? {})])) {
        const a = prev?.fields[k];
        const b = rev.fields[k];
        if (JSON.stringify(a) === JSON.stringify(b)) continue;
        const render = (v: unknown) => (IDENTITY_FIELDS.has(k) ? this.renderFields(base, { [k]: v }, null)[k] : v);
        fields[k] = { ...(a === undefined ? {} : { oldValue: render(a) }), ...(b === undefined ? {} : { newValue: render(b) }) };
      }
      const added = rev.relations.filter((r) => !prev?.relations.some((p) => p.url === r.url && p.rel === r.rel));
      const removed = (prev?.relations ?? []).filter((p) => !rev.relations.some((r) => r.url === p.url && r.rel === p.rel));
      const changer = this.state.identities.find((x) => x.id === rev.fields['System.ChangedBy']);
      return {
        id: rev.rev,
        workItemId: item.id,
        rev: rev.rev,
        revisedBy: changer ? this.identityRef(base, changer) : null,
        revisedDate: item.revisions[i + 1] ? item.revisions[i + 1]!.fields['System.ChangedDate'] : '9999-01-01T00:00:00Z',
        fields,
        ...(added.length || removed.length ? { relations: { ...(added.length ? { added } : {}), ...(removed.length ? { removed } : {}) } } : {}),
        url: `${base}/_apis/wit/workItems/${item.id}/updates/${rev.rev}`,
      };
    });
  }

  // ───────────────────────── WIQL ─────────────────────────

  private runWiql(ctx: Ctx, query: string, projectName: string | null, top: number, timePrecision: boolean): Json {
    if (!query.trim()) throw new HttpError(400, 'VssPropertyValidationException', 'The query text is required.');
    let parsed;
    try {
      parsed = parseWiql(query);
    } catch (error) {
      if (error instanceof WiqlError) throw new HttpError(400, 'WiqlSyntaxException', `TF51006: The query statement is not valid. ${error.message}`);
      throw error;
    }
    const refs = (name: string) => {
      const f = findField(name);
      if (!f) throw new HttpError(400, 'WiqlSyntaxException', `TF51005: The query references a field that does not exist. The error is caused by «[${name}]».`);
      return f;
    };
    parsed.fields.forEach(refs);
    parsed.orderBy.forEach((o) => refs(o.field));
    const resolve = (v: WiqlValue): unknown => {
      if (v.kind !== 'macro') return v.value;
      if (v.name === 'project') {
        if (!projectName) throw new HttpError(400, 'WiqlSyntaxException', 'TF51011: The @project macro needs the query to be run in a project.');
        return projectName;
      }
      if (v.name === 'me') return ctx.identity.id;
      if (v.name === 'today') {
        const d = new Date();
        d.setUTCHours(0, 0, 0, 0);
        d.setUTCDate(d.getUTCDate() + v.offset);
        return d.toISOString();
      }
      throw new HttpError(400, 'WiqlSyntaxException', `TF51011: The macro @${v.name} is not supported here.`);
    };
    const valueOf = (item: AdoWorkItem, ref: string): unknown => item.fields[ref];
    const compare = (a: unknown, b: unknown, type: string): number => {
      if (type === 'dateTime') {
        const bs = String(b);
        if (!timePrecision && /T\d{2}:\d{2}/.test(bs) && !/T00:00:00(\.0+)?Z?$/.test(bs)) {
          throw new HttpError(400, 'WiqlSyntaxException', `TF51005: You cannot supply a time with the date when running a query using date precision. The error is caused by «'${bs}'». Pass timePrecision=true to compare times.`);
        }
        const x = new Date(String(a ?? 0)).getTime();
        const y = new Date(bs).getTime();
        if (!timePrecision) return Math.floor(x / 86_400_000) - Math.floor(y / 86_400_000);
        return x - y;
      }
      if (type === 'integer' || type === 'double') return Number(a) - Number(b);
      return String(a ?? '').toLowerCase().localeCompare(String(b ?? '').toLowerCase());
    };
    const identityMatches = (stored: unknown, given: unknown) => {
      if (stored === given) return true;
      const identity = this.state.identities.find((i) => i.id === stored);
      if (!identity) return stored === null && (given === '' || given === null);
      const g = String(given).toLowerCase();
      return [identity.displayName, identity.uniqueName, `${identity.displayName} <${identity.uniqueName}>`].some((x) => x.toLowerCase() === g);
    };
    const test = (item: AdoWorkItem, c: WiqlCondition): boolean => {
      switch (c.kind) {
        case 'and':
          return test(item, c.left) && test(item, c.right);
        case 'or':
          return test(item, c.left) || test(item, c.right);
        case 'not':
          return !test(item, c.inner);
        case 'compare': {
          const f = refs(c.field);
          const a = valueOf(item, f.referenceName);
          const b = resolve(c.value);
          if (f.type === 'identity' && (c.op === '=' || c.op === '<>')) return identityMatches(a, b) === (c.op === '=');
          if (f.referenceName === 'System.Tags' && (c.op === '=' || c.op === '<>')) return (String(a ?? '').toLowerCase() === String(b).toLowerCase()) === (c.op === '=');
          const d = compare(a, b, f.type);
          return { '=': d === 0, '<>': d !== 0, '>': d > 0, '>=': d >= 0, '<': d < 0, '<=': d <= 0 }[c.op];
        }
        case 'in': {
          const f = refs(c.field);
          const a = valueOf(item, f.referenceName);
          const hit = c.values.some((v) => (f.type === 'identity' ? identityMatches(a, resolve(v)) : compare(a, resolve(v), f.type) === 0));
          return hit !== c.negated;
        }
        case 'contains': {
          const f = refs(c.field);
          const hay = String(valueOf(item, f.referenceName) ?? '').toLowerCase();
          const needle = String(resolve(c.value)).toLowerCase();
          const hit = f.referenceName === 'System.Tags' ? hay.split(';').map((t) => t.trim()).includes(needle) : c.words ? new RegExp(`\\b${needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(hay) : hay.includes(needle);
          return hit !== c.negated;
        }
        case 'under': {
          const f = refs(c.field);
          const a = String(valueOf(item, f.referenceName) ?? '').toLowerCase();
          const b = String(resolve(c.value)).toLowerCase();
          return a === b || a.startsWith(`${b}\\`);
        }
      }
    };
    let items = Object.values(this.state.workItems).filter((i) => !parsed.where || test(i, parsed.where));
    const order = parsed.orderBy.length ? parsed.orderBy : [{ field: 'System.Id', descending: false }];
    items.sort((x, y) => {
      for (const o of order) {
        const f = refs(o.field);
        const a = valueOf(x, f.referenceName);
        const b = valueOf(y, f.referenceName);
        const d = f.type === 'dateTime' ? new Date(String(a ?? 0)).getTime() - new Date(String(b ?? 0)).getTime() : compare(a, b, f.type);
        if (d !== 0) return o.descending ? -d : d;
      }
      return x.id - y.id;
    });
    items = items.slice(0, top);
    const base = ctx.base;
    const column = (name: string) => {
      const f = refs(name);
      return { referenceName: f.referenceName, name: f.name, url: `${base}/_apis/wit/fields/${f.referenceName}` };
    };
    return {
      queryType: 'flat',
      queryResultType: 'workItem',
      asOf: new Date().toISOString(),
      columns: parsed.fields.map(column),
      sortColumns: parsed.orderBy.map((o) => ({ field: column(o.field), descending: o.descending })),
      workItems: items.map((i) => ({ id: i.id, url: `${base}/_apis/wit/workItems/${i.id}` })),
    };
  }

  // ───────────────────────── service hooks ─────────────────────────

  private subscription(id: string): AdoSubscription {
    const sub = this.state.subscriptions.find((s) => s.id === id.toLowerCase());
    if (!sub) throw new HttpError(404, 'SubscriptionNotFoundException', `VS1010005: The subscription ${id} does not exist.`);
    return sub;
  }

  private createSubscription(ctx: Ctx, body: Json): AdoSubscription {
    const eventType = String(body['eventType'] ?? '');
    if (!['workitem.created', 'workitem.updated', 'workitem.commented', 'workitem.deleted'].includes(eventType)) {
      throw new HttpError(400, 'SubscriptionInputException', `VS1010008: The event type '${eventType}' is not supported by the publisher 'tfs'.`);
    }
    if (body['publisherId'] !== 'tfs' || body['consumerId'] !== 'webHooks' || body['consumerActionId'] !== 'httpRequest') {
      throw new HttpError(400, 'SubscriptionInputException', 'VS1010008: Use publisherId "tfs", consumerId "webHooks" and consumerActionId "httpRequest".');
    }
    const consumerInputs = (body['consumerInputs'] ?? {}) as Record<string, string>;
    try {
      const url = new URL(consumerInputs['url'] ?? '');
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    } catch {
      throw new HttpError(400, 'SubscriptionInputException', 'VS1010008: The consumer input "url" must be an http(s) URL.');
    }
    const publisherInputs = (body['publisherInputs'] ?? {}) as Record<string, string>;
    if (publisherInputs['projectId']) this.project(publisherInputs['projectId']);
    const now = new Date().toISOString();
    const sub: AdoSubscription = {
      id: randomUUID(),
      publisherId: 'tfs',
      eventType: eventType as AdoSubscription['eventType'],
      resourceVersion: String(body['resourceVersion'] ?? '1.0'),
      consumerId: 'webHooks',
      consumerActionId: 'httpRequest',
      publisherInputs,
      consumerInputs,
      status: 'enabled',
      createdBy: ctx.identity.id,
      createdDate: now,
      modifiedDate: now,
    };
    this.state.subscriptions.push(sub);
    return sub;
  }

  private renderSubscription(base: string, s: AdoSubscription): Json {
    const inputs = { ...s.consumerInputs };
    // The service never returns the basic-auth password it was given.
    if (inputs['basicAuthPassword']) inputs['basicAuthPassword'] = '********';
    return { ...s, consumerInputs: inputs, createdBy: this.identityRef(base, this.state.identities.find((i) => i.id === s.createdBy)!), url: `${base}/_apis/hooks/subscriptions/${s.id}` };
  }

  /** Delivers a work item event to every matching subscription, as the service's webhook consumer does. */
  private emit(eventType: AdoSubscription['eventType'], ctx: Ctx, item: AdoWorkItem, before: AdoWorkItem | null, commentText?: string): void {
    const project = this.state.projects.find((p) => p.name === item.fields['System.TeamProject']);
    for (const sub of this.state.subscriptions) {
      if (sub.status !== 'enabled' || sub.eventType !== eventType) continue;
      if (sub.publisherInputs['projectId'] && project && this.project(sub.publisherInputs['projectId']).id !== project.id) continue;
      if (sub.publisherInputs['workItemType'] && sub.publisherInputs['workItemType'] !== item.fields['System.WorkItemType']) continue;
      const base = ctx.base;
      const rendered = this.renderWorkItem(base, item, { expand: 'relations' });
      let resource: Json = rendered;
      if (eventType === 'workitem.updated' && before) {
        const update = this.updatesOf(base, item).at(-1)!;
        resource = { ...update, revision: rendered };
      }
      if (eventType === 'workitem.commented') resource = { ...rendered, fields: { ...(rendered['fields'] as Json), 'System.History': commentText } };
      const id = randomUUID();
      const payload = {
        subscriptionId: sub.id,
        notificationId: this.state.subscriptions.indexOf(sub) + 1,
        id,
        eventType,
        publisherId: 'tfs',
        message: { text: `${item.fields['System.WorkItemType']} #${item.id} (${item.fields['System.Title']}) ${eventType.split('.')[1]} by ${ctx.identity.displayName}` },
        detailedMessage: { text: `${item.fields['System.WorkItemType']} #${item.id} ${eventType.split('.')[1]}` },
        resource,
        resourceVersion: sub.resourceVersion,
        resourceContainers: { collection: { id: this.state.collectionId }, account: { id: this.state.collectionId }, project: { id: project?.id } },
        createdDate: new Date().toISOString(),
      };
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (sub.consumerInputs['basicAuthUsername'] !== undefined || sub.consumerInputs['basicAuthPassword'] !== undefined) {
        headers['authorization'] = `Basic ${Buffer.from(`${sub.consumerInputs['basicAuthUsername'] ?? ''}:${sub.consumerInputs['basicAuthPassword'] ?? ''}`).toString('base64')}`;
      }
      for (const line of (sub.consumerInputs['httpHeaders'] ?? '').split('\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const delivery = fetch(sub.consumerInputs['url']!, { method: 'POST', headers, body: JSON.stringify(payload) })
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    }
  }
}
