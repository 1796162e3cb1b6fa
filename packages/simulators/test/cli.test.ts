import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSimulatorArgs, startSimulator } from '../src/index.js';

it('parses its options and refuses unknown ones with the usage', () => {
  expect(parseSimulatorArgs(['ado', '--port', '8081', '--rate-limit', '100/60'])).toMatchObject({
    tracker: 'ado',
    port: 8081,
    rateLimit: { limit: 100, windowMs: 60_000 },
  });
  expect(() => parseSimulatorArgs([])).toThrow(/Usage/);
  expect(() => parseSimulatorArgs(['ado', '--colour', 'red'])).toThrow(/Unknown option --colour/);
  expect(() => parseSimulatorArgs(['ado', '--port'])).toThrow(/needs a value/);
});

it('starts the Azure DevOps simulator alone and saves its state file', async () => {
  const stateFile = join(mkdtempSync(join(tmpdir(), 'sim-cli-')), 'ado.json');
  const started = await startSimulator({ tracker: 'ado', port: 0, stateFile, rateLimit: null });
  const res = await fetch(`${started.running.url}/acme/_apis/projects?api-version=7.1`, {
    headers: { authorization: `Basic ${Buffer.from(':alice-pat').toString('base64')}` },
  });
  expect(res.status).toBe(200);
  expect(started.describe.join('\n')).toMatch(/alice-pat/);
  started.save();
  expect(existsSync(stateFile)).toBe(true);
  await started.running.close();
  await expect(startSimulator({ tracker: 'gitlab', port: 0, stateFile: null, rateLimit: null })).rejects.toThrow(/no simulator "gitlab"/);
});

it.each([
  ['jira-cloud', '/rest/api/3/myself', 'alice@acme.example:alice-token'],
  ['jira-dc', '/rest/api/2/myself', 'alice:alice-password'],
  ['servicenow', '/api/now/table/incident', 'admin:admin-password'],
])('starts the %s simulator alone', async (tracker, path, login) => {
  const started = await startSimulator({ tracker, port: 0, stateFile: null, rateLimit: null });
  const res = await fetch(`${started.running.url}${path}`, { headers: { authorization: `Basic ${Buffer.from(login).toString('base64')}` } });
  expect(res.status).toBe(200);
  expect(started.describe.join('\n')).toContain(login.split(':')[0]!);
  await started.running.close();
});
