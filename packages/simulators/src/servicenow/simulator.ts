import { randomBytes } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { credentials } from '../common/http.js';
import { SimulatorBase, type SimulatorBaseOptions } from '../common/simulator-base.js';
import { parseUpdateSet, type ServiceNowApp } from './app-records.js';
import { InstanceShell } from './instance-shell.js';
import { EncodedQueryError, parseEncodedQuery, type Condition } from './query.js';

/**
 * A local ServiceNow instance: the Table API (/api/now/table, any table by name, encoded queries,
 * sysparm_fields/limit/offset/display_value/exclude_reference_link, Link and X-Total-Count
 * headers), journal fields (comments, work_notes) stored in sys_journal_field, and the Attachment
 * API (/api/now/attachment). Errors in ServiceNow's body: {"error":{"message","detail"},"status":"failure"}.
 * https://www.servicenow.com/docs/r/api-reference/rest-apis/c_TableAPI.html
 */
export type ServiceNowSimulatorOptions = SimulatorBaseOptions;

/** Every value is a string, as the Table API returns them. */
export type SnRecord = Record<string, string>;

export interface SnAttachment {
  sys_id: string;
  table_name: string;
  table_sys_id: string;
  file_name: string;
  content_type: string;
  sys_created_on: string;
  sys_created_by: string;
  content: string;
}

export interface ServiceNowState {
  instanceName: string;
  users: Array<{ sys_id: string; user_name: string; password: string; email: string; name: string; roles: string[] }>;
  /** OAuth bearer tokens → user_name. */
  tokens: Record<string, string>;
  tables: Record<string, SnRecord[]>;
  /** The columns of tables that installed applications defined (their sys_dictionary). */
  dictionary?: Record<string, string[]>;
  attachments: SnAttachment[];
  counters: Record<string, number>;
}

/** Task tables: their number prefix, reference fields and journal fields. */
const TASK_TABLES: Record<string, { prefix: string }> = {
  incident: { prefix: 'INC' },
  problem: { prefix: 'PRB' },
  change_request: { prefix: 'CHG' },
  sc_task: { prefix: 'SCTASK' },
};
const JOURNAL_FIELDS = ['comments', 'work_notes'];
/** The task tables' dictionary beyond what every record starts with; custom columns are u_*. */
const TASK_FIELDS = [
  'category',
  'subcategory',
  'close_code',
  'close_notes',
  'caller_id',
  'assignment_group',
  'contact_type',
  'cmdb_ci',
  'due_date',
  'resolved_at',
  'closed_at',
  'hold_reason',
  'parent',
];
/** Reference fields and the table they point into; `task` is any task table (a task's parent). */
const REFERENCES: Record<string, string> = {
  assigned_to: 'sys_user',
  caller_id: 'sys_user',
  opened_by: 'sys_user',
  assignment_group: 'sys_user_group',
  parent: 'task',
};
const INCIDENT_STATES: Record<string, string> = { '1': 'New', '2': 'In Progress', '3': 'On Hold', '6': 'Resolved', '7': 'Closed', '8': 'Canceled' };
const PROBLEM_STATES: Record<string, string> = {
  '101': 'New',
  '102': 'Assess',
  '103': 'Root Cause Analysis',
  '104': 'Fix in Progress',
  '106': 'Resolved',
  '107': 'Closed',
};

/**
 * The task tables' custom columns, as their sys_dictionary records say (what the Table API lists
 * for `sys_dictionary`): element, label and internal type.
 */
const CUSTOM_COLUMNS: Array<{ element: string; label: string; type: string }> = [
  { element: 'u_labels', label: 'Labels', type: 'string' },
  { element: 'u_customer', label: 'Customer', type: 'string' },
  { element: 'u_effort', label: 'Effort', type: 'decimal' },
];

const sysId = () => randomBytes(16).toString('hex');
const glideTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export function seedServiceNowState(): ServiceNowState {
  const users = [
    { sys_id: sysId(), user_name: 'admin', password: 'admin-password', email: 'admin@acme.example', name: 'System Administrator', roles: ['admin'] },
    { sys_id: sysId(), user_name: 'bob', password: 'bob-password', email: 'bob@acme.example', name: 'Bob Builder', roles: ['itil'] },
    { sys_id: sysId(), user_name: 'exalate', password: 'exalate-password', email: 'sync@acme.example', name: 'Exalate Sync', roles: ['itil', 'admin'] },
  ];
  const now = glideTime(Date.now());
  return {
    instanceName: 'acme',
    users,
    tokens: { 'exalate-oauth-token': 'exalate' },
    tables: {
      sys_user: users.map((u) => ({
        sys_id: u.sys_id,
        user_name: u.user_name,
        email: u.email,
        name: u.name,
        active: 'true',
        sys_created_on: now,
        sys_updated_on: now,
        sys_created_by: 'system',
        sys_updated_by: 'system',
        sys_mod_count: '0',
      })),
      sys_user_group: [
        {
          sys_id: sysId(),
          name: 'Service Desk',
          active: 'true',
          sys_created_on: now,
          sys_updated_on: now,
          sys_created_by: 'system',
          sys_updated_by: 'system',
          sys_mod_count: '0',
        },
      ],
      incident: [],
      problem: [],
      change_request: [],
      sc_task: [],
      sys_journal_field: [],
      sys_dictionary: Object.keys(TASK_TABLES).flatMap((table) =>
        CUSTOM_COLUMNS.map((c) => ({
          sys_id: sysId(),
          name: table,
          element: c.element,
          column_label: c.label,
          internal_type: c.type,
          active: 'true',
          read_only: 'false',
          sys_created_on: now,
          sys_updated_on: now,
          sys_created_by: 'system',
          sys_updated_by: 'system',
          sys_mod_count: '0',
        })),
      ),
      // Choice lists, as the platform keeps them: the states of each task table.
      sys_choice: [
        ...Object.entries(INCIDENT_STATES).map(([value, label], i) => ({
          sys_id: sysId(),
          name: 'incident',
          element: 'state',
          value,
          label,
          sequence: String(i + 1),
          inactive: 'false',
          sys_created_on: now,
          sys_updated_on: now,
          sys_created_by: 'system',
          sys_updated_by: 'system',
          sys_mod_count: '0',
        })),
        ...Object.entries(PROBLEM_STATES).map(([value, label], i) => ({
          sys_id: sysId(),
          name: 'problem',
          element: 'state',
          value,
          label,
          sequence: String(i + 1),
          inactive: 'false',
          sys_created_on: now,
          sys_updated_on: now,
          sys_created_by: 'system',
          sys_updated_by: 'system',
          sys_mod_count: '0',
        })),
      ],
    },
    attachments: [],
    counters: {},
  };
}

class SnError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail: string | null = null,
  ) {
    super(message);
  }
}

export class ServiceNowSimulator extends SimulatorBase<ServiceNowState> {
  readonly app: Express;
  /** The instance as its admins see it: sign-in, the navigator, installed applications. */
  readonly shell: InstanceShell;
  /** What installed applications' scripts logged (gs.info and friends), newest last. */
  readonly logs: Array<{ level: string; message: string; scope: string }> = [];
  private lastChange = 0;

  constructor(options: ServiceNowSimulatorOptions = {}) {
    super(options, seedServiceNowState);
    this.shell = new InstanceShell({
      users: () => this.state.users,
      instanceName: () => this.state.instanceName,
      tableOps: (user) => {
        // The Table API's own reads and writes, as this user.
        const req = { snUser: user, query: {}, protocol: 'http', get: () => 'localhost' } as unknown as Request;
        return {
          query: (table, encoded, limit) => this.query(table, this.table(table), encoded, {}).slice(0, limit ?? undefined),
          insert: (table, values) => this.insert(req, table, values).sys_id!,
          update: (table, id, values) => void this.update(req, table, id, values),
          delete: (table, id) => {
            const t = this.table(table);
            t.splice(t.indexOf(this.record(table, id)), 1);
          },
        };
      },
      createTable: (name, columns) => {
        this.state.tables[name] ??= [];
        (this.state.dictionary ??= {})[name] = columns;
      },
      log: (level, message, scope) => void this.logs.push({ level, message, scope }),
    });
    this.app = this.build();
  }

  /** Imports and commits an application's update set (Retrieved Update Sets → Preview → Commit). */
  installApp(updateSetXml: string): ServiceNowApp {
    const app = parseUpdateSet(updateSetXml);
    this.shell.install(app);
    return app;
  }

  /** ServiceNow has no built-in outbound webhooks; nothing is ever in flight. */
  async settled(): Promise<void> {}

  user(userName: string) {
    return this.state.users.find((u) => u.user_name === userName);
  }

  // ───────────────────────── app ─────────────────────────

  private build(): Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    // Pages, assets and applications' REST APIs sign in by session; the Table API by credentials.
    app.use(this.shell.router());
    const r = express.Router();
    const json = express.json({ limit: '10mb' });
    r.use(
      this.faults.middleware((_req, res, fault) => {
        res
          .status(fault.status)
          .json({ error: { message: fault.status === 429 ? 'Too Many Requests' : 'Internal Server Error', detail: null }, status: 'failure' });
      }),
    );
    r.use((req, res, next) => this.authenticate(req, res, next));

    // Table API, default and versioned URLs.
    for (const base of ['/api/now/table', '/api/now/v1/table', '/api/now/v2/table']) {
      r.get(`${base}/:table`, (req, res) => {
        const table = this.table(String(req.params['table']));
        const all = this.query(String(req.params['table']), table, String(req.query['sysparm_query'] ?? ''), req.query);
        const limit = req.query['sysparm_limit'] === undefined ? 10000 : Number(req.query['sysparm_limit']);
        const offset = Number(req.query['sysparm_offset'] ?? 0);
        if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0)
          throw new SnError(400, 'Invalid sysparm_limit or sysparm_offset', 'Both must be non-negative integers; sysparm_limit at least 1.');
        const page = all.slice(offset, offset + limit);
        res.setHeader('X-Total-Count', String(all.length));
        res.setHeader('Link', this.links(req, limit, offset, all.length));
        res.json({ result: page.map((rec) => this.render(req, String(req.params['table']), rec)) });
      });
      r.get(`${base}/:table/:sysId`, (req, res) => {
        res.json({ result: this.render(req, String(req.params['table']), this.record(String(req.params['table']), String(req.params['sysId']))) });
      });
      r.post(`${base}/:table`, json, (req, res) => {
        const created = this.insert(req, String(req.params['table']), (req.body ?? {}) as Record<string, unknown>);
        res.setHeader('Location', `${this.base(req)}/api/now/table/${req.params['table']}/${created.sys_id}`);
        res.status(201).json({ result: this.render(req, String(req.params['table']), created) });
      });
      const update = (req: Request, res: Response) => {
        const updated = this.update(req, String(req.params['table']), String(req.params['sysId']), (req.body ?? {}) as Record<string, unknown>);
        res.json({ result: this.render(req, String(req.params['table']), updated) });
      };
      r.patch(`${base}/:table/:sysId`, json, update);
      r.put(`${base}/:table/:sysId`, json, update);
      r.delete(`${base}/:table/:sysId`, (req, res) => {
        const table = this.table(String(req.params['table']));
        const rec = this.record(String(req.params['table']), String(req.params['sysId']));
        table.splice(table.indexOf(rec), 1);
        res.status(204).end();
      });
    }

    // Attachment API. https://www.servicenow.com/docs/r/api-reference/rest-apis/c_AttachmentAPI.html
    r.post('/api/now/attachment/file', express.raw({ type: () => true, limit: '1gb' }), (req, res) => {
      const tableName = String(req.query['table_name'] ?? '');
      const tableSysId = String(req.query['table_sys_id'] ?? '');
      const fileName = String(req.query['file_name'] ?? '');
      if (!tableName || !tableSysId || !fileName) throw new SnError(400, 'Missing parameters', 'table_name, table_sys_id and file_name are required.');
      if (!req.headers['content-type']) throw new SnError(400, 'Missing Content-Type', 'The Content-Type header is mandatory to post file attachments.');
      this.record(tableName, tableSysId, 'The record specified by table_name and table_sys_id does not exist or is not accessible.');
      const attachment: SnAttachment = {
        sys_id: sysId(),
        table_name: tableName,
        table_sys_id: tableSysId,
        file_name: fileName,
        content_type: String(req.headers['content-type']),
        sys_created_on: this.nextChange(),
        sys_created_by: this.me(req).user_name,
        content: (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).toString('base64'),
      };
      this.state.attachments.push(attachment);
      res.setHeader('Location', `${this.base(req)}/api/now/attachment/${attachment.sys_id}`);
      res.status(201).json({ result: this.renderAttachment(req, attachment) });
    });
    r.get('/api/now/attachment', (req, res) => {
      let list = this.state.attachments;
      const q = String(req.query['sysparm_query'] ?? '');
      if (q) {
        const parsed = this.parse(q);
        list = list.filter((a) => this.matches(this.attachmentRecord(a), parsed.groups));
      }
      const limit = Number(req.query['sysparm_limit'] ?? 1000);
      const offset = Number(req.query['sysparm_offset'] ?? 0);
      res.setHeader('X-Total-Count', String(list.length));
      res.json({ result: list.slice(offset, offset + limit).map((a) => this.renderAttachment(req, a)) });
    });
    r.get('/api/now/attachment/:sysId', (req, res) => {
      res.json({ result: this.renderAttachment(req, this.attachment(String(req.params['sysId']))) });
    });
    r.get('/api/now/attachment/:sysId/file', (req, res) => {
      const a = this.attachment(String(req.params['sysId']));
      res.setHeader('content-type', a.content_type);
      res.setHeader('x-attachment-metadata', JSON.stringify(this.renderAttachment(req, a)));
      res.end(Buffer.from(a.content, 'base64'));
    });
    r.delete('/api/now/attachment/:sysId', (req, res) => {
      const a = this.attachment(String(req.params['sysId']));
      this.state.attachments = this.state.attachments.filter((x) => x !== a);
      res.status(204).end();
    });

    app.use(r);
    app.use((_req, res) => res.status(400).json({ error: { message: 'Requested URI does not represent any resource', detail: null }, status: 'failure' }));
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (error instanceof SnError) return void res.status(error.status).json({ error: { message: error.message, detail: error.detail }, status: 'failure' });
      if ((error as { type?: string }).type === 'entity.parse.failed')
        return void res
          .status(400)
          .json({ error: { message: 'Exception while reading request', detail: 'The payload is not valid JSON.' }, status: 'failure' });
      res.status(500).json({ error: { message: (error as Error).message, detail: null }, status: 'failure' });
    });
    return app;
  }

  private authenticate(req: Request, res: Response, next: NextFunction): void {
    const cred = credentials(req);
    const user =
      cred?.scheme === 'basic'
        ? this.state.users.find((u) => u.user_name === cred.user && u.password === cred.password)
        : cred?.scheme === 'bearer'
          ? this.user(this.state.tokens[cred.token] ?? '')
          : undefined;
    if (!user) {
      res.setHeader('WWW-Authenticate', 'BASIC realm="Service-now"');
      res.status(401).json({ error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
      return;
    }
    if (this.limiter) {
      const take = this.limiter.take(user.sys_id);
      if (!take.allowed) {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil((take.resetAt - Date.now()) / 1000))));
        res.setHeader('X-RateLimit-Limit', String(this.limiter.limit));
        res.setHeader('X-RateLimit-Reset', String(Math.ceil(take.resetAt / 1000)));
        res.status(429).json({ error: { message: 'Too Many Requests', detail: `Rate limit of ${this.limiter.limit} requests exceeded` }, status: 'failure' });
        return;
      }
    }
    (req as Request & { snUser: ServiceNowState['users'][number] }).snUser = user;
    next();
  }

  private me(req: Request) {
    return (req as Request & { snUser: ServiceNowState['users'][number] }).snUser;
  }

  private base(req: Request): string {
    return `${req.protocol}://${req.get('host')}`;
  }

  /** Glide times have one-second precision; ties are kept in their order, like the platform's. */
  private nextChange(): string {
    this.lastChange = Math.max(Date.now(), this.lastChange);
    return glideTime(this.lastChange);
  }

  private table(name: string): SnRecord[] {
    const t = this.state.tables[name];
    if (!t) throw new SnError(400, `Invalid table ${name}`, null);
    return t;
  }

  private record(table: string, id: string, detail = "Record doesn't exist or ACL restricts the record retrieval"): SnRecord {
    const rec = this.table(table).find((x) => x['sys_id'] === id);
    if (!rec) throw new SnError(404, 'No Record found', detail);
    return rec;
  }

  private attachment(id: string): SnAttachment {
    const a = this.state.attachments.find((x) => x.sys_id === id);
    if (!a) throw new SnError(404, "Record doesn't exist or ACL restricts the record retrieval", null);
    return a;
  }

  // ───────────────────────── writes ─────────────────────────

  private insert(req: Request, tableName: string, body: Record<string, unknown>): SnRecord {
    const table = this.table(tableName);
    if (tableName === 'sys_journal_field')
      throw new SnError(403, 'Operation Failed', 'Journal entries are written through the journal fields of their record.');
    const now = this.nextChange();
    const me = this.me(req);
    const rec: SnRecord = {
      sys_id: sysId(),
      sys_created_on: now,
      sys_created_by: me.user_name,
      sys_updated_on: now,
      sys_updated_by: me.user_name,
      sys_mod_count: '0',
    };
    const task = TASK_TABLES[tableName];
    if (task) {
      const n = (this.state.counters[tableName] ?? 10000) + 1;
      this.state.counters[tableName] = n;
      Object.assign(rec, {
        number: `${task.prefix}${String(n).padStart(7, '0')}`,
        state: tableName === 'problem' ? '101' : '1',
        active: 'true',
        impact: '3',
        urgency: '3',
        priority: '5',
        short_description: '',
        description: '',
        opened_at: now,
        opened_by: me.sys_id,
        assigned_to: '',
        comments: '',
        work_notes: '',
      });
    }
    table.push(rec);
    this.applyValues(req, tableName, rec, body);
    return rec;
  }

  private update(req: Request, tableName: string, id: string, body: Record<string, unknown>): SnRecord {
    if (tableName === 'sys_journal_field') {
      if (!this.me(req).roles.includes('admin'))
        throw new SnError(403, 'Operation Failed', 'ACL restricts the update of journal entries; the admin role is needed.');
      const entry = this.record(tableName, id);
      if (typeof body['value'] === 'string') entry['value'] = body['value'];
      entry['sys_updated_on'] = this.nextChange();
      entry['sys_updated_by'] = this.me(req).user_name;
      entry['sys_mod_count'] = String(Number(entry['sys_mod_count'] ?? 0) + 1);
      return entry;
    }
    const rec = this.record(tableName, id);
    const changed = this.applyValues(req, tableName, rec, body);
    if (changed) {
      rec['sys_updated_on'] = this.nextChange();
      rec['sys_updated_by'] = this.me(req).user_name;
      rec['sys_mod_count'] = String(Number(rec['sys_mod_count'] ?? 0) + 1);
    }
    return rec;
  }

  /** Sets values (unknown fields are ignored, as the Table API does); journal fields become journal entries. */
  private applyValues(req: Request, tableName: string, rec: SnRecord, body: Record<string, unknown>): boolean {
    let changed = false;
    const readOnly = ['sys_id', 'sys_created_on', 'sys_created_by', 'sys_updated_on', 'sys_updated_by', 'sys_mod_count', 'number'];
    // A table's dictionary: the task fields, or what its other records have (an empty table takes any column).
    const other = this.table(tableName).find((r) => r !== rec);
    const defined = this.state.dictionary?.[tableName];
    const known = TASK_TABLES[tableName]
      ? new Set([...Object.keys(rec), ...TASK_FIELDS])
      : defined
        ? new Set([...Object.keys(rec), ...defined])
        : other
          ? new Set(Object.keys(other))
          : null;
    for (const [field, raw] of Object.entries(body)) {
      if (readOnly.includes(field)) continue;
      const value = raw === null || raw === undefined ? '' : typeof raw === 'object' ? String((raw as { value?: unknown }).value ?? '') : String(raw);
      if (TASK_TABLES[tableName] && JOURNAL_FIELDS.includes(field)) {
        if (value.trim() === '') continue;
        const now = this.nextChange();
        this.table('sys_journal_field').push({
          sys_id: sysId(),
          element: field,
          element_id: rec['sys_id']!,
          name: tableName,
          value,
          sys_created_on: now,
          sys_created_by: this.me(req).user_name,
          sys_updated_on: now,
          sys_updated_by: this.me(req).user_name,
          sys_mod_count: '0',
        });
        changed = true;
        continue;
      }
      // Fields the table does not have are ignored, as the Table API does; custom u_* columns exist on task tables.
      if (known && !known.has(field) && !(TASK_TABLES[tableName] && field.startsWith('u_'))) continue;
      if (REFERENCES[field] && value !== '') {
        const target = this.referenced(REFERENCES[field]!).find(
          (x) => x['sys_id'] === value || x['user_name'] === value || x['email'] === value || x['name'] === value || x['number'] === value,
        );
        // An unknown reference is kept as given, as the platform does, but points nowhere.
        rec[field] = target?.['sys_id'] ?? value;
      } else {
        rec[field] = value;
      }
      if (tableName === 'incident' && (field === 'impact' || field === 'urgency'))
        rec['priority'] = String(Math.min(5, Number(rec['impact'] ?? 3) + Number(rec['urgency'] ?? 3) - 1));
      if (tableName === 'incident' && field === 'state') rec['active'] = ['6', '7', '8'].includes(value) ? 'false' : 'true';
      changed = true;
    }
    return changed;
  }

  // ───────────────────────── reads ─────────────────────────

  private parse(q: string) {
    try {
      return parseEncodedQuery(q);
    } catch (error) {
      if (error instanceof EncodedQueryError) throw new SnError(400, error.message, 'Fix the sysparm_query encoded query.');
      throw error;
    }
  }

  private query(tableName: string, table: SnRecord[], q: string, params: Request['query']): SnRecord[] {
    const parsed = this.parse(q);
    // Name-value filters (&active=true) are ANDed with the query.
    const extra: Condition[][] = Object.entries(params)
      .filter(([k]) => !k.startsWith('sysparm_'))
      .map(([k, v]) => [{ field: k, op: '=' as const, value: String(v) }]);
    const groups = parsed.groups.length ? parsed.groups.map((g) => [...g, ...extra]) : extra.length ? [extra] : [];
    const rows = table.filter((r) => groups.length === 0 || this.matches(this.searchable(tableName, r), groups));
    const order = parsed.orderBy.length ? parsed.orderBy : [{ field: 'sys_created_on', descending: false }];
    return [...rows].sort((a, b) => {
      for (const o of order) {
        const d = String(a[o.field] ?? '').localeCompare(String(b[o.field] ?? ''), undefined, { numeric: true });
        if (d !== 0) return o.descending ? -d : d;
      }
      return 0;
    });
  }

  /** What a query sees of a record: journal fields read as their latest entries. */
  private searchable(tableName: string, r: SnRecord): SnRecord {
    if (!TASK_TABLES[tableName]) return r;
    const out = { ...r };
    for (const f of JOURNAL_FIELDS)
      out[f] = this.journal(tableName, r['sys_id']!, f)
        .map((e) => e['value'])
        .join('\n');
    return out;
  }

  private matches(r: SnRecord, groups: Condition[][][]): boolean {
    return groups.some((terms) => terms.every((alternatives) => alternatives.some((c) => this.test(r, c))));
  }

  private test(r: SnRecord, c: Condition): boolean {
    const v = r[c.field] ?? '';
    const lower = v.toLowerCase();
    const want = c.value.toLowerCase();
    const cmp = () => v.localeCompare(c.value, undefined, { numeric: true });
    switch (c.op) {
      case '=':
        return v === c.value;
      case '!=':
        return v !== c.value;
      case '>':
        return v !== '' && cmp() > 0;
      case '>=':
        return v !== '' && cmp() >= 0;
      case '<':
        return v !== '' && cmp() < 0;
      case '<=':
        return v !== '' && cmp() <= 0;
      case 'LIKE':
        return lower.includes(want);
      case 'NOT LIKE':
        return !lower.includes(want);
      case 'STARTSWITH':
        return lower.startsWith(want);
      case 'ENDSWITH':
        return lower.endsWith(want);
      case 'IN':
        return c.value.split(',').includes(v);
      case 'NOT IN':
        return !c.value.split(',').includes(v);
      case 'ISEMPTY':
        return v === '';
      case 'ISNOTEMPTY':
        return v !== '';
    }
  }

  private journal(tableName: string, id: string, element: string): SnRecord[] {
    return this.table('sys_journal_field')
      .filter((e) => e['name'] === tableName && e['element_id'] === id && e['element'] === element)
      .sort((a, b) => a['sys_created_on']!.localeCompare(b['sys_created_on']!));
  }

  private links(req: Request, limit: number, offset: number, total: number): string {
    const url = (o: number) => {
      const u = new URL(`${this.base(req)}${req.baseUrl}${req.path}`);
      for (const [k, v] of Object.entries(req.query)) u.searchParams.set(k, String(v));
      u.searchParams.set('sysparm_offset', String(o));
      u.searchParams.set('sysparm_limit', String(limit));
      return u.toString();
    };
    const last = Math.max(0, Math.floor((Math.max(total, 1) - 1) / limit) * limit);
    const parts = [`<${url(0)}>;rel="first"`];
    if (offset > 0) parts.push(`<${url(Math.max(0, offset - limit))}>;rel="prev"`);
    if (offset + limit < total) parts.push(`<${url(offset + limit)}>;rel="next"`);
    parts.push(`<${url(last)}>;rel="last"`);
    return parts.join(',');
  }

  /** A record as the Table API returns it, honouring sysparm_fields, display_value and exclude_reference_link. */
  private render(req: Request, tableName: string, rec: SnRecord): Record<string, unknown> {
    const fieldsParam = String(req.query['sysparm_fields'] ?? '');
    const fields = fieldsParam
      ? fieldsParam
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean)
      : Object.keys(rec);
    const display = String(req.query['sysparm_display_value'] ?? 'false').toLowerCase();
    const noLink = String(req.query['sysparm_exclude_reference_link'] ?? 'false') === 'true';
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const raw = rec[f] ?? '';
      const ref = REFERENCES[f];
      const displayValue = this.displayValue(tableName, rec, f);
      const link = ref && raw ? `${this.base(req)}/api/now/table/${ref}/${raw}` : null;
      if (display === 'all') out[f] = { display_value: displayValue, value: raw, ...(link && !noLink ? { link } : {}) };
      else if (ref && raw && !noLink) out[f] = display === 'true' ? { display_value: displayValue, link } : { link, value: raw };
      else out[f] = display === 'true' ? displayValue : raw;
    }
    return out;
  }

  /** The records a reference field may point to: a table's, or every task table's for `task`. */
  private referenced(table: string): SnRecord[] {
    if (table === 'task') return Object.keys(TASK_TABLES).flatMap((t) => this.state.tables[t] ?? []);
    return this.state.tables[table] ?? [];
  }

  private displayValue(tableName: string, rec: SnRecord, field: string): string {
    const raw = rec[field] ?? '';
    const ref = REFERENCES[field];
    if (ref && raw) {
      const target = this.referenced(ref).find((x) => x['sys_id'] === raw);
      return (ref === 'task' ? target?.['number'] : target?.['name']) ?? raw;
    }
    if (field === 'state')
      return this.state.tables['sys_choice']?.find((c) => c['name'] === tableName && c['element'] === 'state' && c['value'] === raw)?.['label'] ?? raw;
    if (TASK_TABLES[tableName] && JOURNAL_FIELDS.includes(field)) {
      // The rendered journal: newest first, each entry headed by its time, author and field label.
      const label = field === 'comments' ? 'Additional comments' : 'Work notes';
      return this.journal(tableName, rec['sys_id']!, field)
        .reverse()
        .map(
          (e) =>
            `${e['sys_created_on']} - ${this.state.users.find((u) => u.user_name === e['sys_created_by'])?.name ?? e['sys_created_by']} (${label})\n${e['value']}\n\n`,
        )
        .join('');
    }
    return raw;
  }

  private attachmentRecord(a: SnAttachment): SnRecord {
    return {
      sys_id: a.sys_id,
      table_name: a.table_name,
      table_sys_id: a.table_sys_id,
      file_name: a.file_name,
      content_type: a.content_type,
      sys_created_on: a.sys_created_on,
    };
  }

  private renderAttachment(req: Request, a: SnAttachment): Record<string, string> {
    const bytes = Buffer.from(a.content, 'base64');
    const creator = this.state.users.find((u) => u.user_name === a.sys_created_by);
    return {
      size_bytes: String(bytes.length),
      file_name: a.file_name,
      sys_mod_count: '0',
      average_image_color: '',
      image_width: '',
      sys_updated_on: a.sys_created_on,
      sys_tags: '',
      table_name: a.table_name,
      sys_id: a.sys_id,
      image_height: '',
      sys_updated_by: a.sys_created_by,
      download_link: `${this.base(req)}/api/now/attachment/${a.sys_id}/file`,
      content_type: a.content_type,
      sys_created_on: a.sys_created_on,
      size_compressed: String(bytes.length),
      compressed: 'false',
      table_sys_id: a.table_sys_id,
      sys_created_by: a.sys_created_by,
      created_by_name: creator?.name ?? a.sys_created_by,
      updated_by_name: creator?.name ?? a.sys_created_by,
    };
  }
}
