import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeInvitationCode } from '@exalate/contract';
import { defaultRules } from '@exalate/scripting';
import { newNonce, proofOfSecret } from '../src/peer/handshake-crypto.js';
import { capturingLogger, eventually } from './support.js';
import { startSyncPair } from './sync-support.js';

/**
 * The log of a connection's whole life, read as an operator would: it holds no secret (tokens,
 * tracker credentials, invitation codes and their secrets, connection keys, the server's key), and
 * every error code the life ran into, readable.
 */
it('holds no secret and every error code', async () => {
  const log = capturingLogger('debug');
  const p = await startSyncPair('pglite', 'jira', 'ado', { logger: log.logger });
  try {
    const server = p.server('a');
    const node = (id: 'a' | 'b') => server.server.nodes.get(id)!;
    // A second invitation, made for b's URL, that a third party tries to accept in b's name.
    const init = await p
      .api('a')
      .post('/connections', { destinationUrl: server.url('b'), mode: 'SCRIPT', localShortName: 'a', remoteShortName: 'b', project: 'SUP', name: 'second' });
    const code = init.body.invitationCode as string;
    const decoded = decodeInvitationCode(code);
    if (!decoded.ok) throw new Error('setup');
    const { connectionId, secret } = decoded.value;
    const nonce = newNonce();
    const b = node('b').nodeInfo;
    const forged = await fetch(`${server.url('a')}/api/v1/peer/handshake/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        protocolVersion: 1,
        connectionId,
        acceptor: { node: b },
        nonce,
        proof: proofOfSecret(secret, 'accept', connectionId, b.instanceId, nonce),
      }),
    });
    expect(forged.status).toBe(403);
    // The real acceptance, previewed first (the code travels in both bodies).
    expect((await p.api('b').post('/invitations/preview', { code })).status).toBe(200);
    expect((await p.api('b').post('/invitations/accept', { code, project: 'Development', name: 'second' })).status).toBe(201);

    // Unsigned and forged peer requests, a webhook call without the secret.
    expect((await fetch(`${server.url('a')}/api/v1/peer/connections/${p.connectionId}/events`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect(
      (
        await fetch(`${server.url('a')}/api/v1/peer/connections/${p.connectionId}/events`, {
          method: 'POST',
          headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.e30.eA' },
          body: '{}',
        })
      ).status,
    ).toBe(401);
    expect(
      (await fetch(`${server.url('b')}/api/v1/tracker-events`, { method: 'POST', headers: { authorization: 'Basic bm90Om91cnM=' }, body: '{}' })).status,
    ).toBe(401);

    // Items: one syncs, one whose incoming rule throws, one whose rule never ends.
    const failing = `if (replica.summary.indexOf('boom') >= 0) throw new Error('no team for ' + replica.key);\nif (replica.summary.indexOf('loop') >= 0) while (true) {}\n${defaultRules('AZURE_DEVOPS').incoming}`;
    expect((await p.api('b').put(`/connections/${p.connectionId}/rules`, { incoming: failing })).status).toBe(200);
    const fine = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'log test: fine' });
    const boom = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'log test: boom' });
    const loop = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'log test: loop' });
    await p.twinOf('a', fine.key);
    await eventually(async () => {
      for (const key of [boom.key, loop.key]) expect((await p.api('b').get(`/connections/${p.connectionId}/items/${key}`)).body.status).toBe('FAILED');
    }, 20_000);
    // The tracker refuses for a while: the item waits and is retried.
    p.b.faults.inject({ status: 503, times: 3 });
    const later = await p.a.human.createItem({ project: 'SUP', type: 'Bug', summary: 'log test: later' });
    await p.twinOf('a', later.key);

    const text = log.text();
    const secrets = [
      server.token('a'),
      server.token('b'),
      'sync-token',
      'alice-token',
      'sync-pat',
      'alice-pat',
      code,
      code.slice(40, 100),
      secret,
      (await node('a').service.repository.find(p.connectionId))!.connection_key!,
      (await node('a').service.repository.find(connectionId))!.connection_key!,
      readFileSync(join(server.dataDir, 'secret.key'), 'utf8').trim(),
    ];
    for (const s of secrets) expect({ secret: s.slice(0, 12), found: text.includes(s) }).toEqual({ secret: s.slice(0, 12), found: false });

    const codes = new Set(
      log
        .lines()
        .flatMap((l) => [l['code'], (l['err'] as { code?: unknown } | undefined)?.code])
        .filter((c): c is string => typeof c === 'string'),
    );
    for (const expected of ['ACCEPTOR_NOT_VERIFIED', 'PEER_AUTH_FAILED', 'WEBHOOK_REJECTED', 'SCRIPT_ERROR', 'SCRIPT_TIMEOUT'])
      expect(codes).toContain(expected);
    expect(text).not.toContain('"code":"[redacted]"');
  } finally {
    await p.close();
  }
}, 120_000);
