import { randomUUID } from 'node:crypto';
import { decodeInvitationCode, type NodeInfo } from '@exalate/contract';
import { signPeerRequest } from '../src/index.js';
import { deriveConnectionKey, keyConfirmation, newNonce, proofOfSecret } from '../src/peer/handshake-crypto.js';
import { nodeConfig, startTestServer, type TestServer } from './support.js';

/** The initiator's side of the handshake, driven by a hand-made acceptor. */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('pglite', [nodeConfig('jira')]);
});

function acceptor(): NodeInfo {
  return {
    product: 'exalate',
    nodeType: 'SERVICENOW',
    instanceId: randomUUID(),
    trackerUrl: 'https://acme.service-now.com',
    nodeUrl: null,
    protocol: { min: 1, max: 1 },
    modes: ['BASIC', 'VISUAL', 'SCRIPT'],
    pollOnly: true,
    version: 'test',
  };
}

async function accept(connectionId: string, secret: string, node: NodeInfo) {
  const nonce = newNonce();
  const res = await fetch(`${t.url('jira')}/api/v1/peer/handshake/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ protocolVersion: 1, connectionId, acceptor: { node }, nonce, proof: proofOfSecret(secret, 'accept', connectionId, node.instanceId, nonce) }),
  });
  const body = (await res.json()) as { nonce: string; confirm: string; error?: { code: string } };
  return { status: res.status, body, key: res.ok ? deriveConnectionKey(secret, connectionId, body.nonce, nonce) : null };
}

async function signedConfirm(connectionId: string, key: string, issuer: string) {
  const path = `/api/v1/peer/connections/${connectionId}/confirm`;
  const token = await signPeerRequest(key, { connectionId, issuer, audience: t.server.nodes.get('jira')!.nodeInfo.instanceId }, { method: 'POST', path, body: '{}' });
  return (await fetch(`${t.url('jira')}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })).status;
}

it('lets the same acceptor redo a handshake whose answer was lost, until it proves the key; then the secret is dead', async () => {
  const init = await t.api('jira').post('/connections', { destinationUrl: null, mode: 'BASIC', localShortName: 'jira', remoteShortName: 'snow', project: 'SUP' });
  const decoded = decodeInvitationCode(init.body.invitationCode);
  if (!decoded.ok) throw new Error('setup');
  const { connectionId, secret } = decoded.value;
  const me = acceptor();

  const first = await accept(connectionId, secret, me);
  expect(first.status).toBe(200);
  expect(first.body.confirm).toBe(keyConfirmation(first.key!, 'initiator', connectionId));

  // The answer "was lost": the same acceptor tries again and gets a fresh key.
  const retry = await accept(connectionId, secret, me);
  expect(retry.status).toBe(200);
  expect(retry.key).not.toBe(first.key);

  // Anyone else holding the code is refused.
  expect((await accept(connectionId, secret, acceptor())).body.error?.code).toBe('INVITATION_ALREADY_USED');

  // Only the latest key works; its first use kills the invitation secret.
  expect(await signedConfirm(connectionId, first.key!, me.instanceId)).toBe(401);
  expect(await signedConfirm(connectionId, retry.key!, me.instanceId)).toBe(204);
  expect((await accept(connectionId, secret, me)).body.error?.code).toBe('INVITATION_ALREADY_USED');
  expect((await t.api('jira').get(`/connections/${connectionId}`)).body).toMatchObject({ status: 'ACTIVE', partner: { instanceId: me.instanceId, private: true } });
});

it('refuses a proof made without the secret', async () => {
  const init = await t.api('jira').post('/connections', { destinationUrl: null, mode: 'BASIC', localShortName: 'jira', remoteShortName: 'x', project: 'SUP', name: 'guess' });
  const decoded = decodeInvitationCode(init.body.invitationCode);
  if (!decoded.ok) throw new Error('setup');
  const wrong = await accept(decoded.value.connectionId, 'A'.repeat(43), acceptor());
  expect(wrong).toMatchObject({ status: 404, body: { error: { code: 'INVITATION_UNKNOWN' } } });
  expect((await t.api('jira').get(`/connections/${decoded.value.connectionId}`)).body.status).toBe('PENDING');
});
