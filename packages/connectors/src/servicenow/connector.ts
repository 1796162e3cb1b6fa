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
  Person,
  RichText,
  TrackerConnector,
  TrackerInfo,
  TrackerItem,
  WebhookSubscription,
  RestCall,
} from '../connector.js';
import { ConnectorError } from '../connector.js';
import { hashing } from '../streams.js';
import { ServiceNowClient, type ServiceNowConnection, type SnRecord } from './client.js';
import { restPassThrough } from '../rest-passthrough.js';

export interface ServiceNowOptions extends ServiceNowConnection {
  /** The tables offered as "projects"; default incident, problem and change_request. */
  tables?: string[];
  /** ServiceNow has no label field: the column that holds labels, comma-separated. Default u_labels. */
  labelsField?: string;
}

const PREFIXES: Record<string, string> = { INC: 'incident', PRB: 'problem', CHG: 'change_request', SCTASK: 'sc_task' };
const TABLE_NAMES: Record<string, string> = { incident: 'Incident', problem: 'Problem', change_request: 'Change Request', sc_task: 'Catalog Task' };
/** Glide times are UTC "yyyy-MM-dd HH:mm:ss". */
const isoFromGlide = (v: unknown) => new Date(`${String(v).replace(' ', 'T')}Z`).toISOString();
const glideFromIso = (iso: string) => new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
/** The columns the item's own fields come from (or that are journals): not in its customFields. */
const MODEL_COLUMNS = new Set([
  'number',
  'short_description',
  'description',
  'state',
  'priority',
  'parent',
  'comments',
  'work_notes',
  'comments_and_work_notes',
]);

const value = (v: unknown): string => (v && typeof v === 'object' ? String((v as { value?: unknown }).value ?? '') : String(v ?? ''));
const display = (v: unknown): string => (v && typeof v === 'object' ? String((v as { display_value?: unknown }).display_value ?? '') : String(v ?? ''));

/** ServiceNow task tables (incident and friends) over the Table and Attachment APIs. */
export class ServiceNowConnector implements TrackerConnector {
  readonly trackerType = 'SERVICENOW' as const;
  readonly trackerUrl: string;
  readonly textFormat = 'plain' as const;
  /** Journal edits and attachments are records of their own; the parent's sys_updated_on stays. */
  readonly sideChanges = 'never';
  private readonly client: ServiceNowClient;
  private readonly tables: string[];
  private readonly labelsField: string;
  private readonly people = new Map<string, Promise<Person | null>>();

  constructor(options: ServiceNowOptions) {
    this.client = new ServiceNowClient(options);
    this.trackerUrl = this.client.base;
    this.tables = options.tables ?? ['incident', 'problem', 'change_request'];
    this.labelsField = options.labelsField ?? 'u_labels';
  }

  /** The user behind the credentials (from sys_user by user name; a bearer token does not name one). */
  async trackerInfo(): Promise<TrackerInfo> {
    const auth = this.client.connection.auth;
    const info = { trackerType: this.trackerType, trackerUrl: this.trackerUrl, version: null };
    if ('username' in auth) return { ...info, user: await this.personByUserName(auth.username) };
    // A bearer token names no user; any authenticated read still proves it works.
    await this.client.list('sys_user', { sysparm_limit: '1', sysparm_fields: 'sys_id' });
    return { ...info, user: null };
  }

  async listProjects(): Promise<Project[]> {
    const found: Project[] = [];
    for (const table of this.tables) {
      try {
        await this.client.list(table, { sysparm_limit: '1', sysparm_fields: 'sys_id' });
        found.push({ key: table, name: TABLE_NAMES[table] ?? table });
      } catch (error) {
        // A table this instance does not have (or that the user may not read) is not offered.
        if (!(error instanceof ConnectorError && (error.code === 'REJECTED' || error.code === 'FORBIDDEN'))) throw error;
      }
    }
    return found;
  }

  /** The table's states from its choice list. */
  async listItemTypes(table: string): Promise<ItemType[]> {
    const { records } = await this.client.list('sys_choice', {
      sysparm_query: `name=${table}^element=state^inactive=false^ORDERBYsequence`,
      sysparm_fields: 'label,value',
    });
    return [{ name: table, statuses: records.map((r) => String(r['label'])) }];
  }

  rest(call: RestCall): Promise<unknown> {
    return restPassThrough('SERVICENOW', this.client.connection.instanceUrl, this.client.authorization, call);
  }

  /**
   * The table's custom columns (`u_*`, labels' column aside), from its dictionary.
   * https://docs.servicenow.com/bundle/latest/page/integrate/inbound-rest/concept/c_TableAPI.html
   */
  async listFields(table: string): Promise<TrackerField[]> {
    const { records } = await this.client.list('sys_dictionary', {
      sysparm_query: `name=${table}^elementSTARTSWITHu_^active=true`,
      sysparm_fields: 'element,column_label,internal_type',
      sysparm_exclude_reference_link: 'true',
    });
    return records
      .map((r) => ({ id: value(r['element']), name: value(r['column_label']) || value(r['element']), type: value(r['internal_type']) || 'string' }))
      .filter((f) => f.id !== this.labelsField);
  }

  /** A task's priority is 1 (Critical) to 5 (Planning), derived from impact and urgency (see `values`). */
  listPriorities(): Promise<string[]> {
    return Promise.resolve(['1', '2', '3', '4', '5']);
  }

  async getItem(key: string): Promise<TrackerItem | null> {
    // A key that is no task number (INC…, PRB…) is no record.
    if (!/^([A-Z]+)[0-9]+$/.test(key) || !PREFIXES[/^([A-Z]+)/.exec(key)![1]!]) return null;
    const table = this.tableOf(key);
    const { records } = await this.client.list(table, {
      sysparm_query: `number=${key}`,
      sysparm_display_value: 'all',
      sysparm_exclude_reference_link: 'true',
      sysparm_limit: '1',
    });
    const r = records[0];
    if (!r) return null;
    const sysId = value(r['sys_id']);
    const [journal, attachments, assignee, reporter] = await Promise.all([
      this.client.list('sys_journal_field', {
        sysparm_query: `element_id=${sysId}^element=comments^ORDERBYsys_created_on`,
        sysparm_fields: 'sys_id,value,sys_created_on,sys_created_by,sys_updated_on',
      }),
      this.attachments(sysId),
      this.person(value(r['assigned_to'])),
      this.person(value(r['caller_id']) || value(r['opened_by'])),
    ]);
    const comments = await Promise.all(
      journal.records.map(async (j) => ({
        id: String(j['sys_id']),
        author: await this.personByUserName(String(j['sys_created_by'])),
        body: { format: 'plain' as const, value: String(j['value']) },
        created: isoFromGlide(j['sys_created_on']),
        updated: isoFromGlide(j['sys_updated_on'] ?? j['sys_created_on']),
      })),
    );
    // Every column the model has no place for (category, urgency, assignment_group, u_*, …), by
    // its name, as rules read them (`entity.category`); the system's own columns (sys_*) stay out.
    const custom: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!k.startsWith('sys_') && !MODEL_COLUMNS.has(k) && k !== this.labelsField) custom[k] = value(v);
    return {
      key,
      id: sysId,
      url: `${this.trackerUrl}/nav_to.do?uri=${table}.do?sys_id=${sysId}`,
      project: table,
      type: table,
      summary: value(r['short_description']),
      description: value(r['description']) ? { format: 'plain', value: value(r['description']) } : null,
      status: display(r['state']),
      priority: value(r['priority']) || null,
      labels: value(r[this.labelsField])
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
      assignee,
      reporter,
      created: isoFromGlide(value(r['sys_created_on'])),
      updated: isoFromGlide(value(r['sys_updated_on'])),
      version: value(r['sys_mod_count']) || null,
      comments,
      attachments,
      customFields: custom,
      parent: value(r['parent'])
        ? {
            key: display(r['parent']) || value(r['parent']),
            id: value(r['parent']),
            url: `${this.trackerUrl}/nav_to.do?uri=task.do?sys_id=${value(r['parent'])}`,
          }
        : null,
    };
  }

  /** Pages by offset through the encoded query, oldest change first; the watermark's second is included. */
  async *searchChanged(query: ChangeQuery): AsyncIterable<ChangedItem> {
    // An item's type is its table.
    const table = query.itemType ?? query.project ?? this.tables[0]!;
    const parts = [
      query.query.trim(),
      query.changedAfter ? `sys_updated_on>=javascript:gs.dateGenerate('${glideFromIso(query.changedAfter).replace(' ', "','")}')` : '',
      'ORDERBYsys_updated_on',
      'ORDERBYnumber',
    ].filter(Boolean);
    const limit = query.pageSize ?? 100;
    for (let offset = 0; ; offset += limit) {
      const { records, total } = await this.client.list(table, {
        sysparm_query: parts.join('^'),
        sysparm_fields: 'number,sys_id,sys_updated_on,short_description',
        sysparm_limit: String(limit),
        sysparm_offset: String(offset),
      });
      for (const r of records)
        yield {
          key: String(r['number']),
          id: String(r['sys_id']),
          url: `${this.trackerUrl}/nav_to.do?uri=${table}.do?sys_id=${r['sys_id']}`,
          updated: isoFromGlide(r['sys_updated_on']),
          summary: String(r['short_description'] ?? ''),
        };
      if (records.length < limit || offset + limit >= total) return;
    }
  }

  async createItem(input: NewItem): Promise<ItemRef> {
    const created = await this.client.insert(input.project, await this.values(input.project, input));
    return this.ref(input.project, created);
  }

  async updateItem(key: string, changes: ItemChanges): Promise<ItemRef> {
    const table = this.tableOf(key);
    const record = await this.find(table, key);
    const values = await this.values(table, changes);
    const updated = Object.keys(values).length ? await this.client.patch(table, String(record['sys_id']), values) : record;
    return this.ref(table, updated);
  }

  /** A comment is a write to the journal field; the new sys_journal_field entry is its id. */
  async addComment(key: string, body: RichText): Promise<CommentRef> {
    const table = this.tableOf(key);
    const record = await this.find(table, key);
    const text = this.plain(body);
    await this.client.patch(table, String(record['sys_id']), { comments: text });
    // The newest entries of this record's comments; the one with our text is ours (the value is not
    // queried for, because an encoded query cannot carry every text safely).
    const { records } = await this.client.list('sys_journal_field', {
      sysparm_query: `element_id=${record['sys_id']}^element=comments^ORDERBYDESCsys_created_on`,
      sysparm_fields: 'sys_id,value,sys_created_on,sys_updated_on',
      sysparm_limit: '10',
    });
    const entry = records.find((r) => r['value'] === text);
    if (!entry)
      throw new ConnectorError('REJECTED', `ServiceNow accepted the comment on ${key} but no journal entry shows it (a business rule may have discarded it).`, {
        tracker: 'SERVICENOW',
      });
    return {
      id: String(entry['sys_id']),
      created: isoFromGlide(entry['sys_created_on']),
      updated: isoFromGlide(entry['sys_updated_on'] ?? entry['sys_created_on']),
    };
  }

  /** Journal entries are not meant to change; editing one needs the admin role (the ACL on sys_journal_field). */
  async updateComment(_key: string, commentId: string, body: RichText): Promise<CommentRef> {
    const entry = await this.client.patch('sys_journal_field', commentId, { value: this.plain(body) });
    return { id: String(entry['sys_id']), created: isoFromGlide(entry['sys_created_on']), updated: isoFromGlide(entry['sys_updated_on']) };
  }

  /** https://www.servicenow.com/docs/r/api-reference/rest-apis/c_AttachmentAPI.html#title_attachment-GET-file */
  async downloadAttachment(_key: string, attachmentId: string): Promise<AttachmentDownload> {
    const meta = ((await (await this.client.request('GET', `/api/now/attachment/${attachmentId}`)).json()) as { result: SnRecord }).result;
    const res = await this.client.request('GET', `/api/now/attachment/${attachmentId}/file`);
    const { stream, sha256 } = hashing(Readable.fromWeb(res.body as never));
    return { info: this.attachmentInfo(meta), stream, sha256 };
  }

  /** https://www.servicenow.com/docs/r/api-reference/rest-apis/c_AttachmentAPI.html#title_attachment-POST-file */
  async uploadAttachment(key: string, file: AttachmentUpload): Promise<AttachmentInfo> {
    const table = this.tableOf(key);
    const record = await this.find(table, key);
    const { stream, sha256, size } = hashing(Buffer.isBuffer(file.content) ? Readable.from([file.content]) : file.content);
    const res = await this.client.request('POST', '/api/now/attachment/file', {
      query: { table_name: table, table_sys_id: String(record['sys_id']), file_name: file.filename },
      body: stream,
      contentType: file.mimeType ?? 'application/octet-stream',
    });
    const meta = ((await res.json()) as { result: SnRecord }).result;
    return { ...this.attachmentInfo(meta), size: size(), sha256: await sha256 };
  }

  /** ServiceNow has no built-in outbound webhooks (they are business rules): changes are found by searchChanged. */
  async subscribe(): Promise<WebhookSubscription | null> {
    return null;
  }

  async unsubscribe(): Promise<void> {}

  /** No webhooks here: every call is refused. */
  checkWebhookHeaders(): 'refused' {
    return 'refused';
  }

  parseWebhook(): ItemEvent[] {
    return [];
  }

  // ───────────────────────── helpers ─────────────────────────

  private tableOf(key: string): string {
    const prefix = /^([A-Z]+)[0-9]+$/.exec(key)?.[1];
    const table = prefix ? PREFIXES[prefix] : undefined;
    if (!table) throw new ConnectorError('NOT_FOUND', `"${key}" is not a ServiceNow task number (INC…, PRB…, CHG…, SCTASK…).`, { tracker: 'SERVICENOW' });
    return table;
  }

  private async find(table: string, key: string): Promise<SnRecord> {
    const { records } = await this.client.list(table, { sysparm_query: `number=${key}`, sysparm_limit: '1', sysparm_exclude_reference_link: 'true' });
    if (!records[0])
      throw new ConnectorError('NOT_FOUND', `${key} does not exist in ${this.trackerUrl}, or the user cannot read it.`, { tracker: 'SERVICENOW', status: 404 });
    return records[0];
  }

  private ref(table: string, r: SnRecord): ItemRef {
    return { key: String(r['number']), id: String(r['sys_id']), url: `${this.trackerUrl}/nav_to.do?uri=${table}.do?sys_id=${r['sys_id']}` };
  }

  private async attachments(sysId: string): Promise<AttachmentInfo[]> {
    const res = await this.client.request('GET', '/api/now/attachment', { query: { sysparm_query: `table_sys_id=${sysId}^ORDERBYsys_created_on` } });
    return ((await res.json()) as { result: SnRecord[] }).result.map((a) => this.attachmentInfo(a));
  }

  private attachmentInfo(a: SnRecord): AttachmentInfo {
    return {
      id: String(a['sys_id']),
      filename: String(a['file_name']),
      mimeType: a['content_type'] ? String(a['content_type']) : null,
      size: a['size_bytes'] ? Number(a['size_bytes']) : null,
      sha256: null,
    };
  }

  private plain(body: RichText): string {
    if (body.format !== 'plain' || typeof body.value !== 'string')
      throw new Error(`ServiceNow journal fields and descriptions are plain text; convert ${body.format} first.`);
    return body.value;
  }

  /** Our fields as column values. Priority is derived from impact and urgency, so those are set. */
  private async values(table: string, changes: ItemChanges | NewItem): Promise<Record<string, unknown>> {
    const v: Record<string, unknown> = {};
    if (changes.summary !== undefined) v['short_description'] = changes.summary;
    if (changes.description !== undefined) v['description'] = changes.description === null ? '' : this.plain(changes.description);
    if (changes.labels !== undefined) v[this.labelsField] = changes.labels.join(',');
    if (changes.priority !== undefined && changes.priority !== null) {
      const pairs: Record<string, [number, number]> = { '1': [1, 1], '2': [1, 2], '3': [2, 2], '4': [2, 3], '5': [3, 3] };
      const pair = pairs[changes.priority];
      if (!pair) throw new ConnectorError('REJECTED', `ServiceNow priorities are 1 to 5; "${changes.priority}" is not one.`, { tracker: 'SERVICENOW' });
      v['impact'] = String(pair[0]);
      v['urgency'] = String(pair[1]);
    }
    if (changes.status !== undefined) {
      const { records } = await this.client.list('sys_choice', {
        sysparm_query: `name=${table}^element=state^label=${changes.status}`,
        sysparm_fields: 'value',
        sysparm_limit: '1',
      });
      if (!records[0]) {
        // The states it does have, for the admin's rule (a status map that names one it lacks).
        const states = (await this.listItemTypes(table))[0]?.statuses ?? [];
        throw new ConnectorError('REJECTED', `${table} has no state "${changes.status}"; its states are ${states.map((x) => `"${x}"`).join(', ') || 'none'}.`, {
          tracker: 'SERVICENOW',
        });
      }
      v['state'] = records[0]['value'];
    }
    if (changes.assigneeEmail !== undefined) {
      if (changes.assigneeEmail === null) v['assigned_to'] = '';
      else {
        const { records } = await this.client.list('sys_user', {
          sysparm_query: `email=${changes.assigneeEmail}`,
          sysparm_fields: 'sys_id',
          sysparm_limit: '1',
        });
        if (!records[0])
          throw new ConnectorError('REJECTED', `There is no ServiceNow user with the email ${changes.assigneeEmail}.`, { tracker: 'SERVICENOW' });
        v['assigned_to'] = records[0]['sys_id'];
      }
    }
    for (const [k, val] of Object.entries(changes.customFields ?? {})) v[k] = val;
    if (changes.parent !== undefined) v['parent'] = changes.parent === null ? '' : await this.taskSysId(changes.parent);
    return v;
  }

  /** A task's sys_id from its number (INC0010001) or its sys_id. */
  private async taskSysId(ref: string): Promise<string> {
    if (/^[0-9a-f]{32}$/.test(ref)) return ref;
    const prefix = /^([A-Z]+)[0-9]+$/.exec(ref)?.[1];
    if (prefix && PREFIXES[prefix]) {
      const { records } = await this.client.list(this.tableOf(ref), { sysparm_query: `number=${ref}`, sysparm_fields: 'sys_id', sysparm_limit: '1' });
      if (records[0]) return value(records[0]['sys_id']);
    }
    throw new ConnectorError('REJECTED', `There is no ServiceNow task ${ref} to be the parent.`, { tracker: 'SERVICENOW' });
  }

  /** A sys_user by sys_id, user name or email. */
  async findUser(ref: string): Promise<Person | null> {
    if (!/^[^^=]+$/.test(ref)) return null;
    const field = /^[0-9a-f]{32}$/.test(ref) ? 'sys_id' : ref.includes('@') ? 'email' : 'user_name';
    return this.lookup(`${field}=${ref}`, `${field}:${ref}`);
  }

  private person(sysId: string): Promise<Person | null> {
    if (!sysId) return Promise.resolve(null);
    return this.lookup(`sys_id=${sysId}`, sysId);
  }

  private personByUserName(userName: string): Promise<Person | null> {
    return this.lookup(`user_name=${userName}`, `user:${userName}`);
  }

  private lookup(query: string, cacheKey: string): Promise<Person | null> {
    let found = this.people.get(cacheKey);
    if (!found) {
      found = this.client.list('sys_user', { sysparm_query: query, sysparm_fields: 'sys_id,name,email', sysparm_limit: '1' }).then(({ records }) => {
        const u = records[0];
        return u ? { displayName: String(u['name']), email: u['email'] ? String(u['email']) : null, id: String(u['sys_id']) } : null;
      });
      found.catch(() => this.people.delete(cacheKey));
      this.people.set(cacheKey, found);
    }
    return found;
  }
}
