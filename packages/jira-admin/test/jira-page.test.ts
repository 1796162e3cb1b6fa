// The Exalate page in Jira Data Center, run as an admin meets it: signed in to Jira, Settings → Apps
// → Exalate, the app's own servlet (from the built jar) serving the page and minting its tokens.
import type { Page } from 'playwright-core';
import { pairInPage, signInToJira, startJiraWorld, type JiraWorld } from './support.js';

let world: JiraWorld;
const pages: Page[] = [];
beforeAll(async () => {
  world = await startJiraWorld();
}, 60_000);
afterAll(() => world?.close());
afterEach(async () => {
  for (const p of pages.splice(0)) await p.context().close();
});
const open = async (user: 'alice' | 'bob', path: string) => {
  const page = await signInToJira(world, user, path);
  pages.push(page);
  return page;
};

test('a non-administrator sees neither the page nor a token', async () => {
  const page = await open('bob', '/plugins/servlet/exalate/connections');
  await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Only Jira system administrators can manage Exalate/);
  const token = await page.evaluate(async () => {
    const r = await fetch('/plugins/servlet/exalate/api/token', { method: 'POST', headers: { 'X-Atlassian-Token': 'no-check' } });
    return { status: r.status, body: (await r.json()) as { error: { code: string } } };
  });
  expect(token).toMatchObject({ status: 403, body: { error: { code: 'TRACKER_ADMIN_REQUIRED' } } });
});

test('Settings → Apps shows the Exalate menu from the app\'s descriptor; pairing in General settings makes Connections work', async () => {
  const page = await open('alice', '/plugins/servlet/upm');
  const sidebar = page.getByRole('navigation', { name: 'Apps administration' });
  await expect(sidebar.getByRole('link').allTextContents()).resolves.toEqual(['Manage apps', 'Connections', 'General settings']);
  await sidebar.getByRole('link', { name: 'Connections' }).click();
  // Not paired yet: the page opens General settings, where the pairing code goes.
  await page.getByRole('heading', { name: 'General settings' }).waitFor();
  await expect(page.getByRole('link', { name: 'Connections' }).getAttribute('aria-current')).resolves.toBe('page');

  // Without Jira's XSRF header, the app refuses the call.
  const noXsrf = await page.evaluate(async () => (await fetch('/plugins/servlet/exalate/api/token', { method: 'POST' })).status);
  expect(noXsrf).toBe(403);

  await page.getByLabel(/Pairing code/).fill('EXPAIR1.broken');
  await page.getByRole('button', { name: 'Pair' }).click();
  await page.getByText(/not a whole pairing code/).waitFor();

  await pairInPage(world, page);
  await page.getByRole('status').getByText(`Paired with the Exalate node at ${world.node('jira').url}`).waitFor();
  await expect(page.getByTestId('paired-with').textContent()).resolves.toContain(world.jiraUrl);

  // The app now publishes its node, for partners who enter this Jira's address.
  const published = await (await fetch(`${world.jiraUrl}/plugins/servlet/exalate/node`)).json();
  expect(published).toEqual({ product: 'exalate', nodeUrl: world.node('jira').url });

  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
  await page.getByText('No connections yet.').waitFor();
});
