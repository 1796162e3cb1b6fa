import { parseEncodedQuery, ServiceNowSimulator, type RunningSimulator } from '../src/index.js';

/** The ServiceNow simulator against its documented Table and Attachment API behaviour. */
let sim: ServiceNowSimulator;
let running: RunningSimulator;
beforeEach(async () => {
  sim = new ServiceNowSimulator();
  running = await sim.listen();
});
afterEach(() => running.close());

const auth = { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` };
async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read as the test goes
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${running.url}${path}`, {
    method,
    headers: { ...auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

it('creates, reads and updates incidents with numbers, references and display values', async () => {
  const bob = sim.user('bob')!;
  const created = await call('POST', '/api/now/table/incident', {
    short_description: 'Printer on fire',
    urgency: '1',
    impact: '1',
    assigned_to: bob.sys_id,
    unknown_field: 'ignored',
  });
  expect(created.status).toBe(201);
  expect(created.headers.get('location')).toMatch(/\/api\/now\/table\/incident\/[0-9a-f]{32}$/);
  const inc = created.body.result;
  expect(inc).toMatchObject({
    number: 'INC0010001',
    short_description: 'Printer on fire',
    state: '1',
    priority: '1',
    sys_mod_count: '0',
    assigned_to: { value: bob.sys_id, link: expect.stringContaining(`/api/now/table/sys_user/${bob.sys_id}`) },
  });
  expect(inc).not.toHaveProperty('unknown_field');
  const updated = await call('PATCH', `/api/now/table/incident/${inc.sys_id}`, { state: '2' });
  expect(updated.body.result).toMatchObject({ state: '2', sys_mod_count: '1' });
  const shown = await call('GET', `/api/now/table/incident/${inc.sys_id}?sysparm_display_value=true&sysparm_fields=number,state,assigned_to`);
  expect(shown.body.result).toEqual({ number: 'INC0010001', state: 'In Progress', assigned_to: { display_value: 'Bob Builder', link: expect.any(String) } });
  const all = await call('GET', `/api/now/table/incident/${inc.sys_id}?sysparm_display_value=all&sysparm_fields=state&sysparm_exclude_reference_link=true`);
  expect(all.body.result).toEqual({ state: { display_value: 'In Progress', value: '2' } });
});

it('writes comments and work notes as journal entries in sys_journal_field', async () => {
  const inc = (await call('POST', '/api/now/table/incident', { short_description: 'Journal' })).body.result;
  await call('PATCH', `/api/now/table/incident/${inc.sys_id}`, { comments: 'Customer called back' });
  await call('PATCH', `/api/now/table/incident/${inc.sys_id}`, { work_notes: 'Internal: rebooted' });
  const raw = await call('GET', `/api/now/table/incident/${inc.sys_id}?sysparm_fields=comments,work_notes`);
  expect(raw.body.result).toEqual({ comments: '', work_notes: '' });
  const journal = await call(
    'GET',
    `/api/now/table/sys_journal_field?sysparm_query=element_id=${inc.sys_id}^ORDERBYsys_created_on&sysparm_fields=element,value,name`,
  );
  expect(journal.body.result).toEqual([
    { element: 'comments', value: 'Customer called back', name: 'incident' },
    { element: 'work_notes', value: 'Internal: rebooted', name: 'incident' },
  ]);
  const rendered = await call('GET', `/api/now/table/incident/${inc.sys_id}?sysparm_display_value=true&sysparm_fields=comments`);
  expect(rendered.body.result.comments).toMatch(/\(Additional comments\)\nCustomer called back/);
});

it('filters, orders and pages with encoded queries, Link and X-Total-Count', async () => {
  for (const [d, cat] of [
    ['A', 'network'],
    ['B', 'software'],
    ['C', 'network'],
    ['D', 'hardware'],
  ])
    await call('POST', '/api/now/table/incident', { short_description: `Item ${d}`, category: cat });
  const page = await call(
    'GET',
    '/api/now/table/incident?sysparm_query=category=network^ORcategory=hardware^ORDERBYDESCshort_description&sysparm_limit=2&sysparm_fields=short_description',
  );
  expect(page.headers.get('x-total-count')).toBe('3');
  expect(page.body.result).toEqual([{ short_description: 'Item D' }, { short_description: 'Item C' }]);
  expect(page.headers.get('link')).toMatch(/sysparm_offset=2[^>]*>;rel="next"/);
  const next = await call(
    'GET',
    '/api/now/table/incident?sysparm_query=category=network^ORcategory=hardware^ORDERBYDESCshort_description&sysparm_limit=2&sysparm_offset=2&sysparm_fields=short_description',
  );
  expect(next.body.result).toEqual([{ short_description: 'Item A' }]);
  const like = await call('GET', '/api/now/table/incident?sysparm_query=short_descriptionLIKEitem b^NQcategory=hardware&sysparm_fields=short_description');
  expect(like.body.result.map((r: { short_description: string }) => r.short_description).sort()).toEqual(['Item B', 'Item D']);
  const since = await call(
    'GET',
    "/api/now/table/incident?sysparm_query=sys_updated_on>=javascript:gs.dateGenerate('2000-01-01','00:00:00')&sysparm_fields=number",
  );
  expect(since.body.result).toHaveLength(4);
  expect((await call('GET', '/api/now/table/incident?sysparm_query=category')).status).toBe(400);
});

it('answers ServiceNow error bodies: unknown table, missing record, bad credentials', async () => {
  expect(await call('GET', '/api/now/table/no_such_table')).toMatchObject({
    status: 400,
    body: { error: { message: 'Invalid table no_such_table' }, status: 'failure' },
  });
  expect(await call('GET', '/api/now/table/incident/0123456789abcdef0123456789abcdef')).toMatchObject({
    status: 404,
    body: { error: { message: 'No Record found', detail: expect.any(String) }, status: 'failure' },
  });
  expect(await call('GET', '/api/now/table/incident', undefined, { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` })).toMatchObject({
    status: 401,
    body: { error: { message: 'User Not Authenticated' }, status: 'failure' },
  });
});

it('uploads, lists, downloads and deletes attachments', async () => {
  const inc = (await call('POST', '/api/now/table/incident', { short_description: 'Files' })).body.result;
  const bytes = Buffer.from([0, 1, 2, 3, 255]);
  const up = await fetch(`${running.url}/api/now/attachment/file?table_name=incident&table_sys_id=${inc.sys_id}&file_name=dump.bin`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  expect(up.status).toBe(201);
  const meta = ((await up.json()) as { result: Record<string, string> }).result;
  expect(meta).toMatchObject({
    file_name: 'dump.bin',
    size_bytes: '5',
    table_name: 'incident',
    table_sys_id: inc.sys_id,
    content_type: 'application/octet-stream',
  });
  const list = await call('GET', `/api/now/attachment?sysparm_query=table_sys_id=${inc.sys_id}`);
  expect(list.body.result.map((a: { sys_id: string }) => a.sys_id)).toEqual([meta['sys_id']]);
  const file = await fetch(`${running.url}/api/now/attachment/${meta['sys_id']}/file`, { headers: auth });
  expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
  expect((await call('DELETE', `/api/now/attachment/${meta['sys_id']}`)).status).toBe(204);
  const missing = await fetch(`${running.url}/api/now/attachment/file?table_name=incident&table_sys_id=nope&file_name=x`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'text/plain' },
    body: 'x',
  });
  expect(missing.status).toBe(404);
});

it('parses encoded queries into OR-of-AND groups', () => {
  expect(parseEncodedQuery('active=true^priority=1^ORpriority=2^NQcategory=network^ORDERBYnumber')).toEqual({
    groups: [
      [
        [{ field: 'active', op: '=', value: 'true' }],
        [
          { field: 'priority', op: '=', value: '1' },
          { field: 'priority', op: '=', value: '2' },
        ],
      ],
      [[{ field: 'category', op: '=', value: 'network' }]],
    ],
    orderBy: [{ field: 'number', descending: false }],
  });
});

it('lists a task table’s custom columns in sys_dictionary, as the Table API reads it', async () => {
  const listed = await call(
    'GET',
    '/api/now/table/sys_dictionary?sysparm_query=name=incident^elementSTARTSWITHu_&sysparm_fields=element,column_label,internal_type',
  );
  expect(listed.body.result).toEqual([
    { element: 'u_labels', column_label: 'Labels', internal_type: 'string' },
    { element: 'u_customer', column_label: 'Customer', internal_type: 'string' },
    { element: 'u_effort', column_label: 'Effort', internal_type: 'decimal' },
  ]);
  expect((await call('GET', '/api/now/table/sys_dictionary?sysparm_query=name=sys_user^elementSTARTSWITHu_')).body.result).toEqual([]);
});
