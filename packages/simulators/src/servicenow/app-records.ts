/**
 * A scoped application as an instance holds it once its update set is committed: the records the
 * instance shell shows and runs (application menus and modules, UI pages, script includes, the
 * Scripted REST APIs with their resources and ACLs, roles, tables). Read from the update set XML an
 * admin imports under System Update Sets → Retrieved Update Sets: an `<unload>` of
 * `sys_remote_update_set` and `sys_update_xml` rows, each row's `payload` holding one record as
 * `<record_update table="…"><table action="INSERT_OR_UPDATE">…</table></record_update>`.
 */
import { gunzipSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';

export interface AppMenu {
  sysId: string;
  title: string;
  roles: string[];
  order: number;
  active: boolean;
  category: string;
}
export interface AppModule {
  sysId: string;
  title: string;
  application: string;
  linkType: string;
  query: string;
  roles: string[];
  order: number;
  active: boolean;
}
export interface UiPage {
  sysId: string;
  name: string;
  endpoint: string;
  html: string;
  direct: boolean;
}
export interface ScriptInclude {
  sysId: string;
  name: string;
  apiName: string;
  script: string;
  active: boolean;
}
export interface RestApi {
  sysId: string;
  name: string;
  serviceId: string;
  namespace: string;
  baseUri: string;
  enforceAcl: string[];
  active: boolean;
}
export interface RestOperation {
  sysId: string;
  api: string;
  name: string;
  method: string;
  relativePath: string;
  script: string;
  requiresAuthentication: boolean;
  requiresAcl: boolean;
  enforceAcl: string[];
  active: boolean;
}
export interface AclRecord {
  sysId: string;
  type: string;
  operation: string;
  name: string;
  roles: string[];
  active: boolean;
}
export interface RoleRecord {
  sysId: string;
  name: string;
}
export interface TableRecord {
  name: string;
  label: string;
  columns: Array<{ element: string; type: string }>;
}
export interface UxAsset {
  sysId: string;
  name: string;
  contentType: string;
  content: string;
}

export interface ServiceNowApp {
  scope: string;
  scopeId: string;
  name: string;
  version: string;
  menus: AppMenu[];
  modules: AppModule[];
  pages: UiPage[];
  includes: ScriptInclude[];
  apis: RestApi[];
  operations: RestOperation[];
  acls: AclRecord[];
  roles: RoleRecord[];
  /** Role name → the role names it contains (sys_user_role_contains). */
  contains: Array<{ role: string; contains: string }>;
  tables: TableRecord[];
  /** Static files the UI page loads (sys_ux_lib_asset under /uxasset/externals/, sys_ui_script), by their served name. */
  assets: UxAsset[];
}

type Row = Record<string, unknown>;

const text = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return text((v as Row)['#text'] ?? '');
  return String(v);
};
const bool = (v: unknown) => text(v) === 'true';
const list = (v: unknown) =>
  text(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Each record of the update set: its table and its fields as text. */
export function updateSetRecords(xml: string): Array<{ table: string; fields: Record<string, string>; displayValues: Record<string, string> }> {
  const outer = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => name === 'sys_update_xml' });
  const unload = (outer.parse(xml) as { unload?: Row }).unload;
  if (!unload) throw new Error('not an update set: the XML has no <unload> element');
  if (!unload['sys_remote_update_set']) throw new Error('not an update set: it has no sys_remote_update_set record');
  const inner = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: false });
  const out: Array<{ table: string; fields: Record<string, string>; displayValues: Record<string, string> }> = [];
  for (const update of (unload['sys_update_xml'] as Row[] | undefined) ?? []) {
    const payload = text(update['payload']);
    if (!payload) continue;
    const record = (inner.parse(payload) as { record_update?: Row }).record_update;
    if (!record) continue;
    for (const [table, value] of Object.entries(record)) {
      if (table.startsWith('@') || typeof value !== 'object' || value === null) continue;
      // A table element per record; sys_dictionary and sys_documentation come grouped (database_field).
      for (const one of Array.isArray(value) ? value : [value]) {
        const fields: Record<string, string> = {};
        const displayValues: Record<string, string> = {};
        for (const [k, v] of Object.entries(one as Row)) {
          if (k.startsWith('@')) continue;
          fields[k] = text(v);
          // A reference names its target by display value, or (in the SDK's records) by `name`.
          const shown = v && typeof v === 'object' ? ((v as Row)['@display_value'] ?? (v as Row)['@name']) : undefined;
          if (shown !== undefined) displayValues[k] = String(shown);
        }
        out.push({ table, fields, displayValues });
      }
    }
  }
  return out;
}

type Records = ReturnType<typeof updateSetRecords>;

/**
 * A record's attachment, as the platform stores it: a sys_attachment row and its sys_attachment_doc
 * chunks (base64, in `position` order), gzipped when `compressed`.
 */
function attachmentText(records: Records, table: string, sysId: string): string {
  const attachment = records.find((r) => r.table === 'sys_attachment' && r.fields['table_name'] === table && r.fields['table_sys_id'] === sysId);
  if (!attachment) throw new Error(`the ${table} record ${sysId} keeps its content in an attachment the update set does not hold`);
  const chunks = records
    .filter((r) => r.table === 'sys_attachment_doc' && r.fields['sys_attachment'] === attachment.fields['sys_id'])
    .sort((a, b) => Number(a.fields['position']) - Number(b.fields['position']))
    .map((r) => Buffer.from(r.fields['data'] ?? '', 'base64'));
  const bytes = Buffer.concat(chunks);
  return (attachment.fields['compressed'] === 'true' ? gunzipSync(bytes) : bytes).toString('utf8');
}

export function parseUpdateSet(xml: string): ServiceNowApp {
  const records = updateSetRecords(xml);
  const of = (table: string) => records.filter((r) => r.table === table);
  const app = of('sys_app')[0];
  if (!app) throw new Error('the update set holds no application record (sys_app): export it from the application, not a global update set');
  const roles = of('sys_user_role').map((r) => ({ sysId: r.fields['sys_id']!, name: r.fields['name']! }));
  const roleName = (ref: string, display?: string) => roles.find((r) => r.sysId === ref)?.name ?? display ?? ref;
  const aclRoles = of('sys_security_acl_role');
  return {
    scope: app.fields['scope'] ?? '',
    scopeId: app.fields['sys_id'] ?? '',
    name: app.fields['name'] ?? '',
    version: app.fields['version'] ?? '',
    menus: of('sys_app_application').map((r) => ({
      sysId: r.fields['sys_id']!,
      title: r.fields['title']!,
      roles: list(r.fields['roles']),
      order: Number(r.fields['order'] || 100),
      active: r.fields['active'] !== 'false',
      category: r.displayValues['category'] ?? r.fields['category'] ?? '',
    })),
    modules: of('sys_app_module').map((r) => ({
      sysId: r.fields['sys_id']!,
      title: r.fields['title']!,
      application: r.fields['application']!,
      linkType: r.fields['link_type'] ?? '',
      query: r.fields['query'] ?? '',
      roles: list(r.fields['roles']),
      order: Number(r.fields['order'] || 100),
      active: r.fields['active'] !== 'false',
    })),
    pages: of('sys_ui_page').map((r) => ({
      sysId: r.fields['sys_id']!,
      name: r.fields['name']!,
      endpoint: r.fields['endpoint'] || `${r.fields['name']}.do`,
      html: r.fields['html'] ?? '',
      direct: bool(r.fields['direct']),
    })),
    includes: of('sys_script_include').map((r) => ({
      sysId: r.fields['sys_id']!,
      name: r.fields['name']!,
      apiName: r.fields['api_name'] ?? '',
      script: r.fields['script'] ?? '',
      active: r.fields['active'] !== 'false',
    })),
    apis: of('sys_ws_definition').map((r) => ({
      sysId: r.fields['sys_id']!,
      name: r.fields['name']!,
      serviceId: r.fields['service_id']!,
      namespace: r.displayValues['namespace'] ?? r.fields['namespace'] ?? '',
      baseUri: r.fields['base_uri'] ?? '',
      enforceAcl: list(r.fields['enforce_acl']),
      active: r.fields['active'] !== 'false',
    })),
    operations: of('sys_ws_operation').map((r) => ({
      sysId: r.fields['sys_id']!,
      api: r.fields['web_service_definition']!,
      name: r.fields['name']!,
      method: (r.fields['http_method'] ?? 'GET').toUpperCase(),
      relativePath: r.fields['relative_path'] ?? '/',
      script: r.fields['operation_script'] ?? '',
      requiresAuthentication: r.fields['requires_authentication'] !== 'false',
      requiresAcl: r.fields['requires_acl_authorization'] !== 'false',
      enforceAcl: list(r.fields['enforce_acl']),
      active: r.fields['active'] !== 'false',
    })),
    acls: of('sys_security_acl').map((r) => ({
      sysId: r.fields['sys_id']!,
      type: r.displayValues['type'] ?? r.fields['type'] ?? '',
      operation: r.displayValues['operation'] ?? r.fields['operation'] ?? '',
      name: r.fields['name'] ?? '',
      roles: aclRoles
        .filter((x) => x.fields['sys_security_acl'] === r.fields['sys_id'])
        .map((x) => roleName(x.fields['sys_user_role'] ?? '', x.displayValues['sys_user_role'])),
      active: r.fields['active'] !== 'false',
    })),
    roles,
    contains: of('sys_user_role_contains').map((r) => ({
      role: roleName(r.fields['role'] ?? '', r.displayValues['role']),
      contains: roleName(r.fields['contains'] ?? '', r.displayValues['contains']),
    })),
    tables: of('sys_db_object').map((t) => ({
      name: t.fields['name']!,
      label: t.fields['label'] ?? t.fields['name']!,
      columns: of('sys_dictionary')
        .filter((d) => d.fields['name'] === t.fields['name'] && d.fields['element'])
        .map((d) => ({ element: d.fields['element']!, type: d.fields['internal_type'] ?? 'string' })),
    })),
    assets: [
      // UX assets are served under /uxasset/externals/<name>.jsdbx (a source map keeps its own name).
      ...of('sys_ux_lib_asset').map((r) => ({
        sysId: r.fields['sys_id']!,
        name: r.fields['category'] === 'source_map' ? r.fields['name']! : `${r.fields['name']}.jsdbx`,
        contentType: r.fields['mime_type'] || 'application/javascript',
        content: r.fields['is_attachment'] === 'true' ? attachmentText(records, 'sys_ux_lib_asset', r.fields['sys_id']!) : (r.fields['content'] ?? ''),
      })),
      ...of('sys_ui_script').map((r) => ({
        sysId: r.fields['sys_id']!,
        name: `${r.fields['name']}.jsdbx`,
        contentType: 'application/javascript',
        content: r.fields['script'] ?? '',
      })),
    ],
  };
}
