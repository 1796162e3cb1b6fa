// What `npm run package:servicenow` ships: the SDK's application package (for `now-sdk install`)
// and the update set (for Retrieved Update Sets), each holding the application's records.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import JSZip from 'jszip';
import { XMLParser } from 'fast-xml-parser';
import { parseUpdateSet, updateSetRecords } from '@exalate/simulators';
import { PACKAGE, UPDATE_SET, VERSION } from '../build.mjs';

beforeAll(() => {
  for (const f of [PACKAGE, UPDATE_SET]) if (!existsSync(f)) throw new Error(`${f} is missing: run "npm run package:servicenow" first ("npm test" does).`);
});

test("the SDK's package: an inventory of the scoped application and a record file per record", async () => {
  const zip = await JSZip.loadAsync(readFileSync(PACKAGE));
  const names = Object.keys(zip.files);
  const inventory = await zip.file('/package_inventory.csv')!.async('string');
  expect(inventory).toMatch(/^#build=x_exalate_sync$/m);
  expect(inventory).toMatch(/^#type=scoped$/m);
  // Every listed file is in the zip, with the hash the inventory says.
  const listed = inventory
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(';') as [string, string]);
  expect(listed.length).toBeGreaterThan(20);
  for (const [path, hash] of listed) {
    const entry = zip.file(`/${path.replace(/^\//, '')}`);
    expect([path, !!entry]).toEqual([path, true]);
    expect(
      createHash('sha256')
        .update(await entry!.async('nodebuffer'))
        .digest('hex'),
    ).toBe(hash.trim().toLowerCase());
  }
  const tables = names
    .filter((n) => n.startsWith('/update/'))
    .map((n) => n.replace(/^\/update\//, '').replace(/_[0-9a-f]{32}\.xml$|_x_exalate_sync_setting_[a-z_]+\.xml$/, ''));
  for (const table of [
    'sys_app_application',
    'sys_app_module',
    'sys_ui_page',
    'sys_ux_lib_asset',
    'sys_user_role',
    'sys_user_role_contains',
    'sys_script_include',
    'sys_ws_definition',
    'sys_ws_operation',
    'sys_security_acl',
    'sys_security_acl_role',
    'sys_db_object',
    'sys_dictionary',
  ]) {
    expect([table, tables.includes(table)]).toEqual([table, true]);
  }
  expect(tables.filter((t) => t === 'sys_app_module')).toHaveLength(3);
  expect(tables.filter((t) => t === 'sys_ws_operation')).toHaveLength(7);
  expect(names.some((n) => /^\/scope\/sys_app_[0-9a-f]{32}\.xml$/.test(n))).toBe(true);
});

test('the update set: loaded for this application, one sys_update_xml per record with its payload', () => {
  const xml = readFileSync(UPDATE_SET, 'utf8');
  const unload = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => n === 'sys_update_xml' }).parse(xml).unload;
  const set = unload.sys_remote_update_set;
  expect(set).toMatchObject({ state: 'loaded', application_scope: 'x_exalate_sync', application_version: VERSION, name: `Exalate ${VERSION}` });
  const scopeId = JSON.parse(readFileSync(new URL('../now.config.json', import.meta.url), 'utf8')).scopeId as string;
  expect(set.application['#text']).toBe(scopeId);
  for (const u of unload.sys_update_xml) {
    expect(u.remote_update_set['#text']).toBe(set.sys_id);
    expect(u.name).toMatch(/^[a-z0-9_]+$/);
    expect(String(u.payload)).toContain(`<record_update`);
  }
  // Every record of the build is in it (the application's own record among them).
  const tables = updateSetRecords(xml).map((r) => r.table);
  expect(tables).toContain('sys_app');
});

test('the records: menu and modules leading to the page, the page loading its bundle, the role granted to admin, the REST API behind its ACL', () => {
  const app = parseUpdateSet(readFileSync(UPDATE_SET, 'utf8'));
  expect(app).toMatchObject({ scope: 'x_exalate_sync', name: 'Exalate', version: VERSION });
  expect(app.menus).toEqual([expect.objectContaining({ title: 'Exalate', roles: ['x_exalate_sync.admin'], active: true })]);
  expect(app.modules.sort((a, b) => a.order - b.order).map((m) => [m.title, m.linkType, m.query, m.application === app.menus[0]!.sysId, m.roles])).toEqual([
    ['Connections', 'DIRECT', 'x_exalate_sync_exalate.do?sysparm_tab=connections', true, ['x_exalate_sync.admin']],
    ['Sync queue', 'DIRECT', 'x_exalate_sync_exalate.do?sysparm_tab=queue', true, ['x_exalate_sync.admin']],
    ['Settings', 'DIRECT', 'x_exalate_sync_exalate.do?sysparm_tab=settings', true, ['x_exalate_sync.admin']],
  ]);
  const page = app.pages.find((p) => p.endpoint === 'x_exalate_sync_exalate.do')!;
  expect(page.html).toContain('id="exalate-root" data-api="/api/x_exalate_sync/exalate"');
  const src = /<script src="\/uxasset\/externals\/([^"?]+)[^"]*" type="module">/.exec(page.html)?.[1];
  const bundle = app.assets.find((a) => a.name === src)!;
  // The bundle is the page: the wizard core's words and the page's own styles in one module.
  expect(bundle.content).toContain('Please paste the invitation code, received from your partner');
  expect(bundle.content).toContain('now-modal-backdrop');

  expect(app.roles.map((r) => r.name)).toEqual(['x_exalate_sync.admin']);
  expect(app.contains).toEqual([{ role: 'admin', contains: 'x_exalate_sync.admin' }]);

  expect(app.apis).toEqual([expect.objectContaining({ namespace: 'x_exalate_sync', serviceId: 'exalate', baseUri: '/api/x_exalate_sync/exalate' })]);
  const acl = app.acls.find((a) => a.type === 'REST_Endpoint')!;
  expect(acl).toMatchObject({ operation: 'execute', roles: ['x_exalate_sync.admin'], active: true });
  const ops = app.operations
    .map((o) => `${o.method} ${o.relativePath} ${o.requiresAuthentication ? 'auth' : 'public'} ${o.enforceAcl.includes(acl.sysId) ? 'acl' : 'no-acl'}`)
    .sort();
  expect(ops).toEqual([
    'DELETE /node auth acl',
    'GET /node auth acl',
    'GET /published-node public no-acl',
    'GET /settings auth acl',
    'POST /node auth acl',
    'POST /pair auth acl',
    'PUT /node auth acl',
  ]);
  // Each resource calls the script include, which the package carries.
  for (const o of app.operations)
    expect(o.script).toMatch(/new x_exalate_sync\.ExalateApi\(\)\.handle\('(GET|POST|PUT|DELETE)', '[a-z-]+', request, response\)/);
  expect(app.includes).toEqual([expect.objectContaining({ name: 'ExalateApi', apiName: 'x_exalate_sync.ExalateApi', active: true })]);
  expect(app.tables).toEqual([expect.objectContaining({ name: 'x_exalate_sync_setting' })]);
  expect(app.tables[0]!.columns).toEqual(
    expect.arrayContaining([
      { element: 'name', type: 'string' },
      { element: 'secret', type: 'password2' },
    ]),
  );
});
