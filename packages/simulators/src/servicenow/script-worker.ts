/**
 * Runs one Scripted REST API operation script the way an instance runs it: in a context with only
 * the server APIs ServiceNow gives a scoped script (`gs`, `GlideRecord`, `sn_ws.RESTMessageV2`,
 * `request`, `response`), no Node.js. The blocking calls go to the main thread through the bridge
 * (script-bridge.ts). One worker per call: nothing a script does reaches the next one.
 *   start (workerData: job, port, flag) → run the script → post { outcome } | { failure } → exit
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { createContext, runInContext } from 'node:vm';
import type { BridgeAnswer, BridgeRequest, GlideCondition, ScriptJob, ScriptOutcome } from './script-bridge.js';

const { job, port, flag } = workerData as { job: ScriptJob; port: MessagePort; flag: SharedArrayBuffer };
const signal = new Int32Array(flag);

function ask(request: BridgeRequest): BridgeAnswer & { ok: true } {
  Atomics.store(signal, 0, 0);
  parentPort!.postMessage({ request });
  Atomics.wait(signal, 0, 0);
  const answer = receiveMessageOnPort(port)?.message as BridgeAnswer | undefined;
  if (!answer) throw new Error('the instance did not answer the script');
  if (!answer.ok) throw new Error(answer.error);
  return answer;
}

/** The scoped GlideSystem a REST script uses. */
const gs = {
  hasRole: (role: string) =>
    job.user.roles.includes('admin') ||
    String(role)
      .split(',')
      .some((r) => job.user.roles.includes(r.trim())),
  getUserName: () => job.user.userName,
  getUserID: () => job.user.sysId,
  getUserDisplayName: () => job.user.name,
  getProperty: (key: string, alt?: unknown) => job.properties[key] ?? (alt === undefined ? null : alt),
  getCurrentScopeName: () => job.scope,
  getSessionToken: () => job.sessionToken,
  generateGUID: () => crypto.randomUUID().replace(/-/g, ''),
  nil: (o: unknown) => o === null || o === undefined || String(o) === '',
  base64Encode: (s: string) => Buffer.from(String(s), 'utf8').toString('base64'),
  base64Decode: (s: string) => Buffer.from(String(s), 'base64').toString('utf8'),
  urlEncode: (s: string) => encodeURIComponent(String(s)),
  urlDecode: (s: string) => decodeURIComponent(String(s)),
  info: (m: string) => void ask({ op: 'log', level: 'info', message: String(m) }),
  warn: (m: string) => void ask({ op: 'log', level: 'warn', message: String(m) }),
  error: (m: string) => void ask({ op: 'log', level: 'error', message: String(m) }),
  debug: (m: string) => void ask({ op: 'log', level: 'debug', message: String(m) }),
};

/** A GlideRecord over one table: query with addQuery/addEncodedQuery, walk with next(), write back. */
class GlideRecord {
  private conditions: GlideCondition[] = [];
  private encoded: string[] = [];
  private order: Array<{ field: string; descending: boolean }> = [];
  private limit: number | null = null;
  private rows: Array<Record<string, string>> = [];
  private index = -1;
  private current: Record<string, string> | null = null;
  private changes: Record<string, string> = {};

  constructor(private readonly table: string) {
    // Fields read as properties (`gr.name`), as Rhino's GlideElements do; each prints as its value.
    return new Proxy(this, {
      get: (target, key, receiver) => {
        if (typeof key === 'string' && !(key in target)) {
          const value = target.getValue(key);
          // A password2 column is stored as given here; the platform encrypts it at rest and decrypts on getDecryptedValue().
          return { toString: () => value ?? '', getValue: () => value, getDecryptedValue: () => value, nil: () => !value };
        }
        return Reflect.get(target, key, receiver);
      },
      set: (target, key, value) => {
        if (typeof key === 'string' && !(key in target)) {
          target.setValue(key, value);
          return true;
        }
        return Reflect.set(target, key, value);
      },
    });
  }

  addQuery(field: string, operatorOrValue: unknown, value?: unknown): void {
    if (value === undefined) this.conditions.push({ field, operator: '=', value: String(operatorOrValue) });
    else this.conditions.push({ field, operator: String(operatorOrValue), value: String(value) });
  }
  addEncodedQuery(query: string): void {
    this.encoded.push(String(query));
  }
  orderBy(field: string): void {
    this.order.push({ field, descending: false });
  }
  orderByDesc(field: string): void {
    this.order.push({ field, descending: true });
  }
  setLimit(n: number): void {
    this.limit = Number(n);
  }
  query(): void {
    this.rows = ask({ op: 'query', table: this.table, conditions: this.conditions, encoded: this.encoded, orderBy: this.order, limit: this.limit }).rows ?? [];
    this.index = -1;
    this.current = null;
  }
  hasNext(): boolean {
    return this.index + 1 < this.rows.length;
  }
  next(): boolean {
    if (!this.hasNext()) return false;
    this.index += 1;
    this.current = { ...this.rows[this.index]! };
    this.changes = {};
    return true;
  }
  get(fieldOrId: string, value?: string): boolean {
    this.conditions = [{ field: value === undefined ? 'sys_id' : fieldOrId, operator: '=', value: String(value ?? fieldOrId) }];
    this.encoded = [];
    this.query();
    return this.next();
  }
  isValidRecord(): boolean {
    return this.current !== null && !!this.current['sys_id'];
  }
  getRowCount(): number {
    return this.rows.length;
  }
  getUniqueValue(): string {
    return this.current?.['sys_id'] ?? '';
  }
  getValue(field: string): string | null {
    if (field in this.changes) return this.changes[field]!;
    return this.current?.[field] ?? null;
  }
  getDisplayValue(field?: string): string {
    return field ? (this.getValue(field) ?? '') : (this.getValue('name') ?? this.getUniqueValue());
  }
  setValue(field: string, value: unknown): void {
    this.changes[field] = value === null || value === undefined ? '' : String(value);
  }
  initialize(): void {
    this.current = {};
    this.changes = {};
  }
  newRecord(): void {
    this.initialize();
  }
  insert(): string {
    const sysId = ask({ op: 'insert', table: this.table, values: { ...this.changes } }).sysId ?? '';
    this.current = { ...this.changes, sys_id: sysId };
    this.changes = {};
    return sysId;
  }
  update(): string {
    if (!this.current?.['sys_id']) return this.insert();
    ask({ op: 'update', table: this.table, sysId: this.current['sys_id'], values: { ...this.changes } });
    Object.assign(this.current, this.changes);
    this.changes = {};
    return this.current['sys_id'];
  }
  deleteRecord(): boolean {
    if (!this.current?.['sys_id']) return false;
    ask({ op: 'delete', table: this.table, sysId: this.current['sys_id'] });
    this.current = null;
    return true;
  }
}

/** sn_ws.RESTMessageV2, without a REST Message record: endpoint, method, headers, body, execute(). */
class RESTMessageV2 {
  private endpoint = '';
  private method = 'get';
  private headers: Record<string, string> = {};
  private query: Array<[string, string]> = [];
  private body: string | null = null;
  private timeoutMs = 60_000;

  setEndpoint(url: string): void {
    this.endpoint = String(url);
  }
  getEndpoint(): string {
    return this.endpoint;
  }
  setHttpMethod(method: string): void {
    this.method = String(method).toLowerCase();
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[String(name)] = String(value);
  }
  getRequestHeader(name: string): string {
    return this.headers[name] ?? '';
  }
  setQueryParameter(name: string, value: string): void {
    this.query.push([String(name), String(value)]);
  }
  setRequestBody(body: string): void {
    this.body = String(body);
  }
  getRequestBody(): string {
    return this.body ?? '';
  }
  setHttpTimeout(ms: number): void {
    this.timeoutMs = Number(ms);
  }
  execute(): RESTResponseV2 {
    let url = this.endpoint;
    if (this.query.length) url += (url.includes('?') ? '&' : '?') + this.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    try {
      const answer = ask({
        op: 'http',
        method: this.method.toUpperCase(),
        url,
        headers: this.headers,
        body: this.method === 'get' || this.method === 'delete' ? null : this.body,
        timeoutMs: this.timeoutMs,
      });
      return new RESTResponseV2(answer.status ?? 0, answer.headers ?? {}, answer.body ?? '', null);
    } catch (error) {
      // The platform answers a failed connection with status 0 and the error on the response.
      return new RESTResponseV2(0, {}, '', (error as Error).message);
    }
  }
}

class RESTResponseV2 {
  constructor(
    private readonly status: number,
    private readonly headers: Record<string, string>,
    private readonly body: string,
    private readonly error: string | null,
  ) {}
  getStatusCode(): number {
    return this.status;
  }
  getBody(): string {
    return this.body;
  }
  getHeader(name: string): string {
    return this.headers[String(name).toLowerCase()] ?? '';
  }
  getHeaders(): Record<string, string> {
    return { ...this.headers };
  }
  haveError(): boolean {
    return this.error !== null || this.status >= 400;
  }
  getErrorMessage(): string {
    return this.error ?? (this.status >= 400 ? `Method failed: (${this.status})` : '');
  }
  getErrorCode(): number {
    return this.error !== null ? 1 : this.status >= 400 ? this.status : 0;
  }
}

const outcome: ScriptOutcome = { status: 200, headers: {}, body: '' };
let bodySet: { value: unknown } | null = null;
let streamed: string | null = null;

const r = job.request;
const lower = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
let parsed: unknown;
const request = {
  uri: r.uri,
  url: r.url,
  queryString: r.queryString,
  pathParams: { ...r.pathParams },
  queryParams: Object.fromEntries(Object.entries(r.queryParams).map(([k, v]) => [k, [...v]])),
  headers: { ...lower },
  getHeader: (name: string) => lower[String(name).toLowerCase()] ?? null,
  body: {
    get dataString() {
      return r.body ?? '';
    },
    get data() {
      if (parsed === undefined) {
        // The platform parses by the request's content type; a JSON body that does not parse fails the call.
        try {
          parsed = r.body ? JSON.parse(r.body) : {};
        } catch {
          throw new Error('com.glide.rest.domain.ServiceException: Exception while reading request');
        }
      }
      return parsed;
    },
  },
};
const response = {
  setStatus: (status: number) => void (outcome.status = Number(status)),
  setHeader: (name: string, value: string) => void (outcome.headers[String(name).toLowerCase()] = String(value)),
  setContentType: (type: string) => void (outcome.headers['content-type'] = String(type)),
  setBody: (body: unknown) => void (bodySet = { value: body }),
  setError: (error: { message?: string; detail?: string; status?: number }) => {
    outcome.status = error.status ?? 500;
    bodySet = null;
    streamed = JSON.stringify({ error: { message: error.message ?? 'Error', detail: error.detail ?? '' }, status: 'failure' });
  },
  getStreamWriter: () => ({
    writeString: (s: string) => void (streamed = (streamed ?? '') + String(s)),
    writeStream: () => {
      throw new Error('writeStream is not available in this instance');
    },
  }),
};

try {
  // Class.create(), as the platform defines it for script includes: a constructor calling initialize().
  const Class = {
    create: () =>
      function (this: { initialize?: (...a: unknown[]) => void }, ...args: unknown[]) {
        this.initialize?.(...args);
      },
  };
  const context = createContext({
    gs,
    GlideRecord,
    sn_ws: { RESTMessageV2 },
    Class,
    request,
    response,
    JSON,
    Math,
    Date,
    String,
    Number,
    Boolean,
    Array,
    Object,
    RegExp,
    Error,
    encodeURIComponent,
    decodeURIComponent,
    parseInt,
    isNaN,
  });
  // The application's script includes, reachable by name and by scope (`x_acme_app.Name`).
  const scope: Record<string, unknown> = {};
  for (const include of job.includes) {
    runInContext(include.script, context, { filename: `sys_script_include:${include.name}`, timeout: 30_000 });
    scope[include.name] = (context as Record<string, unknown>)[include.name];
  }
  (context as Record<string, unknown>)[job.scope] = scope;
  // The operation script is a function of (request, response), called as the platform calls it.
  runInContext(`(function () {\n${job.script}\n}).call(this);`, context, { filename: 'operation_script', timeout: 30_000 });
  if (streamed !== null) outcome.body = streamed;
  else if (bodySet) {
    outcome.headers['content-type'] ??= 'application/json';
    outcome.body = JSON.stringify({ result: (bodySet as { value: unknown }).value });
  }
  parentPort!.postMessage({ outcome });
} catch (error) {
  parentPort!.postMessage({ failure: (error as Error).message ?? String(error) });
}
