import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeInvitationCode, encodeInvitationCode } from '@exalate/contract';
import { nodeConfig, startTestServer, type TestServer } from './support.js';

/** Bad input is storage-independent, so this suite runs on PGlite only. */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('pglite', [nodeConfig('jira'), nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' }), nodeConfig('snow', { nodeType: 'SERVICENOW' })]);
});

const initiate = (extra: Record<string, unknown> = {}) =>
  t.api('jira').post('/connections', {
    destinationUrl: t.url('ado'),
    mode: 'BASIC',
    localShortName: 'jira',
    remoteShortName: 'ado',
    project: 'SUP',
    ...extra,
  });

async function connectionNames(node: string): Promise<string[]> {
  return (await t.api(node).get('/connections')).body.connections.map((c: { name: string }) => c.name);
}

/** A local HTTP server that answers every request with `respond`. */
async function fakeServer(respond: (url: string) => { status: number; type: string; body: string }): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const r = respond(req.url ?? '');
    res.writeHead(r.status, { 'content-type': r.type });
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('admin authentication', () => {
  it('refuses a missing or wrong admin token', async () => {
    const res = await fetch(`${t.url('jira')}/api/v1/connections`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    const wrong = await fetch(`${t.url('jira')}/api/v1/connections`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('answers malformed JSON with a clear error', async () => {
    const res = await fetch(`${t.url('jira')}/api/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token('jira')}`, 'content-type': 'application/json' },
      body: '{"destinationUrl":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });
});

describe('destination URL (Initiate connection)', () => {
  it.each([
    ['not a URL', 'exalate partner', 'DESTINATION_URL_INVALID'],
    ['another scheme', 'ftp://partner.example.com/nodes/x', 'DESTINATION_URL_INVALID'],
    ['credentials in the URL', 'https://user:pw@partner.example.com/nodes/x', 'DESTINATION_URL_INVALID'],
    ['plain http to a remote host', 'http://partner.example.com/nodes/x', 'DESTINATION_URL_INVALID'],
  ])('refuses %s', async (_what, url, code) => {
    const res = await t.api('jira').post('/destinations/probe', { url });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code, fields: { destinationUrl: expect.any(String) } });
  });

  it.each([
    ['a private-range address', 'https://10.1.2.3/nodes/x'],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data'],
    ['an IPv6 unique-local address', 'https://[fd00::1]/nodes/x'],
    ['an IPv4-mapped loopback address', 'https://[::ffff:127.0.0.1]/nodes/x'],
  ])('refuses %s (not public)', async (_what, url) => {
    const strict = await startTestServer('pglite', [nodeConfig('jira')], { addressPolicy: { allowLoopback: false, allowedCidrs: [] } });
    const res = await strict.api('jira').post('/destinations/probe', { url });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('DESTINATION_NOT_ALLOWED');
    expect(res.body.error.message).toMatch(/EXALATE_PEER_ALLOWED_CIDRS/);
    await strict.close();
  });

  it('refuses loopback unless the operator allowed it, including a name that resolves to it', async () => {
    const strict = await startTestServer('pglite', [nodeConfig('jira')], { addressPolicy: { allowLoopback: false, allowedCidrs: [] } });
    for (const url of [t.url('ado'), t.url('ado').replace('127.0.0.1', 'localhost')]) {
      const res = await strict.api('jira').post('/destinations/probe', { url });
      expect(res.body.error.code).toBe('DESTINATION_NOT_ALLOWED');
    }
    await strict.close();
  });

  it('reports an unreachable destination and suggests "I don\'t have a URL"', async () => {
    const gone = await fakeServer(() => ({ status: 200, type: 'text/plain', body: '' }));
    await gone.close();
    const res = await t.api('jira').post('/destinations/probe', { url: `${gone.url}/nodes/ado` });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('DESTINATION_UNREACHABLE');
    expect(res.body.error.message).toMatch(/connection refused/);
    expect(res.body.error.message).toMatch(/I don't have a URL/);
  });

  it('reports a server that is not an Exalate node', async () => {
    const web = await fakeServer(() => ({ status: 200, type: 'text/html', body: '<html>Welcome to Jira</html>' }));
    const notFound = await fakeServer(() => ({ status: 404, type: 'text/html', body: 'not found' }));
    for (const url of [web.url, notFound.url]) {
      const res = await t.api('jira').post('/destinations/probe', { url });
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('DESTINATION_NOT_A_NODE');
    }
    await web.close();
    await notFound.close();
  });

  it('reports a node that speaks an incompatible protocol version', async () => {
    const info = (await fetch(`${t.url('ado')}/api/v1/node-info`).then((r) => r.json())) as Record<string, unknown>;
    const future = await fakeServer(() => ({
      status: 200,
      type: 'application/json',
      body: JSON.stringify({ ...info, instanceId: '7d1f4f52-6a43-4b7e-9f1e-0c0c0c0c0c0c', protocol: { min: 5, max: 6 } }),
    }));
    const res = await t.api('jira').post('/destinations/probe', { url: future.url });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('DESTINATION_PROTOCOL_INCOMPATIBLE');
    expect(res.body.error.message).toMatch(/5–6/);
    await future.close();
  });

  it('refuses this node itself', async () => {
    const res = await t.api('jira').post('/destinations/probe', { url: t.url('jira') });
    expect(res.body.error.code).toBe('DESTINATION_IS_THIS_NODE');
  });

  it('refuses initiating with a failed destination and leaves nothing behind', async () => {
    const before = await connectionNames('jira');
    const res = await initiate({ destinationUrl: 'https://10.0.0.1/nodes/x', name: 'never' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await connectionNames('jira')).toEqual(before);
  });
});

describe('connection fields', () => {
  it.each([
    ['empty', { localShortName: '' }, 'localShortName', /required/],
    ['with spaces', { remoteShortName: 'my ado' }, 'remoteShortName', /spaces/],
    ['with other characters', { localShortName: 'jira/1' }, 'localShortName', /not valid/],
  ])('refuses a short name that is %s', async (_what, fields, field, message) => {
    const res = await initiate(fields);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('SHORT_NAME_INVALID');
    expect(res.body.error.fields[field]).toMatch(message);
  });

  it('refuses an unknown project and names the ones there are', async () => {
    const res = await initiate({ project: 'NOPE' });
    expect(res.body.error).toMatchObject({ code: 'PROJECT_UNKNOWN', message: expect.stringContaining('SUP') });
  });

  it('refuses a duplicate connection name (any letter case)', async () => {
    expect((await initiate({ name: 'Escalations' })).status).toBe(201);
    const dup = await initiate({ name: 'escalations' });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'CONNECTION_NAME_TAKEN', fields: { name: expect.any(String) } });
    expect((await connectionNames('jira')).filter((n) => n.toLowerCase() === 'escalations')).toHaveLength(1);
  });

  it('refuses a mode the partner does not offer', async () => {
    const basicOnly = await startTestServer('pglite', [nodeConfig('basic', { modes: ['BASIC'] })]);
    const res = await initiate({ destinationUrl: basicOnly.url('basic'), mode: 'SCRIPT', name: 'script-to-basic' });
    expect(res.body.error.code).toBe('MODE_NOT_SUPPORTED');
    expect(res.body.error.message).toMatch(/Basic/);
    await basicOnly.close();
  });
});

describe('invitation code (Accept invitation)', () => {
  // ServiceNow's "projects" are its tables.
  const accept = (node: string, code: string, extra: Record<string, unknown> = {}) =>
    t.api(node).post('/invitations/accept', { code, project: node === 'snow' ? 'incident' : 'SUP', ...extra });

  async function expectRefused(node: string, code: string, errorCode: string, status?: number) {
    const before = await connectionNames(node);
    const preview = await t.api(node).post('/invitations/preview', { code });
    const res = await accept(node, code);
    expect(res.body.error?.code).toBe(errorCode);
    if (status) expect(res.status).toBe(status);
    expect(res.body.error.message.length).toBeGreaterThan(20);
    expect(await connectionNames(node)).toEqual(before);
    return { preview, res };
  }

  it('tells truncated and mistyped codes apart from foreign text', async () => {
    const { invitationCode } = (await initiate({ name: 'typos' })).body;
    await expectRefused('ado', invitationCode.slice(0, -20), 'INVITATION_CODE_DAMAGED', 400);
    const i = Math.floor(invitationCode.length / 2);
    await expectRefused('ado', invitationCode.slice(0, i) + (invitationCode[i] === 'x' ? 'y' : 'x') + invitationCode.slice(i + 1), 'INVITATION_CODE_DAMAGED');
    await expectRefused('ado', 'ghp_notAnInvitationCodeAtAll1234567890', 'INVITATION_CODE_NOT_RECOGNIZED');
    await expectRefused('ado', '', 'INVITATION_CODE_EMPTY');
    // The genuine code still works afterwards: failed attempts consumed nothing.
    expect((await accept('ado', invitationCode, { name: 'typos' })).status).toBe(201);
  });

  it('refuses an expired code', async () => {
    const shortLived = await startTestServer('pglite', [nodeConfig('jira')], { invitationTtlMs: 1 });
    const { invitationCode } = (
      await shortLived.api('jira').post('/connections', {
        destinationUrl: null,
        mode: 'BASIC',
        localShortName: 'jira',
        remoteShortName: 'ado',
        project: 'SUP',
      })
    ).body;
    await new Promise((r) => setTimeout(r, 10));
    const { preview } = await expectRefused('ado', invitationCode, 'INVITATION_EXPIRED', 410);
    expect(preview.body.error.code).toBe('INVITATION_EXPIRED');
    expect((await shortLived.api('jira').get('/connections')).body.connections[0].statusReason).toMatch(/expired/);
    await shortLived.close();
  });

  it('refuses a code that was already used, on the same node and on another', async () => {
    const { invitationCode } = (await initiate({ destinationUrl: null, name: 'once' })).body;
    expect((await accept('ado', invitationCode)).status).toBe(201);
    await expectRefused('ado', invitationCode, 'INVITATION_ALREADY_USED');
    await expectRefused('snow', invitationCode, 'INVITATION_ALREADY_USED', 409);
  });

  it('refuses a revoked code', async () => {
    const { invitationCode, connection } = (await initiate({ name: 'revoked-one' })).body;
    await t.api('jira').post(`/connections/${connection.id}/revoke-invitation`);
    await expectRefused('ado', invitationCode, 'INVITATION_REVOKED', 410);
  });

  it('refuses a code addressed to another node', async () => {
    const { invitationCode } = (await initiate({ name: 'for-ado' })).body;
    const { preview } = await expectRefused('snow', invitationCode, 'INVITATION_NOT_FOR_THIS_NODE');
    expect(preview.body.error.message).toContain(t.url('ado'));
  });

  it('refuses a code on the node that created it', async () => {
    const { invitationCode } = (await initiate({ destinationUrl: null, name: 'own' })).body;
    await expectRefused('jira', invitationCode, 'INVITATION_FROM_THIS_NODE');
  });

  it('refuses a well-formed code the initiator never issued (forged secret)', async () => {
    const { invitationCode } = (await initiate({ destinationUrl: null, name: 'forged' })).body;
    const decoded = decodeInvitationCode(invitationCode);
    if (!decoded.ok) throw new Error('setup');
    const forged = encodeInvitationCode({ ...decoded.value, secret: 'B'.repeat(43) });
    await expectRefused('ado', forged, 'INVITATION_UNKNOWN', 404);
    // The forgery did not burn the genuine invitation.
    expect((await accept('ado', invitationCode, { name: 'forged' })).status).toBe(201);
  });

  it("asks for another name when the invitation's name is taken here, and accepts with one", async () => {
    await t
      .api('ado')
      .post('/connections', { destinationUrl: null, mode: 'BASIC', localShortName: 'ado', remoteShortName: 'x', project: 'SUP', name: 'clash' });
    const { invitationCode } = (await initiate({ name: 'clash' })).body;
    expect((await t.api('ado').post('/invitations/preview', { code: invitationCode })).body.nameTaken).toBe(true);
    await expectRefused('ado', invitationCode, 'CONNECTION_NAME_TAKEN', 409);
    expect((await accept('ado', invitationCode, { name: 'clash-from-jira' })).body.connection.name).toBe('clash-from-jira');
  });

  it('reports an unreachable initiator, creates nothing, and works once it is back', async () => {
    const away = await startTestServer('pglite', [nodeConfig('away')]);
    const { invitationCode } = (
      await away.api('away').post('/connections', {
        destinationUrl: null,
        mode: 'BASIC',
        localShortName: 'away',
        remoteShortName: 'ado',
        project: 'SUP',
      })
    ).body;
    await away.stop();
    await expectRefused('ado', invitationCode, 'INITIATOR_UNREACHABLE', 502);
    await away.restart();
    expect((await accept('ado', invitationCode)).body.connection.status).toBe('ACTIVE');
    await away.close();
  });
});

describe('bodies are read only once the caller is authenticated, and only up to their limit', () => {
  /**
   * Sends the headers and a first kilobyte of a body announced as `announced` bytes, and never the
   * rest: an answer can only come from a server that decided without reading the body.
   */
  function answerBeforeBody(
    url: string,
    headers: Record<string, string>,
    announced: number,
  ): Promise<{ status: number; connection: string | undefined; body: { error?: { code: string; message: string } } }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(announced) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
        });
      });
      req.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.write(`{"events":"${'x'.repeat(1024)}`);
    });
  }

  it('the peer API refuses an unsigned 39 MB body without reading it', async () => {
    const { connection } = (await initiate({ name: 'peer-body' })).body;
    const res = await answerBeforeBody(`${t.url('jira')}/api/v1/peer/connections/${connection.id}/events`, {}, 39 * 1024 * 1024);
    // …and ends the connection, rather than reading the rest of it to keep the connection open.
    expect(res).toMatchObject({ status: 401, connection: 'close', body: { error: { code: 'PEER_AUTH_FAILED' } } });
    // The same with a token that is no signature of this connection's key.
    const forged = await answerBeforeBody(
      `${t.url('jira')}/api/v1/peer/connections/${connection.id}/events`,
      { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' },
      39 * 1024 * 1024,
    );
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'PEER_AUTH_FAILED' } } });
    // An unsigned handshake message larger than any is refused from its length.
    expect(await answerBeforeBody(`${t.url('jira')}/api/v1/peer/handshake/accept`, {}, 10 * 1024 * 1024)).toMatchObject({
      status: 413,
      body: { error: { code: 'REQUEST_TOO_LARGE', message: expect.stringContaining('64 KB at most') } },
    });
  });

  it('the admin API refuses a body from a caller who is not signed in without reading it, and says its real limit', async () => {
    expect(await answerBeforeBody(`${t.url('jira')}/api/v1/connections`, { authorization: 'Bearer wrong' }, 5 * 1024 * 1024)).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED' } },
    });
    expect(await answerBeforeBody(`${t.url('jira')}/api/v1/connections`, {}, 5 * 1024 * 1024)).toMatchObject({ status: 401 });
    // Signed in, a body announced past the limit is refused from its length.
    const announced = await answerBeforeBody(`${t.url('jira')}/api/v1/connections`, { authorization: `Bearer ${t.token('jira')}` }, 2 * 1024 * 1024);
    expect(announced).toMatchObject({
      status: 413,
      body: { error: { code: 'REQUEST_TOO_LARGE', message: 'The request body is too large: this endpoint takes 1 MB at most.' } },
    });
    // And one that is sent whole, too.
    const sent = await t.api('jira').post('/connections', {
      destinationUrl: null,
      mode: 'BASIC',
      localShortName: 'jira',
      remoteShortName: 'x',
      project: 'SUP',
      description: 'x'.repeat(1024 * 1024 + 10),
    });
    expect(sent).toMatchObject({ status: 413, body: { error: { code: 'REQUEST_TOO_LARGE' } } });
  });

  it('a webhook call without the subscription’s secret is refused without reading its body', async () => {
    expect(await answerBeforeBody(`${t.url('ado')}/api/v1/tracker-events`, {}, 4 * 1024 * 1024)).toMatchObject({
      status: 401,
      body: { error: { code: 'WEBHOOK_REJECTED' } },
    });
  });
});

describe('text that cannot be stored, or is not what it looks like', () => {
  it('refuses a NUL character in a connection name, a description, a rule or a trigger, naming the field', async () => {
    const name = await initiate({ name: 'nul\u0000name' });
    expect(name).toMatchObject({ status: 400, body: { error: { code: 'INVALID_CHARACTER', fields: { name: 'Contains a NUL character (U+0000).' } } } });
    expect(name.body.error.message).toContain('name contains a NUL character (U+0000), which cannot be stored');
    expect(await initiate({ name: 'nul-description', description: 'a\u0000b' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_CHARACTER', fields: { description: expect.any(String) } } },
    });
    const made = await initiate({ name: 'nul-rules', mode: 'SCRIPT', destinationUrl: null, remoteShortName: 'x' });
    const id = made.body.connection.id as string;
    expect(await t.api('jira').put(`/connections/${id}/rules`, { outgoing: 'replica.summary = "a\u0000";' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_CHARACTER', fields: { outgoing: expect.any(String) } } },
    });
    expect(await t.api('jira').post(`/connections/${id}/triggers`, { query: 'project = SUP\u0000' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_CHARACTER', fields: { query: expect.any(String) } } },
    });
    // Nothing was stored: the rules are still the defaults.
    expect((await t.api('jira').get(`/connections/${id}/rules`)).body.outgoingIsDefault).toBe(true);
  });

  it('refuses a body nested deeper than any request of the API', async () => {
    const deep = '['.repeat(1000) + ']'.repeat(1000);
    const res = await fetch(`${t.url('jira')}/api/v1/invitations/preview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token('jira')}`, 'content-type': 'application/json' },
      body: `{"code":${deep}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('nests deeper than 64 levels'),
    });
  });

  const codeOf = (doc: string) => Buffer.from(doc).toString('base64url');

  it('refuses an invitation code whose body is nested thousands deep, as no code', async () => {
    const deep = '['.repeat(6000) + ']'.repeat(6000);
    const res = await t.api('ado').post('/invitations/preview', { code: codeOf(`{"format":"exalate.invitation","version":1,"body":${deep},"checksum":"x"}`) });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'INVITATION_CODE_NOT_RECOGNIZED', fields: { code: expect.any(String) } } } });
    expect((await t.api('ado').post('/invitations/preview', { code: 'A'.repeat(20_000) })).body.error.code).toBe('INVITATION_CODE_NOT_RECOGNIZED');
  });

  it('refuses an invitation code of a format version no node issues', async () => {
    for (const version of [0, -1]) {
      const res = await t
        .api('ado')
        .post('/invitations/preview', { code: codeOf(`{"format":"exalate.invitation","version":${version},"body":{},"checksum":"x"}`) });
      expect(res).toMatchObject({
        status: 400,
        body: {
          error: { code: 'INVITATION_CODE_UNSUPPORTED_VERSION', message: expect.stringContaining(`format version ${version}, which no Exalate node issues`) },
        },
      });
    }
  });

  it('takes a name that differs from another only by invisible characters for the same name', async () => {
    expect((await initiate({ name: 'Acme Support' })).status).toBe(201);
    for (const lookalike of ['Acme\u200B Support', ' Acme  Support ', 'Acme\u00A0Support', 'Acme Sup\u200Dport', '\uFEFFacme support', 'Acme\u2028Support']) {
      expect(await initiate({ name: lookalike })).toMatchObject({ status: 409, body: { error: { code: 'CONNECTION_NAME_TAKEN' } } });
    }
    // What is stored is the normalized name.
    const made = await initiate({ name: 'Cafe\u0301\u200B Team' });
    expect(made.body.connection.name).toBe('Café Team');
  });
});

describe('requests the node cannot read', () => {
  it('refuses a NUL in the path, and a body in an encoding it does not know, as the request’s fault', async () => {
    expect((await t.api('jira').get('/connections/abc%00def')).body.error.code).toBe('INVALID_CHARACTER');
    expect((await fetch(`${t.url('jira')}/api/v1/peer/connections/abc%00/confirm`, { method: 'POST', body: '{}' })).status).toBe(400);
    const res = await fetch(`${t.url('jira')}/api/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.token('jira')}`, 'content-type': 'application/json', 'content-encoding': 'compress' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('could not be read'),
    });
  });
});

describe('item types', () => {
  it("are listed only for a signed-in admin of this node (another node's token is refused)", async () => {
    expect((await fetch(`${t.url('jira')}/api/v1/item-types`)).status).toBe(401);
    expect((await fetch(`${t.url('jira')}/api/v1/item-types`, { headers: { authorization: `Bearer ${t.token('ado')}` } })).status).toBe(401);
    expect((await t.api('jira').get('/item-types%00')).body.error.code).toBe('INVALID_CHARACTER');
    expect((await t.api('snow').get('/item-types')).body.itemTypes).toEqual(expect.arrayContaining(['incident']));
  });
});

describe('sync now', () => {
  it('says an item that does not exist was not found, whatever the key looks like', async () => {
    const init = await initiate({ name: 'sync-now-keys' });
    expect((await t.api('ado').post('/invitations/accept', { code: init.body.invitationCode, project: 'SUP', name: 'sync-now-keys' })).status).toBe(201);
    const id = init.body.connection.id as string;
    for (const key of ['SUP-999', 'not a key', '42']) {
      expect(await t.api('jira').post(`/connections/${id}/sync-now`, { key })).toMatchObject({ status: 404, body: { error: { code: 'ITEM_NOT_FOUND' } } });
    }
    for (const key of ['999999', 'SUP-1', 'INC0010001']) {
      const res = await t.api('ado').post(`/connections/${id}/sync-now`, { key });
      expect(res).toMatchObject({ status: 404, body: { error: { code: 'ITEM_NOT_FOUND', message: expect.stringContaining('a work item id, such as 42') } } });
    }
  });
});
