import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorError, restUrl } from '../src/index.js';
import { MAX_REST_BYTES, restPassThrough } from '../src/rest-passthrough.js';

// A rule's httpClient reaches its node's own tracker and nothing else.

describe('restUrl', () => {
  it('takes paths under the tracker’s address, query strings included', () => {
    expect(restUrl('JIRA_CLOUD', 'https://acme.atlassian.net', '/rest/api/3/myself?expand=groups').href).toBe(
      'https://acme.atlassian.net/rest/api/3/myself?expand=groups',
    );
    expect(restUrl('AZURE_DEVOPS', 'https://dev.azure.com/acme/', '/Support/_apis/wit/workitems/1?api-version=7.1').href).toBe(
      'https://dev.azure.com/acme/Support/_apis/wit/workitems/1?api-version=7.1',
    );
  });

  it.each([
    ['another host', 'https://evil.example/steal'],
    ['a scheme-relative path', '//evil.example/steal'],
    ['no leading slash', 'rest/api/3/myself'],
    ['a way out of the organization', '/../other-org/_apis/projects'],
    ['an encoded way out', '/%2e%2e/other-org/_apis/projects'],
    ['a backslash', '/\\evil.example'],
    ['a NUL', '/rest/api/3/myself\u0000'],
    ['a line break', '/rest\r\nHost: evil.example'],
    ['nothing', ''],
    ['a path too long', `/${'a'.repeat(5000)}`],
  ])('refuses %s, saying what it takes', (_why, path) => {
    const error = (() => {
      try {
        restUrl('AZURE_DEVOPS', 'https://dev.azure.com/acme', path);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code: 'REJECTED', message: expect.stringContaining("httpClient takes a path on this node's tracker") });
  });
});

describe('restPassThrough', () => {
  let server: ReturnType<typeof createServer>;
  let base = '';
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/base/redirect') return void res.writeHead(302, { location: 'https://evil.example/' }).end();
        if (req.url === '/base/huge') return void res.end('x'.repeat(MAX_REST_BYTES + 1));
        if (req.url === '/base/empty') return void res.writeHead(204).end();
        if (req.url === '/base/text') return void res.end('plain words');
        if (req.url === '/base/missing')
          return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errorMessages":["Issue does not exist"]}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, body: body ? JSON.parse(body) : null }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) =>
    restPassThrough('JIRA_SERVER', base, 'Bearer node-token', { method, path, ...(body === undefined ? {} : { body }), timeoutMs: 5_000 });

  it('sends the call with the node’s credentials and gives the body: JSON parsed, text as text, nothing as null', async () => {
    expect(await call('POST', '/rest/api/2/issue', { fields: { summary: 'x' } })).toEqual({ method: 'POST', body: { fields: { summary: 'x' } } });
    expect(seen.at(-1)).toMatchObject({ url: '/base/rest/api/2/issue', headers: { authorization: 'Bearer node-token', 'content-type': 'application/json' } });
    expect(await call('GET', '/text')).toBe('plain words');
    expect(await call('DELETE', '/empty')).toBeNull();
  });

  it('fails with the tracker’s status; follows no redirect; reads and sends at most 1 MB; knows its methods', async () => {
    expect(await call('GET', '/missing').catch((e: unknown) => e)).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('the tracker answered 404'),
    });
    expect(await call('GET', '/redirect').catch((e: unknown) => e)).toMatchObject({ message: expect.stringContaining('answered 302') });
    expect(await call('GET', '/huge').catch((e: unknown) => e)).toMatchObject({ code: 'REJECTED', message: expect.stringContaining('more than 1 MB') });
    const before = seen.length;
    expect(await call('PUT', '/x', { big: 'y'.repeat(MAX_REST_BYTES) }).catch((e: unknown) => e)).toMatchObject({
      code: 'REJECTED',
      message: expect.stringContaining('at most 1 MB'),
    });
    expect(await call('TRACE' as 'GET', '/x').catch((e: unknown) => e)).toMatchObject({ code: 'REJECTED', message: 'httpClient has no method TRACE' });
    // Neither was sent.
    expect(seen.length).toBe(before);
  });
});
