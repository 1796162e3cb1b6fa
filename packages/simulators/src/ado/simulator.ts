import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { credentials } from '../common/http.js';
import { SimulatorBase, type SimulatorBaseOptions } from '../common/simulator-base.js';
import { ExtensionHost } from './extension-host.js';
import type { InstalledExtension } from './extension-state.js';
import { CUSTOM_FIELDS, FIELDS, findField, renderField, type FieldDefinition } from './fields.js';
import { LOCATIONS, MAX_API_VERSION, RESOURCE_AREAS } from './locations.js';
import {
  DELIVERED_EVENTS,
  PROCESSES,
  seedAdoState,
  type AdoAttachment,
  type AdoSavedQuery,
  type AdoComment,
  type AdoIdentity,
  type AdoProject,
  type AdoRelation,
  type AdoSeed,
  type AdoState,
  type AdoSubscription,
  type AdoWorkItem,
} from './state.js';
import { parseWiql, WiqlError, type WiqlCondition, type WiqlValue } from './wiql.js';

/**
 * A local Azure DevOps Services organization: the Work Item Tracking, Core (projects), Location and
 * Service Hooks REST APIs as documented for api-version 7.1, answering in the service's shapes,
 * status codes and error bodies. https://learn.microsoft.com/rest/api/azure/devops/wit/?view=azure-devops-rest-7.1
 */
/** The rate limit answers 429 with Retry-After and the X-RateLimit-* headers. */
export interface AdoSimulatorOptions extends SimulatorBaseOptions {
  seed?: AdoSeed;
  /**
   * False: `AttachedFile` relations carry no `resourceSize`. The API documents a relation's
   * attributes as an open collection, so a client must not count on the size being there.
   */
  attachmentSizes?: boolean;
}

type Json = Record<string, unknown>;

const IDENTITY_FIELDS = new Set(FIELDS.filter((f) => f.type === 'identity').map((f) => f.referenceName));

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

/** The project's work item type with this name (any letter case). */
function findType(project: AdoProject, name: string): string | undefined {
  return Object.keys(PROCESSES[project.process]).find((t) => t.toLowerCase() === name.toLowerCase());
}

/** The fields a new work item of `type` starts with: where it lives, its first state, who and when. */
function newItemFields(project: AdoProject, type: string, who: string, at: string): Record<string, unknown> {
  return {
    'System.AreaPath': project.name,
    'System.TeamProject': project.name,
    'System.IterationPath': project.name,
    'System.WorkItemType': type,
    'System.State': PROCESSES[project.process][type]!.initial,
    'System.Reason': 'New',
    'System.CreatedDate': at,
    'System.CreatedBy': who,
    'System.ChangedDate': at,
    'System.ChangedBy': who,
    'System.CommentCount': 0,
    'Microsoft.VSTS.Common.Priority': 2,
    'Microsoft.VSTS.Common.StateChangeDate': at,
    // Bugs carry a severity by default.
    ...(type === 'Bug' ? { 'Microsoft.VSTS.Common.Severity': '3 - Medium' } : {}),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly typeKey: string,
    message: string,
  ) {
    super(message);
  }
}

interface Ctx {
  base: string;
  identity: AdoIdentity;
  /** The api-version the caller asked for; some shapes changed between versions. */
  apiVersion: { major: number; minor: number; resourceVersion: number | null };
}

export class AdoSimulator extends SimulatorBase<AdoState> {
  readonly app: Express;
  private lastChange = 0;
  /** Deliveries of service-hook events still under way (tests await them). */
  private deliveries = new Set<Promise<void>>();

  /** Web extensions: Organization settings hubs, the SDK's host side, extension data. */
  readonly extensions: ExtensionHost;

  private readonly attachmentSizes: boolean;

  constructor(options: AdoSimulatorOptions = {}) {
    super(options, () => seedAdoState(options.seed));
    this.attachmentSizes = options.attachmentSizes ?? true;
    this.extensions = new ExtensionHost(() => this.state, (this.state.extensionHost ??= { extensions: [], documents: {} }));
    this.app = this.build();
  }

  /**
   * Installs a web extension from its manifest (vss-extension.json) and the folder its `files`
   * are in; `secret` is the extension's key, with which the service signs its app tokens.
   */
  installExtension(o: { manifestPath: string; contentDir?: string; secret: string; appId?: string; overrides?: Record<string, unknown> }): InstalledExtension {
    return this.extensions.install(o);
  }

  get organization(): string {
    return this.state.organization;
  }

  /** Waits for service-hook deliveries triggered so far. */
  async settled(): Promise<void> {
    while (this.deliveries.size) await Promise.allSettled([...this.deliveries]);
  }

  // ───────────────────────── seeding (tests and demo data; the API is the way to change things) ─────────────────────────

  /**
   * Puts a work item straight into the store with a given id and history: `rev` revisions, the
   * last one holding `fields`. What a fixtures server does to set up a test.
   */
  seedWorkItem(o: {
    id?: number;
    project: string;
    type: string;
    fields?: Record<string, unknown>;
    rev?: number;
    relations?: AdoRelation[];
    by?: string;
    history?: Array<Record<string, unknown>>;
    since?: string;
    revisionComments?: Record<number, string>;
  }): AdoWorkItem {
    const project = this.project(o.project);
    const id = o.id ?? this.state.nextWorkItemId;
    this.state.nextWorkItemId = Math.max(this.state.nextWorkItemId, id + 1);
    const by = this.state.identities.find((i) => i.uniqueName === o.by) ?? this.state.identities[0]!;
    const type = findType(project, o.type);
    if (!type) throw new Error(`seedWorkItem: no type ${o.type} in ${project.name} (${project.process})`);
    const item: AdoWorkItem = { id, rev: 0, fields: {}, relations: [], revisions: [] };
    const revs = Math.max(o.history?.length ?? o.rev ?? 1, ...Object.keys(o.revisionComments ?? {}).map(Number));
    // `since`: when the history starts (one revision a minute from then); else now.
    const start = o.since ? new Date(o.since).getTime() : null;
    const resolve = (fields: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, IDENTITY_FIELDS.has(k) && v !== null && v !== '' ? this.identityOrText(String(v)) : v]));
    for (let r = 1; r <= revs; r++) {
      const at = start === null ? this.nextChangeDate() : new Date(start + (r - 1) * 60_000).toISOString();
      const own = resolve(o.history?.[r - 1] ?? (r === revs ? (o.fields ?? {}) : {}));
      item.fields = {
        ...newItemFields(project, type, by.id, at),
        'System.CreatedDate': item.fields['System.CreatedDate'] ?? at,
        'Microsoft.VSTS.Common.StateChangeDate': item.fields['Microsoft.VSTS.Common.StateChangeDate'] ?? at,
        'System.Title': `Seeded ${type} ${id}`,
        ...own,
      };
      if (r === revs) item.relations = structuredClone(o.relations ?? []);
      const comment = o.revisionComments?.[r];
      if (comment !== undefined) item.fields['System.History'] = comment;
      this.commit(item, { base: '', identity: by, apiVersion: { major: 7, minor: 1, resourceVersion: null } }, comment);
    }
    this.state.workItems[String(id)] = item;
    return item;
  }

  seedComment(workItemId: number, o: { commentId?: number; text: string; by?: string }): AdoComment {
    const item = this.state.workItems[String(workItemId)];
    if (!item) throw new Error(`seedComment: no work item ${workItemId}`);
    const by = this.state.identities.find((i) => i.uniqueName === o.by) ?? this.state.identities[0]!;
    const at = this.nextChangeDate();
    const comment: AdoComment = {
      workItemId,
      commentId: o.commentId ?? this.state.nextCommentId,
      version: 1,
      text: o.text,
      createdBy: by.id,
      createdDate: at,
      modifiedBy: by.id,
      modifiedDate: at,
      isDeleted: false,
    };
    this.state.nextCommentId = Math.max(this.state.nextCommentId, comment.commentId + 1);
    (this.state.comments[String(workItemId)] ??= []).push(comment);
    item.fields['System.CommentCount'] = this.state.comments[String(workItemId)]!.filter((c) => !c.isDeleted).length;
    return comment;
  }

  seedAttachment(o: { id?: string; fileName: string; content: Buffer }): AdoAttachment {
    const attachment: AdoAttachment = { id: (o.id ?? randomUUID()).toLowerCase(), fileName: o.fileName, content: o.content.toString('base64') };
    this.state.attachments[attachment.id] = attachment;
    return attachment;
  }

  seedSubscription(o: {
    id?: string;
    publisherId?: string;
    eventType: string;
    consumerId?: string;
    consumerActionId?: string;
    publisherInputs?: Record<string, string>;
    consumerInputs?: Record<string, string>;
  }): AdoSubscription {
    const now = new Date().toISOString();
    const id = (o.id ?? randomUUID()).toLowerCase();
    const sub: AdoSubscription = {
      id,
      publisherId: o.publisherId ?? 'tfs',
      eventType: o.eventType,
      resourceVersion: '1.0',
      consumerId: o.consumerId ?? 'webHooks',
      consumerActionId: o.consumerActionId ?? 'httpRequest',
      publisherInputs: { ...(o.publisherInputs ?? {}), hostId: this.state.collectionId, tfsSubscriptionId: id },
      consumerInputs: o.consumerInputs ?? {},
      status: 'enabled',
      createdBy: this.state.identities[0]!.id,
      createdDate: now,
      modifiedBy: this.state.identities[0]!.id,
      modifiedDate: now,
    };
    this.state.subscriptions.push(sub);
    return sub;
  }

  seedQuery(o: { id?: string; name: string; wiql: string; project: string }): AdoSavedQuery {
    const query: AdoSavedQuery = { id: (o.id ?? randomUUID()).toLowerCase(), name: o.name, wiql: o.wiql, project: this.project(o.project).name };
    this.state.queries.push(query);
    return query;
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

    r.use(
      this.faults.middleware((_req, res, fault) => {
        if (fault.status === 429) res.setHeader('X-RateLimit-Resource', 'Core');
        vssError(
          res,
          fault.status,
          fault.status === 429 ? 'RequestThrottledException' : 'VssServiceException',
          fault.status === 429
            ? "Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'."
            : 'VS402371: An unexpected error occurred. Try again later.',
        );
      }),
    );
    r.use((req, res, next) => this.authenticate(req, res, next));
    r.use((req, res, next) => this.checkApiVersion(req, res, next));
    this.extensions.dataApi(r, (req) => this.ctx(req).identity);

    r.options('/_apis/:area', (req, res) => {
      const area = String(req.params['area']).toLowerCase();
      const value = LOCATIONS.filter((l) => l.area.toLowerCase() === area);
      res.json({ count: value.length, value });
    });
    // Who the caller is. https://learn.microsoft.com/rest/api/azure/devops/ (Location: GET _apis/connectionData)
    r.get('/_apis/connectionData', (req, res) => {
      const { identity } = this.ctx(req);
      const user = {
        id: identity.id,
        descriptor: `aad.${Buffer.from(identity.id).toString('base64url')}`,
        providerDisplayName: identity.displayName,
        isActive: true,
        properties: { Account: { $type: 'System.String', $value: identity.uniqueName } },
        resourceVersion: 2,
        metaTypeId: 0,
      };
      res.json({
        authenticatedUser: user,
        authorizedUser: user,
        instanceId: this.state.collectionId,
        deploymentId: this.state.collectionId,
        deploymentType: 'hosted',
        locationServiceData: {
          serviceOwner: '00025394-6065-48ca-87d9-7f5672854ef7',
          defaultAccessMappingMoniker: 'PublicAccessMapping',
          lastChangeId: 1,
          lastChangeId64: 1,
        },
      });
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
      if (!type.startsWith('$')) throw new HttpError(405, 'VssServiceException', "The requested resource does not support http method 'POST'.");
      this.requirePatchContentType(req);
      const project = this.project(this.requiredProject(req));
      const item = this.createWorkItem(
        this.ctx(req),
        project,
        type.slice(1),
        req.body as unknown,
        this.flag(req, 'validateOnly'),
        this.flag(req, 'bypassRules'),
      );
      res.json(this.renderWorkItem(this.ctx(req), item, { expand: String(req.query['$expand'] ?? '') }));
    });
    r.get('{/:project}/_apis/wit/workitems/:id', (req, res) => {
      const id = String(req.params['id']);
      if (id.startsWith('$')) {
        // A new work item's template: the defaults the form starts from. https://learn.microsoft.com/rest/api/azure/devops/wit/work-items/get-work-item-template
        const project = this.project(this.requiredProject(req));
        const template = this.template(this.ctx(req), project, decodeURIComponent(id.slice(1)));
        res.json({
          fields: this.renderFields(this.ctx(req), template.fields, this.listParam(req, 'fields')),
          _links: {
            workItemType: {
              href: `${this.ctx(req).base}/${project.id}/_apis/wit/workItemTypes/${encodeURIComponent(String(template.fields['System.WorkItemType']))}`,
            },
            fields: { href: `${this.ctx(req).base}/_apis/wit/fields` },
          },
          url: `${this.ctx(req).base}/${project.id}/_apis/wit/workItems/$${encodeURIComponent(String(template.fields['System.WorkItemType']))}`,
        });
        return;
      }
      const item = this.asOf(this.item(id), req.query['asOf']);
      res.json(this.renderWorkItem(this.ctx(req), item, { expand: String(req.query['$expand'] ?? ''), fields: this.listParam(req, 'fields') }));
    });
    r.patch('{/:project}/_apis/wit/workitems/:id', json, (req, res) => {
      this.requirePatchContentType(req);
      const item = this.updateWorkItem(
        this.ctx(req),
        this.item(String(req.params['id'])),
        req.body as unknown,
        this.flag(req, 'validateOnly'),
        this.flag(req, 'bypassRules'),
      );
      // The updated item comes back with its relations, whatever $expand says.
      res.json(this.renderWorkItem(this.ctx(req), item, { expand: String(req.query['$expand'] ?? 'relations') || 'relations' }));
    });
    r.delete('{/:project}/_apis/wit/workitems/:id', (req, res) => {
      const item = this.item(String(req.params['id']));
      delete this.state.workItems[String(item.id)];
      this.emit('workitem.deleted', this.ctx(req), item, null);
      // Before api-version 5.0 the service answered 204; since then it returns what was deleted.
      if (this.ctx(req).apiVersion.major < 5) {
        res.status(204).end();
        return;
      }
      res.json({
        id: item.id,
        deletedBy: this.identityRef(this.ctx(req).base, this.ctx(req).identity),
        deletedDate: new Date().toISOString(),
        url: `${this.ctx(req).base}/_apis/wit/recyclebin/${item.id}`,
      });
    });
    r.get('{/:project}/_apis/wit/workitems', (req, res) => {
      const ids = this.listParam(req, 'ids');
      if (!ids?.length) throw new HttpError(400, 'VssPropertyValidationException', 'The ids parameter is required.');
      if (ids.length > 200) throw new HttpError(400, 'VssServiceException', 'VS403474: You cannot request more than 200 work items at once.');
      const value = ids
        .map((id) => this.asOf(this.item(id), req.query['asOf']))
        .map((i) => this.renderWorkItem(this.ctx(req), i, { expand: String(req.query['$expand'] ?? ''), fields: this.listParam(req, 'fields') }));
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
        return [this.renderWorkItem(this.ctx(req), item, { expand: body.$expand ?? '', fields: body.fields ?? null, links: false })];
      });
      res.json({ count: value.length, value });
    });

    // WIQL. https://learn.microsoft.com/rest/api/azure/devops/wit/wiql/query-by-wiql?view=azure-devops-rest-7.1
    r.post('{/:project}{/:team}/_apis/wit/wiql', json, (req, res) => {
      const query = String((req.body as { query?: unknown })?.query ?? '');
      const projectName = req.params['project'] ? this.project(String(req.params['project'])).name : null;
      res.json(this.runWiql(this.ctx(req), query, projectName, Number(req.query['$top'] ?? 20000), this.flag(req, 'timePrecision')));
    });

    r.get('{/:project}{/:team}/_apis/wit/wiql/:id', (req, res) => {
      const query = this.state.queries.find((q) => q.id === String(req.params['id']).toLowerCase());
      if (!query)
        throw new HttpError(
          404,
          'QueryItemNotFoundException',
          `TF401243: The query ${req.params['id']} does not exist, or you do not have permission to read it.`,
        );
      res.json(this.runWiql(this.ctx(req), query.wiql, this.project(query.project).name, Number(req.query['$top'] ?? 20000), this.flag(req, 'timePrecision')));
    });

    // Comments (preview). https://learn.microsoft.com/rest/api/azure/devops/wit/comments?view=azure-devops-rest-7.1
    // Comments before api-version 4: the discussion as revisions that set System.History. https://learn.microsoft.com/rest/api/azure/devops/wit/comments?view=vsts-rest-tfs-4.1
    r.get('{/:project}/_apis/wit/workitems/:id/comments', (req, res, next) => {
      if (this.ctx(req).apiVersion.major >= 4) return next();
      const item = this.item(String(req.params['id']));
      const all = this.legacyComments(this.ctx(req), item);
      const from = Number(req.query['fromRevision'] ?? 1);
      let list = all.filter((c) => Number(c['revision']) >= from);
      const fromRevisionCount = list.length;
      if (String(req.query['order'] ?? 'asc').toLowerCase() === 'desc') list = list.reverse();
      list = list.slice(0, Number(req.query['$top'] ?? 200));
      res.json({ totalCount: all.length, fromRevisionCount, count: list.length, value: list });
    });
    r.get('{/:project}/_apis/wit/workitems/:id/comments/:revision', (req, res, next) => {
      if (this.ctx(req).apiVersion.major >= 4) return next();
      const item = this.item(String(req.params['id']));
      const comment = this.legacyComments(this.ctx(req), item).find((c) => c['revision'] === Number(req.params['revision']));
      if (!comment) throw new HttpError(404, 'CommentNotFoundException', `Revision ${req.params['revision']} of work item ${item.id} has no comment.`);
      res.json(comment);
    });
    r.post('/:project/_apis/wit/workitems/:id/comments', json, (req, res) => {
      const item = this.itemIn(String(req.params['project']), String(req.params['id']));
      const text = (req.body as { text?: unknown })?.text;
      if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'VssPropertyValidationException', 'The comment text is required.');
      res.json(this.renderComment(this.ctx(req), this.addComment(this.ctx(req), item, text)));
    });
    r.get('/:project/_apis/wit/workitems/:id/comments', (req, res) => {
      const item = this.itemIn(String(req.params['project']), String(req.params['id']));
      const includeDeleted = this.flag(req, 'includeDeleted');
      let comments = (this.state.comments[String(item.id)] ?? []).filter((c) => includeDeleted || !c.isDeleted);
      // CommentSortOrder by name or number (asc = 1, desc = 2); newest first by default.
      const order = String(req.query['order'] ?? 'desc').toLowerCase();
      if (order !== 'asc' && order !== '1') comments = [...comments].reverse();
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
      res.json(
        this.renderComment(
          this.ctx(req),
          this.commentOf(this.itemIn(String(req.params['project']), String(req.params['id'])), String(req.params['commentId'])),
        ),
      );
    });
    r.patch('/:project/_apis/wit/workitems/:id/comments/:commentId', json, (req, res) => {
      const comment = this.commentOf(this.itemIn(String(req.params['project']), String(req.params['id'])), String(req.params['commentId']));
      const text = (req.body as { text?: unknown })?.text;
      if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, 'VssPropertyValidationException', 'The comment text is required.');
      comment.text = text;
      comment.version += 1;
      comment.modifiedBy = this.ctx(req).identity.id;
      comment.modifiedDate = this.nextChangeDate();
      res.json(this.renderComment(this.ctx(req), comment));
    });
    r.delete('/:project/_apis/wit/workitems/:id/comments/:commentId', (req, res) => {
      const item = this.itemIn(String(req.params['project']), String(req.params['id']));
      const comment = this.commentOf(item, String(req.params['commentId']));
      comment.isDeleted = true;
      comment.version += 1;
      comment.modifiedBy = this.ctx(req).identity.id;
      comment.modifiedDate = this.nextChangeDate();
      item.fields['System.CommentCount'] = (this.state.comments[String(item.id)] ?? []).filter((c) => !c.isDeleted).length;
      res.json(this.renderComment(this.ctx(req), comment));
    });

    // Attachments. https://learn.microsoft.com/rest/api/azure/devops/wit/attachments?view=azure-devops-rest-7.1
    r.post('{/:project}/_apis/wit/attachments', express.raw({ type: () => true, limit: '130mb' }), (req, res) => {
      const fileName = String(req.query['fileName'] ?? '');
      if (!fileName) throw new HttpError(400, 'VssPropertyValidationException', 'The fileName parameter is required.');
      const chunked = String(req.query['uploadType'] ?? '').toLowerCase() === 'chunked';
      const content = Buffer.isBuffer(req.body) && !chunked ? req.body : Buffer.alloc(0);
      const attachment: AdoAttachment = { id: randomUUID(), fileName, content: content.toString('base64'), ...(chunked ? { pending: true } : {}) };
      this.state.attachments[attachment.id] = attachment;
      res.status(201).json({ id: attachment.id, url: this.attachmentUrl(this.ctx(req).base, attachment) });
    });
    // A chunk of a chunked upload; Content-Range says where it goes (absent: the whole file).
    r.put('{/:project}/_apis/wit/attachments/:id', express.raw({ type: () => true, limit: '130mb' }), (req, res) => {
      const attachment = this.state.attachments[String(req.params['id']).toLowerCase()];
      if (!attachment?.pending)
        throw new HttpError(
          404,
          'AttachmentNotFoundException',
          `TF401001: No chunked upload ${req.params['id']} is in progress; register one with POST …/attachments?uploadType=Chunked first.`,
        );
      const chunk = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const range = /^bytes ([0-9]+)-([0-9]+)\/([0-9]+)$/.exec(String(req.headers['content-range'] ?? ''));
      const current = Buffer.from(attachment.content, 'base64');
      const start = range ? Number(range[1]) : 0;
      if (start !== current.length)
        throw new HttpError(400, 'VssPropertyValidationException', `The chunk starts at ${start}, but ${current.length} bytes were received so far.`);
      attachment.content = Buffer.concat([current, chunk]).toString('base64');
      if (!range || Number(range[2]) + 1 >= Number(range[3])) delete attachment.pending;
      res.status(201).json({ id: attachment.id, url: `${this.ctx(req).base}/_apis/wit/attachments/${attachment.id}` });
    });
    r.get('{/:project}/_apis/wit/attachments/:id', (req, res) => {
      const attachment = this.state.attachments[String(req.params['id']).toLowerCase()];
      if (!attachment || attachment.pending)
        throw new HttpError(404, 'AttachmentNotFoundException', `TF401001: Attachment with id ${req.params['id']} does not exist.`);
      const bytes = Buffer.from(attachment.content, 'base64');
      res.setHeader('content-type', 'application/octet-stream');
      if (this.flag(req, 'download')) res.setHeader('content-disposition', `attachment; filename="${attachment.fileName}"`);
      res.end(bytes);
    });

    // Updates and revisions. https://learn.microsoft.com/rest/api/azure/devops/wit/updates?view=azure-devops-rest-7.1
    r.get('{/:project}/_apis/wit/workitems/:id/updates', (req, res) => {
      const item = this.item(String(req.params['id']));
      const all = this.updatesOf(this.ctx(req), item);
      const skip = Number(req.query['$skip'] ?? 0);
      const top = Number(req.query['$top'] ?? 200);
      const value = all.slice(skip, skip + top);
      res.json({ count: value.length, value });
    });
    r.get('{/:project}/_apis/wit/workitems/:id/updates/:n', (req, res) => {
      const item = this.item(String(req.params['id']));
      const update = this.updatesOf(this.ctx(req), item).find((u) => u['id'] === Number(req.params['n']));
      if (!update) throw new HttpError(404, 'WorkItemUpdateNotFoundException', `The update ${req.params['n']} of work item ${item.id} does not exist.`);
      res.json(update);
    });
    r.get('{/:project}/_apis/wit/workitems/:id/revisions', (req, res) => {
      const item = this.item(String(req.params['id']));
      const skip = Number(req.query['$skip'] ?? 0);
      const top = Number(req.query['$top'] ?? 200);
      const value = item.revisions
        .slice(skip, skip + top)
        .map((rev) =>
          this.renderWorkItem(
            this.ctx(req),
            { ...item, rev: rev.rev, fields: rev.fields, relations: rev.relations },
            { expand: String(req.query['$expand'] ?? '') },
          ),
        );
      res.json({ count: value.length, value });
    });
    r.get('{/:project}/_apis/wit/workitems/:id/revisions/:n', (req, res) => {
      const item = this.item(String(req.params['id']));
      const rev = item.revisions.find((x) => x.rev === Number(req.params['n']));
      if (!rev) throw new HttpError(404, 'WorkItemRevisionNotFoundException', `TF401233: Revision ${req.params['n']} of work item ${item.id} does not exist.`);
      res.json(
        this.renderWorkItem(
          this.ctx(req),
          { ...item, rev: rev.rev, fields: rev.fields, relations: rev.relations },
          { expand: String(req.query['$expand'] ?? '') },
        ),
      );
    });

    // Fields: the organization's, also asked per project (the same list here: one process).
    r.get('{/:project}/_apis/wit/fields', (req, res) => {
      if (req.params['project']) this.project(String(req.params['project']));
      const value = [...FIELDS, ...this.customFields()].map((f) => renderField(this.ctx(req).base, f));
      res.json({ count: value.length, value });
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
        states: def.states.map((s) => ({
          name: s,
          color: 'b2b2b2',
          category: s === def.initial ? 'Proposed' : ['Closed', 'Done', 'Removed'].includes(s) ? 'Completed' : 'InProgress',
        })),
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
    r.put('/_apis/hooks/subscriptions/:id', json, (req, res) => {
      const existing = this.subscription(String(req.params['id']));
      const replaced = this.createSubscription(this.ctx(req), req.body as Json, existing);
      res.json(this.renderSubscription(this.ctx(req).base, replaced));
    });
    r.delete('/_apis/hooks/subscriptions/:id', (req, res) => {
      const sub = this.subscription(String(req.params['id']));
      this.state.subscriptions = this.state.subscriptions.filter((s) => s !== sub);
      res.status(204).end();
    });

    app.use(this.extensions.pages());
    app.use(org, r);
    app.use((_req, res) => vssError(res, 404, 'RouteNotFoundException', 'The requested resource is not available: no such route.'));
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (error instanceof HttpError) return vssError(res, error.status, error.typeKey, error.message);
      if ((error as { type?: string }).type === 'entity.parse.failed')
        return vssError(res, 400, 'VssRequestContentException', 'The request body is not valid JSON.');
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
      return vssError(res, 401, 'UnauthorizedRequestException', "TF400813: The user '' is not authorized to access this resource.");
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
        return vssError(
          res,
          429,
          'RequestThrottledException',
          `Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'. Retry after ${wait} seconds.`,
        );
      }
    }
    (req as Request & { ctx: Ctx }).ctx = {
      identity,
      base: `${req.protocol}://${req.get('host')}/${this.state.organization}`,
      apiVersion: { major: 0, minor: 0, resourceVersion: null },
    };
    next();
  }

  /** api-version is required on every call except location discovery, in the query or the Accept header. */
  private checkApiVersion(req: Request, _res: Response, next: NextFunction): void {
    if (req.method === 'OPTIONS') return next();
    const fromQuery = typeof req.query['api-version'] === 'string' ? (req.query['api-version'] as string) : null;
    const fromAccept = /api-version=([0-9.]+(?:-preview(?:\.[0-9]+)?)?)/i.exec(req.headers.accept ?? '')?.[1] ?? null;
    const version = fromQuery ?? fromAccept;
    if (!version) {
      throw new HttpError(
        400,
        'VssVersionNotSpecifiedException',
        `No api-version was supplied for the "${req.method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
      );
    }
    const m = /^([0-9]+)\.([0-9]+)(-preview(\.[0-9]+)?)?$/i.exec(version);
    if (!m) throw new HttpError(400, 'VssInvalidApiVersionException', `The api-version '${version}' is not valid. Use the form 7.1 or 7.1-preview.1.`);
    if (Number(`${m[1]}.${m[2]}`) > Number(MAX_API_VERSION)) {
      throw new HttpError(
        400,
        'VssVersionOutOfRangeException',
        `The requested REST API version of ${m[1]}.${m[2]} is out of range for this server. The latest REST API version for this server is ${MAX_API_VERSION}.`,
      );
    }
    this.ctx(req).apiVersion = { major: Number(m[1]), minor: Number(m[2]), resourceVersion: m[4] ? Number(m[4].slice(1)) : null };
    const previewOnly = /\/_apis\/wit\/workitems\/[^/]+\/comments/i.test(req.path) || /\/_apis\/(resourceAreas|connectionData)/i.test(req.path);
    if (previewOnly && !m[3]) {
      throw new HttpError(
        400,
        'VssInvalidPreviewVersionException',
        `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${version}-preview"`,
      );
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
    return String(raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  private requirePatchContentType(req: Request): void {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json-patch+json')) {
      throw new HttpError(
        415,
        'VssRequestContentException',
        'The request indicated a Content-Type of "' +
          (req.headers['content-type'] ?? '') +
          '" for method type "' +
          req.method +
          '" which is not supported. Valid content types for this method are: application/json-patch+json.',
      );
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
    if (!project)
      throw new HttpError(
        404,
        'ProjectDoesNotExistWithNameException',
        `TF200016: The following project does not exist: ${decodeURIComponent(nameOrId)}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
      );
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

  /**
   * A work item through a project-scoped route: the service answers a project that does not hold
   * the item as it answers an item that does not exist.
   */
  private itemIn(projectNameOrId: string, id: string | number): AdoWorkItem {
    const project = this.project(projectNameOrId);
    const item = this.item(id);
    if (String(item.fields['System.TeamProject']) !== project.name) throw this.notFound(id);
    return item;
  }

  private commentOf(item: AdoWorkItem, commentId: string): AdoComment {
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
      throw new HttpError(
        400,
        'WorkItemFieldInvalidException',
        found.length
          ? `TF401320: Rule Error for field ${field}. Error code: HasValues, InvalidIdentity. The identity value '${key}' is ambiguous.`
          : `The identity value '${key}' for field '${field}' is an unknown identity.`,
      );
    }
    return found[0]!;
  }

  /** With bypassRules the service stores an identity field as given, even text it cannot resolve. */
  private identityOrText(value: string): string {
    try {
      return this.resolveIdentity(value, '')?.id ?? value;
    } catch {
      return value;
    }
  }

  /** The work item as it was at `asOf` (a date): its last revision changed at or before then. */
  private asOf(item: AdoWorkItem, asOf: unknown): AdoWorkItem {
    if (asOf === undefined) return item;
    const at = new Date(String(asOf)).getTime();
    if (Number.isNaN(at)) throw new HttpError(400, 'VssPropertyValidationException', `The asOf value '${String(asOf)}' is not a date.`);
    const revision = [...item.revisions].reverse().find((r) => new Date(String(r.fields['System.ChangedDate'])).getTime() <= at);
    if (!revision) throw this.notFound(item.id);
    return { ...item, rev: revision.rev, fields: revision.fields, relations: revision.relations };
  }

  private customFields(): FieldDefinition[] {
    return this.state.customFields ?? CUSTOM_FIELDS;
  }

  private template(ctx: Ctx, project: AdoProject, typeName: string): { fields: Record<string, unknown> } {
    const type = findType(project, typeName);
    if (!type) throw new HttpError(404, 'WorkItemTypeNotFoundException', `TF401326: Work item type ${typeName} does not exist in project ${project.name}.`);
    // A template is a new item that has not been saved: no id, no creation or change time.
    const {
      'System.CreatedDate': _c,
      'System.ChangedDate': _d,
      'System.CommentCount': _n,
      ...fields
    } = newItemFields(project, type, ctx.identity.id, new Date().toISOString());
    return { fields };
  }

  // ───────────────────────── work items ─────────────────────────

  private createWorkItem(ctx: Ctx, project: AdoProject, typeName: string, patch: unknown, validateOnly: boolean, bypassRules: boolean): AdoWorkItem {
    const type = findType(project, decodeURIComponent(typeName));
    if (!type)
      throw new HttpError(
        404,
        'WorkItemTypeNotFoundException',
        `TF401326: Work item type ${decodeURIComponent(typeName)} does not exist in project ${project.name} or you do not have permission to access it.`,
      );
    const draft: AdoWorkItem = { id: 0, rev: 0, fields: newItemFields(project, type, ctx.identity.id, this.nextChangeDate()), relations: [], revisions: [] };
    const { history } = this.applyPatch(draft, project, patch, bypassRules);
    if (!draft.fields['System.Title'])
      throw new HttpError(400, 'RuleValidationException', 'TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty.');
    if (validateOnly) return draft;
    draft.id = this.state.nextWorkItemId++;
    this.commit(draft, ctx, history ?? undefined);
    this.state.workItems[String(draft.id)] = draft;
    if (history) this.addCommentRecord(ctx, draft, history);
    this.syncReverseLinks(ctx, [], draft);
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
    if (draft.fields['System.State'] !== before.fields['System.State'])
      draft.fields['Microsoft.VSTS.Common.StateChangeDate'] = draft.fields['System.ChangedDate'];
    this.commit(draft, ctx, history ?? undefined);
    this.state.workItems[String(item.id)] = draft;
    if (history) this.addCommentRecord(ctx, draft, history);
    this.syncReverseLinks(ctx, before.relations, draft);
    this.emit('workitem.updated', ctx, draft, before);
    return draft;
  }

  /** Applies a JSON Patch document: the System.History text (a new comment), if any, and the fields it set. */
  private applyPatch(item: AdoWorkItem, initialProject: AdoProject, patch: unknown, bypassRules: boolean): { history: string | null; touched: Set<string> } {
    let project = initialProject;
    if (!Array.isArray(patch) || patch.length === 0) {
      throw new HttpError(400, 'VssPropertyValidationException', 'You must pass a valid patch document in the body of the request.');
    }
    const touched = new Set<string>();
    let history: string | null = null;
    for (const op of patch as Array<{ op?: string; path?: string; value?: unknown; from?: unknown }>) {
      const kind = String(op.op ?? '').toLowerCase();
      const path = String(op.path ?? '');
      if (!['add', 'replace', 'remove', 'test'].includes(kind))
        throw new HttpError(400, 'VssPropertyValidationException', `The operation '${op.op}' is not supported. Use add, replace, remove or test.`);
      if (kind === 'test') {
        if (path === '/rev' && Number(op.value) !== item.rev)
          throw new HttpError(
            412,
            'WorkItemRevisionMismatchException',
            `TF26071: This work item has been changed by someone else since you opened it. You will need to refresh it and discard your changes. (rev ${item.rev}, expected ${op.value})`,
          );
        continue;
      }
      if (path.startsWith('/fields/')) {
        const def = findField(path.slice(8), this.customFields());
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
          history = value === null || value === undefined || value === '' ? null : String(value);
          if (history !== null) item.fields[ref] = history;
          continue;
        }
        if (ref === 'System.TeamProject') {
          project = this.project(String(value));
          item.fields[ref] = project.name;
          continue;
        }
        if (ref === 'System.WorkItemType') {
          const type = findType(project, String(value));
          if (!type)
            throw new HttpError(400, 'WorkItemTypeNotFoundException', `TF401326: Work item type ${String(value)} does not exist in project ${project.name}.`);
          item.fields[ref] = type;
          continue;
        }
        item.fields[ref] =
          def.type === 'identity' && bypassRules && typeof value === 'string' && value !== ''
            ? this.identityOrText(value)
            : this.coerce(def.type, ref, def.name, value, project, String(item.fields['System.WorkItemType']));
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
      throw new HttpError(
        400,
        'VssPropertyValidationException',
        `The path '${path}' is not supported. Use /fields/{referenceName}, /relations/- or /relations/{index}.`,
      );
    }
    this.checkAgainstProject(item, project, touched);
    return { history, touched };
  }

  /** Type, state and tree paths must fit the project the item ends up in (after a move or a type change). */
  private checkAgainstProject(item: AdoWorkItem, project: AdoProject, touched: Set<string>): void {
    // A work item has one parent at most.
    const parents = item.relations.filter((r) => r.rel === 'System.LinkTypes.Hierarchy-Reverse');
    if (parents.length > 1)
      throw new HttpError(
        400,
        'WorkItemLinkInvalidException',
        'TF201036: You cannot add a Parent link to this work item because a work item can have only one Parent link.',
      );
    const types = PROCESSES[project.process];
    const type = String(item.fields['System.WorkItemType']);
    if (!types[type])
      throw new HttpError(
        400,
        'WorkItemTypeNotFoundException',
        `TF401326: Work item type ${type} does not exist in project ${project.name}. Set System.WorkItemType to one of: ${Object.keys(types).join(', ')}.`,
      );
    const states = types[type]!.states;
    if (!states.includes(String(item.fields['System.State']))) {
      if (touched.has('System.State'))
        throw new HttpError(
          400,
          'RuleValidationException',
          `TF401320: Rule Error for field State. Error code: LimitedToValues. '${String(item.fields['System.State'])}' is not a state of ${type}; allowed: ${states.join(', ')}.`,
        );
      item.fields['System.State'] = types[type]!.initial;
    }
    for (const ref of ['System.AreaPath', 'System.IterationPath']) {
      const path = String(item.fields[ref] ?? project.name);
      // The tree is not modelled beyond its root: any node below the project is accepted.
      if (path.toLowerCase() !== project.name.toLowerCase() && !path.toLowerCase().startsWith(`${project.name.toLowerCase()}\\`)) {
        if (touched.has(ref))
          throw new HttpError(
            400,
            'WorkItemFieldInvalidException',
            `TF401347: Invalid tree name given for work item ${item.id || -1}, field '${ref}': '${path}' is not under project ${project.name}.`,
          );
        item.fields[ref] = project.name;
      }
    }
  }

  private coerce(type: string, ref: string, name: string, value: unknown, project: AdoProject, workItemType: string): unknown {
    if (value === null || value === '') return value;
    if (type === 'identity') return this.resolveIdentity(value, name)?.id ?? null;
    if (type === 'integer' || type === 'double') {
      const n = Number(value);
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n)))
        throw new HttpError(
          400,
          'WorkItemFieldInvalidException',
          `TF401320: Rule Error for field ${name}. Error code: InvalidType. The value '${String(value)}' is not a number.`,
        );
      if (ref === 'Microsoft.VSTS.Common.Priority' && (n < 1 || n > 4))
        throw new HttpError(
          400,
          'RuleValidationException',
          `TF401320: Rule Error for field Priority. Error code: LimitedToValues. Allowed values: 1, 2, 3, 4.`,
        );
      return n;
    }
    if (type === 'dateTime') {
      const d = new Date(String(value));
      if (Number.isNaN(d.getTime()))
        throw new HttpError(400, 'WorkItemFieldInvalidException', `The value '${String(value)}' for field '${name}' is not a date.`);
      return d.toISOString();
    }
    if (ref === 'System.State') {
      const states = PROCESSES[project.process][workItemType]?.states ?? [];
      const state = states.find((s) => s.toLowerCase() === String(value).toLowerCase());
      if (!state)
        throw new HttpError(
          400,
          'RuleValidationException',
          `TF401320: Rule Error for field State. Error code: LimitedToValues. '${String(value)}' is not a state of ${workItemType}; allowed: ${states.join(', ')}.`,
        );
      return state;
    }
    if (ref === 'System.Tags') {
      const tags = [
        ...new Set(
          String(value)
            .split(';')
            .map((t) => t.trim())
            .filter(Boolean),
        ),
      ];
      return tags.join('; ');
    }
    if (ref === 'System.Title' && String(value).length > 255)
      throw new HttpError(
        400,
        'RuleValidationException',
        'TF401320: Rule Error for field Title. Error code: InvalidLength. The title is longer than 255 characters.',
      );
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
      Object.assign(attributes, {
        authorizedDate: now,
        id: Object.keys(this.state.attachments).indexOf(attachment.id) + 1,
        resourceCreatedDate: now,
        resourceModifiedDate: now,
        revisedDate: '9999-01-01T00:00:00Z',
        name: attachment.fileName,
      });
      if (this.attachmentSizes) attributes['resourceSize'] = Buffer.from(attachment.content, 'base64').length;
    }
    return { rel: v.rel, url: v.url, attributes };
  }

  /** Stamps a new revision and records it. */
  private commit(item: AdoWorkItem, ctx: Ctx, comment?: string): void {
    item.rev += 1;
    item.fields['System.Id'] = item.id;
    item.fields['System.Rev'] = item.rev;
    if (!item.fields['System.ChangedBy']) item.fields['System.ChangedBy'] = ctx.identity.id;
    item.revisions.push({
      rev: item.rev,
      fields: structuredClone(item.fields),
      relations: structuredClone(item.relations),
      ...(comment !== undefined ? { comment } : {}),
    });
  }

  private addComment(ctx: Ctx, item: AdoWorkItem, text: string): AdoComment {
    // A comment is also a new revision of the work item (with System.History), as in the service.
    const before = structuredClone(item);
    item.fields['System.ChangedDate'] = this.nextChangeDate();
    item.fields['System.ChangedBy'] = ctx.identity.id;
    item.fields['System.History'] = text;
    const comment = this.addCommentRecord(ctx, item, text);
    this.commit(item, ctx, text);
    this.emit('workitem.commented', ctx, item, before, text);
    return comment;
  }

  private addCommentRecord(ctx: Ctx, item: AdoWorkItem, text: string): AdoComment {
    const now = String(item.fields['System.ChangedDate']);
    const comment: AdoComment = {
      workItemId: item.id,
      commentId: this.state.nextCommentId++,
      version: 1,
      text,
      createdBy: ctx.identity.id,
      createdDate: now,
      modifiedBy: ctx.identity.id,
      modifiedDate: now,
      isDeleted: false,
    };
    (this.state.comments[String(item.id)] ??= []).push(comment);
    item.fields['System.CommentCount'] = (this.state.comments[String(item.id)] ?? []).filter((c) => !c.isDeleted).length;
    if (item.revisions.length) item.revisions[item.revisions.length - 1]!.fields['System.CommentCount'] = item.fields['System.CommentCount'];
    return comment;
  }

  // ───────────────────────── rendering ─────────────────────────

  private renderFields(ctx: Ctx, fields: Record<string, unknown>, only: string[] | null): Json {
    const base = ctx.base;
    const out: Json = {};
    const wanted = only?.map((f) => findField(f, this.customFields())?.referenceName ?? f);
    for (const [k, v] of Object.entries(fields)) {
      if (wanted && !wanted.some((w) => w.toLowerCase() === k.toLowerCase())) continue;
      if (IDENTITY_FIELDS.has(k)) {
        const identity = this.state.identities.find((i) => i.id === v);
        out[k] = identity ? this.identityRef(base, identity) : v;
      } else out[k] = v;
    }
    return out;
  }

  renderWorkItem(ctx: Ctx, item: AdoWorkItem, o: { expand?: string; fields?: string[] | null; links?: boolean }): Json {
    // $expand is an enum the service takes by name or by number (None, Relations, Fields, Links, All).
    const raw = (o.expand ?? '').toLowerCase();
    const expand = ['none', 'relations', 'fields', 'links', 'all'][Number(raw)] ?? raw;
    const base = ctx.base;
    const project = this.state.projects.find((p) => p.name === item.fields['System.TeamProject']);
    const url = `${base}/_apis/wit/workItems/${item.id}`;
    const out: Json = { id: item.id, rev: item.rev, fields: this.renderFields(ctx, item.fields, o.fields ?? null) };
    if ((expand === 'relations' || expand === 'all') && item.relations.length) out['relations'] = item.relations;
    if (o.links !== false && !o.fields) {
      out['_links'] = {
        self: { href: url },
        workItemUpdates: { href: `${url}/updates` },
        workItemRevisions: { href: `${url}/revisions` },
        workItemHistory: { href: `${url}/history` },
        html: { href: `${base}/web/wi.aspx?pcguid=${this.state.collectionId}&id=${item.id}` },
        workItemType: { href: `${base}/${project?.id ?? ''}/_apis/wit/workItemTypes/${encodeURIComponent(String(item.fields['System.WorkItemType']))}` },
        fields: { href: `${base}/_apis/wit/fields` },
      };
      const parent = item.relations.find((r) => r.rel === 'System.LinkTypes.Hierarchy-Reverse');
      if (parent) (out['_links'] as Json)['parent'] = { href: parent.url };
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

  private legacyComments(ctx: Ctx, item: AdoWorkItem): Json[] {
    return item.revisions
      .filter((r) => r.comment !== undefined)
      .map((r) => {
        const who = this.state.identities.find((i) => i.id === r.fields['System.ChangedBy']);
        return {
          revision: r.rev,
          text: r.comment,
          revisedBy: who ? this.identityRef(ctx.base, who) : null,
          revisedDate: r.fields['System.ChangedDate'],
          url: `${ctx.base}/_apis/wit/workItems/${item.id}/comments/${r.rev}`,
        };
      });
  }

  private renderProject(base: string, p: AdoProject): Json {
    return {
      id: p.id,
      name: p.name,
      description: p.description,
      url: `${base}/_apis/projects/${p.id}`,
      state: 'wellFormed',
      revision: 1,
      visibility: 'private',
      lastUpdateTime: p.lastUpdateTime,
    };
  }

  private attachmentUrl(base: string, a: AdoAttachment): string {
    return `${base}/_apis/wit/attachments/${a.id}?fileName=${encodeURIComponent(a.fileName)}`;
  }

  private updatesOf(ctx: Ctx, item: AdoWorkItem): Json[] {
    const base = ctx.base;
    return item.revisions.map((rev, i) => {
      const prev = i > 0 ? item.revisions[i - 1]! : null;
      const fields: Json = {};
      for (const k of new Set([...Object.keys(rev.fields), ...Object.keys(prev?.fields ?? {})])) {
        const a = prev?.fields[k];
        const b = rev.fields[k];
        if (JSON.stringify(a) === JSON.stringify(b)) continue;
        const render = (v: unknown) => (IDENTITY_FIELDS.has(k) ? this.renderFields(ctx, { [k]: v }, null)[k] : v);
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
        _links: {
          self: { href: `${base}/_apis/wit/workItems/${item.id}/updates/${rev.rev}` },
          workItemUpdates: { href: `${base}/_apis/wit/workItems/${item.id}/updates` },
          parent: { href: `${base}/_apis/wit/workItems/${item.id}` },
        },
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
    const refs = (qualified: string) => {
      const name = qualified.replace(/^(Source|Target)::/, '');
      if (name.toLowerCase() === 'system.links.linktype') return { referenceName: 'System.Links.LinkType', name: 'Link Type', type: 'string' as const };
      const f = findField(name, this.customFields());
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
    // In link queries a field is [Source].[f] (or unqualified), [Target].[f], or the link type.
    type Row = { source: AdoWorkItem; target?: AdoWorkItem; linkType?: string };
    let row: Row | null = null;
    const valueOf = (item: AdoWorkItem, ref: string): unknown => item.fields[ref];
    const neutral = Symbol('neutral');
    const lookup = (name: string): { item: AdoWorkItem | null; ref: string } | typeof neutral | { link: string | undefined } => {
      const m = /^(Source|Target)::(.*)$/.exec(name);
      if (!row) return { item: null, ref: name };
      if (name.toLowerCase() === 'system.links.linktype') return row.linkType === undefined ? neutral : { link: row.linkType };
      if (m?.[1] === 'Target') return row.target ? { item: row.target, ref: m[2]! } : neutral;
      return { item: row.source, ref: m?.[2] ?? name };
    };
    const compare = (a: unknown, b: unknown, type: string): number => {
      if (type === 'dateTime') {
        const bs = String(b);
        if (!timePrecision && /T\d{2}:\d{2}/.test(bs) && !/T00:00:00(\.0+)?Z?$/.test(bs)) {
          throw new HttpError(
            400,
            'WiqlSyntaxException',
            `TF51005: You cannot supply a time with the date when running a query using date precision. The error is caused by «'${bs}'». Pass timePrecision=true to compare times.`,
          );
        }
        const x = new Date(String(a ?? 0)).getTime();
        const y = new Date(bs).getTime();
        if (!timePrecision) return Math.floor(x / 86_400_000) - Math.floor(y / 86_400_000);
        return x - y;
      }
      if (type === 'integer' || type === 'double') return Number(a) - Number(b);
      return String(a ?? '')
        .toLowerCase()
        .localeCompare(String(b ?? '').toLowerCase());
    };
    const identityMatches = (stored: unknown, given: unknown) => {
      if (stored === given) return true;
      const identity = this.state.identities.find((i) => i.id === stored);
      if (!identity) return stored === null && (given === '' || given === null);
      const g = String(given).toLowerCase();
      return [identity.displayName, identity.uniqueName, `${identity.displayName} <${identity.uniqueName}>`].some((x) => x.toLowerCase() === g);
    };
    const test = (item: AdoWorkItem, c: WiqlCondition): boolean => {
      if (c.kind === 'and') return test(item, c.left) && test(item, c.right);
      if (c.kind === 'or') return test(item, c.left) || test(item, c.right);
      if (c.kind === 'not') return !test(item, c.inner);
      return testLeaf(item, c);
    };
    const testLeaf = (item: AdoWorkItem, c: Exclude<WiqlCondition, { kind: 'and' | 'or' | 'not' }>): boolean => {
      const where = row ? lookup(c.field) : { item, ref: c.field };
      if (where === neutral) return true;
      if ('link' in where) {
        const given = c.kind === 'compare' ? [resolve(c.value)] : c.kind === 'in' ? c.values.map(resolve) : [];
        const hit = given.some((g) => String(g).toLowerCase() === String(where.link).toLowerCase());
        return c.kind === 'compare' && c.op === '<>' ? !hit : c.kind === 'in' && c.negated ? !hit : hit;
      }
      const subject = where.item!;
      const f = refs(where.ref);
      switch (c.kind) {
        case 'compare': {
          const a = valueOf(subject, f.referenceName);
          const b = resolve(c.value);
          if (f.type === 'identity' && (c.op === '=' || c.op === '<>')) return identityMatches(a, b) === (c.op === '=');
          if (f.referenceName === 'System.Tags' && (c.op === '=' || c.op === '<>'))
            return (String(a ?? '').toLowerCase() === String(b).toLowerCase()) === (c.op === '=');
          const d = compare(a, b, f.type);
          return { '=': d === 0, '<>': d !== 0, '>': d > 0, '>=': d >= 0, '<': d < 0, '<=': d <= 0 }[c.op];
        }
        case 'in': {
          const a = valueOf(subject, f.referenceName);
          const hit = c.values.some((v) => (f.type === 'identity' ? identityMatches(a, resolve(v)) : compare(a, resolve(v), f.type) === 0));
          return hit !== c.negated;
        }
        case 'contains': {
          const hay = String(valueOf(subject, f.referenceName) ?? '').toLowerCase();
          const needle = String(resolve(c.value)).toLowerCase();
          const hit =
            f.referenceName === 'System.Tags'
              ? hay
                  .split(';')
                  .map((t) => t.trim())
                  .includes(needle)
              : c.words
                ? new RegExp(`\\b${needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(hay)
                : hay.includes(needle);
          return hit !== c.negated;
        }
        case 'under': {
          const a = String(valueOf(subject, f.referenceName) ?? '').toLowerCase();
          const b = String(resolve(c.value)).toLowerCase();
          return a === b || a.startsWith(`${b}\\`);
        }
      }
    };
    if (parsed.source === 'workItemLinks')
      return this.linkQueryResult(
        ctx,
        parsed,
        (r) => {
          row = r;
          try {
            return !parsed.where || test(r.source, parsed.where);
          } finally {
            row = null;
          }
        },
        refs,
        top,
      );
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

  /**
   * A query FROM WorkItemLinks: sources that match, then their links (of the queried type, to targets
   * that match). Recursive mode walks the parent/child tree from its roots.
   */
  private linkQueryResult(
    ctx: Ctx,
    parsed: ReturnType<typeof parseWiql>,
    matches: (row: { source: AdoWorkItem; target?: AdoWorkItem; linkType?: string }) => boolean,
    refs: (name: string) => { referenceName: string; name: string },
    top: number,
  ): Json {
    const base = ctx.base;
    const ref = (i: AdoWorkItem) => ({ id: i.id, url: `${base}/_apis/wit/workItems/${i.id}` });
    const linksOf = (i: AdoWorkItem) =>
      i.relations.flatMap((r) => {
        const id = /\/workItems\/([0-9]+)$/i.exec(r.url)?.[1];
        const target = id ? this.state.workItems[id] : undefined;
        return target ? [{ rel: r.rel, target }] : [];
      });
    const sources = Object.values(this.state.workItems)
      .filter((i) => matches({ source: i }))
      .sort((a, b) => a.id - b.id);
    const linkOk = (source: AdoWorkItem, l: { rel: string; target: AdoWorkItem }) => matches({ source, target: l.target, linkType: l.rel });
    const relations: Json[] = [];
    if (parsed.mode === 'Recursive') {
      const childLinks = (i: AdoWorkItem) => linksOf(i).filter((l) => l.rel === 'System.LinkTypes.Hierarchy-Forward' && linkOk(i, l));
      const childIds = new Set(sources.flatMap((s) => childLinks(s).map((l) => l.target.id)));
      const walk = (i: AdoWorkItem, seen: Set<number>) => {
        for (const l of childLinks(i)) {
          if (seen.has(l.target.id)) continue;
          seen.add(l.target.id);
          relations.push({ rel: l.rel, source: ref(i), target: ref(l.target) });
          walk(l.target, seen);
        }
      };
      for (const root of sources.filter((s) => !childIds.has(s.id))) {
        relations.push({ target: ref(root) });
        walk(root, new Set([root.id]));
      }
    } else {
      for (const source of sources) {
        const links = linksOf(source).filter((l) => linkOk(source, l));
        if (parsed.mode === 'MustContain' && links.length === 0) continue;
        if (parsed.mode === 'DoesNotContain' && links.length > 0) continue;
        relations.push({ target: ref(source) });
        if (parsed.mode !== 'DoesNotContain') for (const l of links) relations.push({ rel: l.rel, source: ref(source), target: ref(l.target) });
      }
    }
    const column = (name: string) => {
      const f = refs(name);
      return { referenceName: f.referenceName, name: f.name, url: `${base}/_apis/wit/fields/${f.referenceName}` };
    };
    return {
      queryType: parsed.mode === 'Recursive' ? 'tree' : 'oneHop',
      queryResultType: 'workItemLink',
      asOf: new Date().toISOString(),
      columns: parsed.fields.map(column),
      sortColumns: parsed.orderBy.map((o) => ({ field: column(o.field), descending: o.descending })),
      workItemRelations: relations.slice(0, top),
    };
  }

  /** Links between work items are two-sided, as in the service: each side lists the other. */
  private syncReverseLinks(ctx: Ctx, before: AdoRelation[], item: AdoWorkItem): void {
    const REVERSE: Record<string, string> = {
      'System.LinkTypes.Hierarchy-Forward': 'System.LinkTypes.Hierarchy-Reverse',
      'System.LinkTypes.Hierarchy-Reverse': 'System.LinkTypes.Hierarchy-Forward',
      'System.LinkTypes.Dependency-Forward': 'System.LinkTypes.Dependency-Reverse',
      'System.LinkTypes.Dependency-Reverse': 'System.LinkTypes.Dependency-Forward',
      'System.LinkTypes.Duplicate-Forward': 'System.LinkTypes.Duplicate-Reverse',
      'System.LinkTypes.Duplicate-Reverse': 'System.LinkTypes.Duplicate-Forward',
      'System.LinkTypes.Related': 'System.LinkTypes.Related',
    };
    const key = (r: AdoRelation) => `${r.rel}|${r.url}`;
    const was = new Set(before.map(key));
    const now = new Set(item.relations.map(key));
    const selfUrl = `${ctx.base}/_apis/wit/workItems/${item.id}`;
    const changes = [
      ...item.relations.filter((r) => !was.has(key(r))).map((r) => ({ r, add: true })),
      ...before.filter((r) => !now.has(key(r))).map((r) => ({ r, add: false })),
    ];
    for (const { r, add } of changes) {
      const reverse = REVERSE[r.rel];
      const id = /\/workItems\/([0-9]+)$/i.exec(r.url)?.[1];
      const other = id ? this.state.workItems[id] : undefined;
      if (!reverse || !other || other.id === item.id) continue;
      const has = other.relations.findIndex((x) => x.rel === reverse && /\/workItems\/([0-9]+)$/i.exec(x.url)?.[1] === String(item.id));
      if (add && has < 0)
        other.relations.push({
          rel: reverse,
          url: selfUrl,
          attributes: {
            isLocked: false,
            name: reverse.includes('Hierarchy') ? (reverse.endsWith('Forward') ? 'Child' : 'Parent') : reverse.split('.').at(-1)!,
          },
        });
      else if (!add && has >= 0) other.relations.splice(has, 1);
      else continue;
      other.fields['System.ChangedDate'] = this.nextChangeDate();
      other.fields['System.ChangedBy'] = ctx.identity.id;
      this.commit(other, ctx);
    }
  }

  // ───────────────────────── service hooks ─────────────────────────

  private subscription(id: string): AdoSubscription {
    const sub = this.state.subscriptions.find((s) => s.id === id.toLowerCase());
    if (!sub) throw new HttpError(404, 'SubscriptionNotFoundException', `VS1010005: The subscription ${id} does not exist.`);
    return sub;
  }

  /** Creates a subscription, or replaces `existing` (PUT). Only webHooks/httpRequest consumers are delivered to. */
  private createSubscription(ctx: Ctx, body: Json, existing?: AdoSubscription): AdoSubscription {
    const eventType = String(body['eventType'] ?? '');
    const publisherId = String(body['publisherId'] ?? '');
    const consumerId = String(body['consumerId'] ?? '');
    const consumerActionId = String(body['consumerActionId'] ?? '');
    if (!eventType || !publisherId || !consumerId || !consumerActionId) {
      throw new HttpError(400, 'SubscriptionInputException', 'VS1010008: publisherId, eventType, consumerId and consumerActionId are required.');
    }
    const consumerInputs = (body['consumerInputs'] ?? {}) as Record<string, string>;
    // The payload controls take one of their listed values (GET _apis/hooks/consumers), as in the service.
    for (const [input, values] of Object.entries(PAYLOAD_CONTROLS)) {
      const given = consumerInputs[input];
      if (given !== undefined && !(values as readonly string[]).includes(given.toLowerCase())) {
        throw new HttpError(
          400,
          'SubscriptionInputException',
          `VS1010008: The consumer input "${input}" must be one of: ${values.filter(Boolean).join(', ')} (or empty).`,
        );
      }
    }
    if (consumerId === 'webHooks') {
      try {
        const url = new URL(consumerInputs['url'] ?? '');
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
      } catch {
        throw new HttpError(400, 'SubscriptionInputException', 'VS1010008: The consumer input "url" must be an http(s) URL.');
      }
    }
    const publisherInputs = { ...((body['publisherInputs'] ?? {}) as Record<string, string>) };
    if (publisherInputs['projectId']) this.project(publisherInputs['projectId']);
    // The service adds where the subscription lives to the publisher inputs.
    publisherInputs['hostId'] = this.state.collectionId;
    const now = new Date().toISOString();
    const sub: AdoSubscription = {
      id: existing?.id ?? randomUUID(),
      publisherId,
      eventType,
      resourceVersion: String(body['resourceVersion'] ?? '1.0'),
      consumerId,
      consumerActionId,
      publisherInputs,
      consumerInputs,
      status: 'enabled',
      createdBy: existing?.createdBy ?? ctx.identity.id,
      createdDate: existing?.createdDate ?? now,
      modifiedBy: ctx.identity.id,
      modifiedDate: now,
    };
    publisherInputs['tfsSubscriptionId'] = sub.id;
    if (existing) this.state.subscriptions[this.state.subscriptions.indexOf(existing)] = sub;
    else this.state.subscriptions.push(sub);
    return sub;
  }

  private renderSubscription(base: string, s: AdoSubscription): Json {
    const inputs = { ...s.consumerInputs };
    // The service never returns the basic-auth password it was given.
    if (inputs['basicAuthPassword']) inputs['basicAuthPassword'] = '********';
    const who = (id: string) => this.identityRef(base, this.state.identities.find((i) => i.id === id) ?? { id, displayName: 'Unknown', uniqueName: '' });
    return {
      ...s,
      consumerInputs: inputs,
      eventDescription: `${s.eventType}${s.publisherInputs['projectId'] ? ` in project ${s.publisherInputs['projectId']}` : ''}`,
      actionDescription:
        s.consumerId === 'webHooks'
          ? `To host ${(() => {
              try {
                return new URL(s.consumerInputs['url'] ?? '').host;
              } catch {
                return '';
              }
            })()}`
          : s.consumerActionId,
      createdBy: who(s.createdBy),
      modifiedBy: who(s.modifiedBy),
      url: `${base}/_apis/hooks/subscriptions/${s.id}`,
    };
  }

  /** Delivers a work item event to every matching subscription, as the service's webhook consumer does. */
  private emit(eventType: AdoSubscription['eventType'], ctx: Ctx, item: AdoWorkItem, before: AdoWorkItem | null, commentText?: string): void {
    const project = this.state.projects.find((p) => p.name === item.fields['System.TeamProject']);
    for (const sub of this.state.subscriptions) {
      if (
        sub.status !== 'enabled' ||
        sub.eventType !== eventType ||
        sub.consumerId !== 'webHooks' ||
        !(DELIVERED_EVENTS as readonly string[]).includes(sub.eventType)
      )
        continue;
      if (sub.publisherInputs['projectId'] && project && this.project(sub.publisherInputs['projectId']).id !== project.id) continue;
      if (sub.publisherInputs['workItemType'] && sub.publisherInputs['workItemType'] !== item.fields['System.WorkItemType']) continue;
      const rendered = this.renderWorkItem(ctx, item, { expand: 'relations' });
      let resource: Json = rendered;
      if (eventType === 'workitem.updated' && before) {
        const update = this.updatesOf(ctx, item).at(-1)!;
        resource = { ...update, revision: rendered };
      }
      if (eventType === 'workitem.commented') resource = { ...rendered, fields: { ...(rendered['fields'] as Json), 'System.History': commentText } };
      const id = randomUUID();
      const scoped = Boolean(sub.publisherInputs['projectId']);
      const message = `${item.fields['System.WorkItemType']} #${item.id} (${item.fields['System.Title']}) ${eventType.split('.')[1]} by ${ctx.identity.displayName}`;
      const detailed = `${item.fields['System.WorkItemType']} #${item.id} ${eventType.split('.')[1]}`;
      const payload = {
        subscriptionId: sub.id,
        notificationId: this.state.subscriptions.indexOf(sub) + 1,
        id,
        eventType,
        publisherId: 'tfs',
        message: messagesToSend(sub.consumerInputs['messagesToSend'], scoped, message),
        detailedMessage: messagesToSend(sub.consumerInputs['detailedMessagesToSend'], scoped, detailed),
        resource: resourceToSend(sub.consumerInputs['resourceDetailsToSend'], scoped, resource),
        resourceVersion: sub.resourceVersion,
        resourceContainers: { collection: { id: this.state.collectionId }, account: { id: this.state.collectionId }, project: { id: project?.id } },
        createdDate: new Date().toISOString(),
      };
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (sub.consumerInputs['basicAuthUsername'] !== undefined || sub.consumerInputs['basicAuthPassword'] !== undefined) {
        headers['authorization'] =
          `Basic ${Buffer.from(`${sub.consumerInputs['basicAuthUsername'] ?? ''}:${sub.consumerInputs['basicAuthPassword'] ?? ''}`).toString('base64')}`;
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

/**
 * The consumer inputs that shape a webhook's payload, with the values the service takes (the
 * empty value is the default: everything for a project's subscription, the minimum for one on the
 * whole collection). https://learn.microsoft.com/azure/devops/service-hooks/services/webhooks
 */
const PAYLOAD_CONTROLS = {
  resourceDetailsToSend: ['', 'all', 'minimal', 'none'],
  messagesToSend: ['', 'all', 'text', 'html', 'markdown', 'none'],
  detailedMessagesToSend: ['', 'all', 'text', 'html', 'markdown', 'none'],
} as const;

/** What "minimal" keeps of a resource: its identifying fields only (no revision, no fields). */
const MINIMAL_RESOURCE_FIELDS = [
  'id',
  'url',
  'webUrl',
  'name',
  'pullRequestId',
  'workItemId',
  'pushId',
  'changesetId',
  'stageName',
  'attemptId',
  'runId',
  'runUrl',
  'approvalId',
];

function resourceToSend(control: string | undefined, projectScoped: boolean, resource: Json): Json | null {
  const chosen = control?.toLowerCase() || (projectScoped ? 'all' : 'minimal');
  if (chosen === 'none') return null;
  if (chosen === 'minimal') return Object.fromEntries(MINIMAL_RESOURCE_FIELDS.filter((k) => resource[k] !== undefined).map((k) => [k, resource[k]]));
  return resource;
}

function messagesToSend(control: string | undefined, projectScoped: boolean, text: string): Json | null {
  const chosen = control?.toLowerCase() || (projectScoped ? 'all' : 'none');
  if (chosen === 'none') return null;
  const all: Json = { text, html: text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'), markdown: text };
  return chosen === 'all' ? all : { [chosen]: all[chosen] };
}
