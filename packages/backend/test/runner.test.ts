import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodesFromFile, runFromEnv } from '../src/index.js';
import { capturingLogger } from './support.js';

describe('npm start (the sandbox)', () => {
  it('starts four nodes, writes the env file, pairs the Jira Data Center app and the ServiceNow application, keeps tokens across restarts, and never logs a secret', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'exalate-sandbox-'));
    const env = { EXALATE_PORT: '0', EXALATE_DATA_DIR: dataDir };
    const log = capturingLogger('debug');
    const out: string[] = [];
    let server = await runFromEnv(env, log.logger, (l) => out.push(l));
    const envFile = join(dataDir, 'sandbox.env');
    expect(statSync(envFile).mode & 0o077).toBe(0);
    const vars = Object.fromEntries([...readFileSync(envFile, 'utf8').matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(vars).sort()).toEqual(['ADO', 'ADO_TOKEN', 'JIRA', 'JIRADC', 'JIRADC_TOKEN', 'JIRA_TOKEN', 'SNOW', 'SNOW_TOKEN']);
    expect(out.join('\n')).toMatch(/private/);
    // The Jira Data Center has the app from the built jar (npm test builds it), paired with its node.
    const jiraPage = /Exalate app in Jira Data Center .*: (http\S+\/plugins\/servlet\/exalate\/connections)/.exec(out.join('\n'))?.[1];
    expect(jiraPage).toBeDefined();
    const published = await (await fetch(new URL('/plugins/servlet/exalate/node', jiraPage))).json();
    expect(published).toEqual({ product: 'exalate', nodeUrl: vars['JIRADC'] });
    // The ServiceNow instance has the application from the built update set, paired with its node.
    const snowPage = /Exalate application in ServiceNow .*: (http\S+x_exalate_sync_exalate\.do\S*)/.exec(out.join('\n'))?.[1];
    expect(snowPage).toBeDefined();
    const snowSettings = await (
      await fetch(new URL('/api/x_exalate_sync/exalate/settings', snowPage), {
        headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` },
      })
    ).json();
    expect(snowSettings).toMatchObject({ result: { nodeUrl: vars['SNOW'] } });

    const call = (url: string, token: string, body?: unknown) =>
      fetch(url, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- reads a few fields
      }).then((r) => r.json() as Promise<any>);
    const init = await call(`${vars['JIRA']}/api/v1/connections`, vars['JIRA_TOKEN']!, {
      destinationUrl: vars['ADO'],
      mode: 'SCRIPT',
      localShortName: 'jira',
      remoteShortName: 'ado',
      project: 'SUP',
    });
    const accepted = await call(`${vars['ADO']}/api/v1/invitations/accept`, vars['ADO_TOKEN']!, { code: init.invitationCode, project: 'Development' });
    expect(accepted.connection.status).toBe('ACTIVE');
    const secret = JSON.parse(Buffer.from(init.invitationCode, 'base64url').toString()).body.secret as string;
    const key = (await server.nodes.get('ado')!.service.repository.find(accepted.connection.id))!.connection_key!;

    await server.close();
    server = await runFromEnv(env, log.logger, () => undefined);
    const again = Object.fromEntries([...readFileSync(envFile, 'utf8').matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(again['JIRA_TOKEN']).toBe(vars['JIRA_TOKEN']);
    await server.close();

    const text = log.text();
    expect(text).toMatch(/connection established/);
    for (const s of [init.invitationCode, secret, key, vars['JIRA_TOKEN'], vars['ADO_TOKEN']]) expect(text).not.toContain(s);
  });
});

describe('EXALATE_NODES_FILE', () => {
  const file = (content: unknown) => {
    const path = join(mkdtempSync(join(tmpdir(), 'exalate-nodes-')), 'nodes.json');
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const node = { id: 'jira', tracker: { kind: 'jira-datacenter', url: 'https://jira.acme.com', secretEnv: 'JIRA_PAT' }, adminTokenEnv: 'JIRA_ADMIN_TOKEN' };

  it('reads nodes with their admin tokens and tracker secrets from the environment', () => {
    expect(nodesFromFile(file([node]), { JIRA_ADMIN_TOKEN: 'x'.repeat(32), JIRA_PAT: 'pat' })).toEqual([
      {
        id: 'jira',
        tracker: { kind: 'jira-datacenter', url: 'https://jira.acme.com', secret: 'pat' },
        private: false,
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        adminToken: 'x'.repeat(32),
      },
    ]);
  });

  it('says what is wrong with a bad file', () => {
    expect(() => nodesFromFile(file('{'), {})).toThrow(/could not be read as JSON/);
    expect(() => nodesFromFile(file([{ ...node, tracker: { ...node.tracker, kind: 'github' } }]), {})).toThrow(/0\.tracker\.kind/);
    expect(() => nodesFromFile(file([node]), { JIRA_PAT: 'pat' })).toThrow(/JIRA_ADMIN_TOKEN .* is not set/);
    expect(() => nodesFromFile(file([node]), { JIRA_ADMIN_TOKEN: 'x'.repeat(32) })).toThrow(/JIRA_PAT .* is not set/);
  });
});

describe('EXALATE_PUBLIC_URL', () => {
  it('is normalized the way the wizard normalizes a typed node URL, and checked', async () => {
    const { serverConfigFromEnv } = await import('../src/index.js');
    expect(serverConfigFromEnv({ EXALATE_PUBLIC_URL: 'https://Exalate.ACME.com:443/sync/' }, []).publicUrl).toBe('https://exalate.acme.com/sync');
    expect(() => serverConfigFromEnv({ EXALATE_PUBLIC_URL: 'exalate.acme.com' }, [])).toThrow(/not a URL/);
    expect(() => serverConfigFromEnv({ EXALATE_PEER_ALLOWED_CIDRS: '10.0.0.0/33' }, [])).toThrow(/not a CIDR/);
  });
});

describe('EXALATE_MAX_ATTACHMENT_MB', () => {
  it('lowers the attachment limit, and refuses to raise it past what the peer API carries', async () => {
    const { serverConfigFromEnv } = await import('../src/index.js');
    expect(serverConfigFromEnv({}, []).maxAttachmentBytes).toBe(25 * 1024 * 1024);
    expect(serverConfigFromEnv({ EXALATE_MAX_ATTACHMENT_MB: '10' }, []).maxAttachmentBytes).toBe(10 * 1024 * 1024);
    expect(() => serverConfigFromEnv({ EXALATE_MAX_ATTACHMENT_MB: '100' }, [])).toThrow(/EXALATE_MAX_ATTACHMENT_MB "100" is above 25.*Set 25 or less/);
    expect(() => serverConfigFromEnv({ EXALATE_MAX_ATTACHMENT_MB: 'lots' }, [])).toThrow(/must be a positive number/);
  });
});
