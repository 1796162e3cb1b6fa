import { randomBytes } from 'node:crypto';
import { nodeConfig, startTestServer } from './support.js';

// The secrets of connections (the connection key, and the invitation code or secret a Pending
// connection holds) are sealed in the database, and what an older node stored in the clear is
// sealed when it starts.
test('connection keys and invitation codes are sealed at rest, and plaintext ones are sealed at start', async () => {
  const key = randomBytes(32).toString('base64');
  const t = await startTestServer('pglite', [nodeConfig('jira'), nodeConfig('ado', { nodeType: 'AZURE_DEVOPS' })], { secretKey: key });
  const init = await t
    .api('jira')
    .post('/connections', { destinationUrl: t.url('ado'), mode: 'BASIC', localShortName: 'jira', remoteShortName: 'ado', project: 'SUP' });
  const pending = await t
    .api('jira')
    .post('/connections', { destinationUrl: null, mode: 'BASIC', localShortName: 'jira', remoteShortName: 'later', project: 'SUP' });
  expect((await t.api('ado').post('/invitations/accept', { code: init.body.invitationCode, project: 'SUP' })).status).toBe(201);
  const id = init.body.connection.id as string;
  const connectionKey = (await t.server.nodes.get('ado')!.service.repository.find(id))!.connection_key!;
  const raw = async (node: string) => JSON.stringify(await t.server.nodes.get(node)!.database.query(`select connection_key, handshake from connections`));
  expect(await raw('ado')).not.toContain(connectionKey);
  expect(await raw('jira')).not.toContain(connectionKey);
  expect(await raw('jira')).not.toContain(pending.body.invitationCode);
  // Copy invitation code still gives the exact code.
  expect((await t.api('jira').get(`/connections/${pending.body.connection.id}/invitation`)).body.invitationCode).toBe(pending.body.invitationCode);

  // A database from before sealing: put the key back in the clear, restart, and it is sealed again and still works.
  await t.server.nodes.get('ado')!.database.query(`update connections set connection_key = $1 where id = $2`, [connectionKey, id]);
  await t.restart({ secretKey: key });
  expect(await raw('ado')).not.toContain(connectionKey);
  expect((await t.server.nodes.get('ado')!.service.repository.find(id))!.connection_key).toBe(connectionKey);
  expect((await t.api('ado').post(`/connections/${id}/deactivate`)).body.status).toBe('DEACTIVATED');
  expect((await t.api('jira').get(`/connections/${id}`)).body.status).toBe('ACTIVE');

  // Another secret key cannot open them: the server does not start, and says which key to use.
  await t.stop();
  await expect(t.restart({ secretKey: randomBytes(32).toString('base64') })).rejects.toThrow(/cannot be opened with this server's secret key/);
  await t.restart({ secretKey: key });
  expect((await t.api('ado').get(`/connections/${id}`)).body.status).toBe('DEACTIVATED');
  await t.close();
});
