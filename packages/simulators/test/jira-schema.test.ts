import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { JiraSimulator, type RunningSimulator } from '../src/index.js';

/**
 * Cloud responses against Atlassian's published Jira Cloud platform REST v3 description
 * (../shared/specs/jira-cloud/swagger-v3.v3.json): a scripted session calls every endpoint the
 * simulator serves, and each JSON answer must validate against the schema the description gives
 * for that path, method and status.
 */
const SPEC = join(dirname(fileURLToPath(import.meta.url)), '../../../../shared/specs/jira-cloud/swagger-v3.v3.json');
type Op = { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
const spec = JSON.parse(readFileSync(SPEC, 'utf8')) as { paths: Record<string, Record<string, Op>> };
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => void;
// OpenAPI 3.0 schemas: `nullable` is understood; unknown OpenAPI keywords are not errors.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema(spec, 'jira.json');

const pointer = (...s: string[]) => '#/' + s.map((x) => encodeURIComponent(x.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
function templateOf(method: string, path: string): string | null {
  for (const t of Object.keys(spec.paths)) {
    if (!spec.paths[t]![method]) continue;
    if (new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path)) return t;
  }
  return null;
}

let sim: JiraSimulator;
let running: RunningSimulator;
const checked: string[] = [];
const problems: string[] = [];
const auth = { authorization: `Basic ${Buffer.from('alice@acme.example:alice-token').toString('base64')}` };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the session reads fields as it goes
async function call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<any> {
  const isForm = body instanceof FormData;
  const res = await fetch(`${running.url}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined || isForm ? {} : { 'content-type': 'application/json' }), ...extra },
    ...(body === undefined ? {} : { body: isForm ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  const template = templateOf(method.toLowerCase(), path.split('?')[0]!);
  if (!template) throw new Error(`${method} ${path} is not in the v3 description`);
  const documented = spec.paths[template]![method.toLowerCase()]!.responses[String(res.status)];
  if (!documented) problems.push(`${method} ${template}: status ${res.status} is not documented`);
  const schema = documented?.content?.['application/json']?.schema;
  if (schema && text && (res.headers.get('content-type') ?? '').includes('json')) {
    const validate = ajv.compile({
      $ref: `jira.json${pointer('paths', template, method.toLowerCase(), 'responses', String(res.status), 'content', 'application/json', 'schema')}`,
    });
    if (!validate(JSON.parse(text))) problems.push(`${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}`);
    checked.push(`${method} ${template} ${res.status}`);
  }
  return text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
}

beforeAll(async () => {
  sim = new JiraSimulator({ seed: { flavor: 'cloud' } });
  running = await sim.listen();
});
afterAll(() => running.close());

const doc = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });

it('answers a full session in the shapes of the v3 description', async () => {
  const bob = sim.user('bob@acme.example')!;
  await call('GET', '/rest/api/3/serverInfo');
  await call('GET', '/rest/api/3/myself');
  await call('GET', '/rest/api/3/user/search?query=bob');
  await call('GET', '/rest/api/3/priority');
  await call('GET', '/rest/api/3/project/search');
  await call('GET', '/rest/api/3/project/SUP');
  await call('GET', '/rest/api/3/project/SUP/statuses');
  await call('GET', '/rest/api/3/project/NOPE');
  const created = await call('POST', '/rest/api/3/issue', {
    fields: {
      project: { key: 'SUP' },
      issuetype: { name: 'Bug' },
      summary: 'Schema check',
      description: doc('text'),
      labels: ['a'],
      priority: { name: 'High' },
      assignee: { accountId: bob.accountId },
    },
  });
  await call('POST', '/rest/api/3/issue', { fields: { project: { key: 'SUP' }, issuetype: { name: 'Bug' } } });
  await call('GET', `/rest/api/3/issue/${created.key}`);
  await call('GET', `/rest/api/3/issue/${created.key}?fields=summary,status&expand=changelog`);
  await call('PUT', `/rest/api/3/issue/${created.key}`, { fields: { summary: 'Schema check, edited' } });
  const transitions = await call('GET', `/rest/api/3/issue/${created.key}/transitions`);
  await call('POST', `/rest/api/3/issue/${created.key}/transitions`, { transition: { id: transitions.transitions[0].id } });
  await call('GET', `/rest/api/3/issue/${created.key}/changelog`);
  const comment = await call('POST', `/rest/api/3/issue/${created.key}/comment`, { body: doc('hello') });
  await call('PUT', `/rest/api/3/issue/${created.key}/comment/${comment.id}`, { body: doc('hello again') });
  await call('GET', `/rest/api/3/issue/${created.key}/comment`);
  await call('GET', `/rest/api/3/issue/${created.key}/comment/${comment.id}`);
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('bytes')], { type: 'text/plain' }), 'note.txt');
  const [attachment] = await call('POST', `/rest/api/3/issue/${created.key}/attachments`, form, { 'X-Atlassian-Token': 'no-check' });
  await call('GET', `/rest/api/3/attachment/${attachment.id}`);
  expect(await call('GET', `/rest/api/3/attachment/content/${attachment.id}`)).toBe('bytes');
  await call('GET', `/rest/api/3/search/jql?jql=${encodeURIComponent('project = SUP ORDER BY updated DESC')}&fields=summary,status,updated&maxResults=1`);
  await call('POST', '/rest/api/3/search/jql', { jql: 'project = SUP AND labels in (a, b)', fields: ['*all'] });
  await call('GET', '/rest/api/3/issue/SUP-999');
  expect(problems).toEqual([]);
  expect(checked.length).toBeGreaterThanOrEqual(20);
});
