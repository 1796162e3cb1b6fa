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
    body: JSON.stringify({
      protocolVersion: 1,
      connectionId,
      acceptor: { node },
      nonce,
      proof: proofOfSecret(secret, 'accept', connectionId, node.instanceId, nonce),
    }),
  });
  const body = (await res.json()) as { nonce: string; confirm: string; error?: { code: string } };
  return { status: res.status, body, key: res.ok ? deriveConnectionKey(secret, connectionId, body.nonce, nonce) : null };
}

async function signedConfirm(connectionId: string, key: string, issuer: string) {
  const path = `/api/v1/peer/connections/${connectionId}/confirm`;
  const token = await signPeerRequest(
    key,
    { connectionId, issuer, audience: t.server.nodes.get('jira')!.nodeInfo.instanceId },
    { method: 'POST', path, body: '{}' },
  );
  return (
    await fetch(`${t.url('jira')}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
  ).status;
}

it('lets the same acceptor redo a handshake whose answer was lost, until it proves the key; then the secret is dead', async () => {
  const init = await t
    .api('jira')
    .post('/connections', { destinationUrl: null, mode: 'BASIC', localShortName: 'jira', remoteShortName: 'snow', project: 'SUP' });
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
  expect((await t.api('jira').get(`/connections/${connectionId}`)).body).toMatchObject({
    status: 'ACTIVE',
    partner: { instanceId: me.instanceId, private: true },
  });
});

it('refuses a proof made without the secret', async () => {
  const init = await t
    .api('jira')
    .post('/connections', { destinationUrl: null, mode: 'BASIC', localShortName: 'jira', remoteShortName: 'x', project: 'SUP', name: 'guess' });
  const decoded = decodeInvitationCode(init.body.invitationCode);
  if (!decoded.ok) throw new Error('setup');
  const wrong = await accept(decoded.value.connectionId, 'A'.repeat(43), acceptor());
  expect(wrong).toMatchObject({ status: 404, body: { error: { code: 'INVITATION_UNKNOWN' } } });
  expect((await t.api('jira').get(`/connections/${decoded.value.connectionId}`)).body.status).toBe('PENDING');
});

describe('an invitation made for a URL', () => {
  /** Initiator, the invited node, and a third node that got hold of the code. */
  let three: TestServer;
  beforeAll(async () => {
    three = await startTestServer('pglite', [
      nodeConfig('init'),
      nodeConfig('invited', { nodeType: 'AZURE_DEVOPS' }),
      nodeConfig('third', { nodeType: 'SERVICENOW' }),
    ]);
  });
  afterAll(() => three.close());

  /** The handshake request as a third party holding the code would forge it, in `node`'s name. */
  async function forgedAccept(code: string, node: NodeInfo) {
    const decoded = decodeInvitationCode(code);
    if (!decoded.ok) throw new Error('setup');
    const { connectionId, secret } = decoded.value;
    const nonce = newNonce();
    const res = await fetch(`${three.url('init')}/api/v1/peer/handshake/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        protocolVersion: 1,
        connectionId,
        acceptor: { node },
        nonce,
        proof: proofOfSecret(secret, 'accept', connectionId, node.instanceId, nonce),
      }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  }

  it('is accepted only by the node at that URL, not by a third node holding the code', async () => {
    const init = await three
      .api('init')
      .post('/connections', { destinationUrl: three.url('invited'), mode: 'BASIC', localShortName: 'init', remoteShortName: 'invited', project: 'SUP' });
    expect(init.status).toBe(201);
    const code = init.body.invitationCode as string;
    const invited = three.server.nodes.get('invited')!.nodeInfo;

    // The third node's own admin is told at once that the code is not for it.
    expect((await three.api('third').post('/invitations/accept', { code, project: 'incident' })).body.error.code).toBe('INVITATION_NOT_FOR_THIS_NODE');
    // Claiming to be the invited node, as a private node (so that nothing is ever sent to that URL): refused.
    const asPrivate = await forgedAccept(code, { ...invited, pollOnly: true });
    expect(asPrivate).toMatchObject({ status: 400, body: { error: { code: 'INVITATION_NOT_FOR_THIS_NODE' } } });
    expect(asPrivate.body.error!.message).toContain('a private node cannot accept it');
    // Claiming to be the invited node, public: the initiator asks that node, which is accepting nothing.
    const asInvited = await forgedAccept(code, invited);
    expect(asInvited).toMatchObject({ status: 403, body: { error: { code: 'ACCEPTOR_NOT_VERIFIED' } } });
    expect(asInvited.body.error!.message).toContain(`created for the node at ${three.url('invited')}, and that node did not confirm`);
    // With its own node info and URL: not the invited node.
    expect(await forgedAccept(code, three.server.nodes.get('third')!.nodeInfo)).toMatchObject({
      status: 400,
      body: { error: { code: 'INVITATION_NOT_FOR_THIS_NODE' } },
    });

    // None of it used the invitation up: the invited node accepts, and both sides are Active.
    expect((await three.api('init').get(`/connections/${init.body.connection.id}`)).body.status).toBe('PENDING');
    const accepted = await three.api('invited').post('/invitations/accept', { code, project: 'SUP' });
    expect(accepted).toMatchObject({ status: 201, body: { connection: { status: 'ACTIVE' } } });
    expect((await three.api('init').get(`/connections/${init.body.connection.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      partner: { instanceId: invited.instanceId, nodeUrl: three.url('invited'), private: false },
    });
  });

  it('the invited node says it is accepting only while its own acceptance, by its nonce, is under way', async () => {
    const repo = three.server.nodes.get('invited')!.service.repository;
    const connectionId = randomUUID();
    const [ours, theirs] = [newNonce(), newNonce()];
    const ask = async (nonce: string) =>
      (await (
        await fetch(`${three.url('invited')}/api/v1/peer/handshake/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ connectionId, nonce }),
        })
      ).json()) as { accepting: boolean };
    expect(await ask(ours)).toEqual({ accepting: false });
    await repo.beginAcceptance(connectionId, ours, 60_000);
    expect(await ask(ours)).toEqual({ accepting: true });
    expect(await ask(theirs)).toEqual({ accepting: false });
    await repo.endAcceptance(connectionId, ours);
    expect(await ask(ours)).toEqual({ accepting: false });
  });
});
