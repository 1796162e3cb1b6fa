/**
 * What a server script running in its worker (script-worker.ts) asks the instance for, and gets
 * back, synchronously: ServiceNow's server APIs are blocking (`GlideRecord.query()`,
 * `RESTMessageV2.execute()`), while the instance's tables and the network live on the main thread.
 * The worker posts a request and sleeps on a shared flag; the main thread answers on a port and
 * wakes it. Nothing but these plain messages crosses.
 */
export type GlideCondition = { field: string; operator: string; value: string };

export type BridgeRequest =
  | {
      op: 'query';
      table: string;
      conditions: GlideCondition[];
      encoded: string[];
      orderBy: Array<{ field: string; descending: boolean }>;
      limit: number | null;
    }
  | { op: 'insert'; table: string; values: Record<string, string> }
  | { op: 'update'; table: string; sysId: string; values: Record<string, string> }
  | { op: 'delete'; table: string; sysId: string }
  | { op: 'http'; method: string; url: string; headers: Record<string, string>; body: string | null; timeoutMs: number }
  | { op: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; message: string };

export type BridgeAnswer =
  | { ok: true; rows?: Array<Record<string, string>>; sysId?: string; status?: number; headers?: Record<string, string>; body?: string }
  | { ok: false; error: string };

/** What the script's RESTAPIRequest holds. */
export interface ScriptRequest {
  method: string;
  uri: string;
  url: string;
  queryString: string;
  pathParams: Record<string, string>;
  queryParams: Record<string, string[]>;
  headers: Record<string, string>;
  /** The body as text (null without one). */
  body: string | null;
}

/** Who runs the script, and the instance around it. */
export interface ScriptUser {
  sysId: string;
  userName: string;
  name: string;
  roles: string[];
}

export interface ScriptJob {
  script: string;
  /** The application's script includes (sys_script_include), defined before the script runs. */
  includes: Array<{ name: string; script: string }>;
  /** The application's scope: `gs.getCurrentScopeName()`. */
  scope: string;
  request: ScriptRequest;
  user: ScriptUser;
  /** `gs.getProperty()`'s answers (glide.servlet.uri, instance_name, the app's own properties). */
  properties: Record<string, string>;
  sessionToken: string;
}

/** What the script's RESTAPIResponse was told. */
export interface ScriptOutcome {
  status: number;
  headers: Record<string, string>;
  /** The body as sent: JSON of what setBody got (wrapped in `result`), or what the stream writer wrote. */
  body: string;
}

export const WAKE = 1;
