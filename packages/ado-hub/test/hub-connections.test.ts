import type { FrameLocator } from 'playwright-core';
import { adminClient, hubSuite, seedNodeUrl } from './support.js';

// The Exalate hub in the Azure DevOps simulator's Organization settings, in Chromium: the real
// SDK handshake, app tokens verified by the node, the wizard core behind every screen.
const suite = hubSuite([{ name: 'acme' }, { name: 'globex' }, { name: 'initech', private: true }]);
const open = suite.open;

async function chooseProject(hub: FrameLocator, name: string): Promise<void> {
  await hub.getByRole('button', { name: 'Project for incoming sync' }).click();
  await hub.getByRole('option', { name }).click();
}

async function statusOf(hub: FrameLocator, connection: string): Promise<string> {
  return (await hub.locator(`tr[data-connection="${connection}"] [data-testid="status"]`).textContent()) ?? '';
}

/** Initiates from `org`'s hub and returns the invitation code, read from the clipboard after "Copy invitation code". */
async function initiate(org: string, o: { destination: string | null; local: string; remote: string }): Promise<string> {
  const { hub, page } = await open(org);
  await hub.getByRole('button', { name: 'Initiate connection' }).click();
  if (o.destination === null) await hub.getByRole('switch', { name: /I don't have a URL/ }).click();
  else await hub.getByLabel('Destination URL').fill(o.destination);
  await hub.getByRole('button', { name: 'Next' }).click();
  await hub.getByRole('radio', { name: /^Script/ }).click();
  await hub.getByRole('button', { name: 'Next' }).click();
  await hub.getByLabel('Local short name').fill(o.local);
  await hub.getByLabel('Remote short name').fill(o.remote);
  await hub.getByRole('button', { name: 'Next' }).click();
  await chooseProject(hub, 'Development');
  await hub.getByRole('button', { name: 'Initiate' }).click();
  await hub.getByRole('button', { name: 'Copy invitation code' }).click();
  await hub.getByRole('status').getByText('Invitation code copied').waitFor();
  const code = (await page.evaluate('navigator.clipboard.readText()')) as string;
  expect(code).toBe(await hub.getByLabel('Invitation code').inputValue());
  await hub.getByRole('button', { name: 'Done' }).click();
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  const name = `${o.local}_to_${o.remote}`;
  expect(await statusOf(hub, name)).toBe('Pending');
  // While Pending, the list gives the same code again.
  await page.evaluate("navigator.clipboard.writeText('')");
  await hub.getByRole('button', { name: `Copy invitation code: ${name}` }).click();
  await hub.getByRole('status').getByText('Invitation code copied').waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(code);
  return code;
}

async function accept(org: string, code: string, connection: string): Promise<void> {
  const { hub } = await open(org);
  await hub.getByRole('button', { name: 'Accept invitation' }).click();
  await hub.getByLabel('Invitation code').fill(code);
  await hub.getByRole('button', { name: 'Next' }).click();
  await expect(hub.getByTestId('invitation-preview').textContent()).resolves.toContain(connection);
  await hub.getByRole('button', { name: 'Next' }).click();
  await chooseProject(hub, 'Operations');
  await hub.getByRole('button', { name: 'Next' }).click();
  await hub.getByRole('button', { name: 'Confirm' }).click();
  await hub.getByRole('heading', { name: 'Congratulations! Connection is established' }).waitFor();
  await hub.getByRole('button', { name: 'Back to connections' }).click();
  expect(await statusOf(hub, connection)).toBe('Active');
}

/** acme initiates a public connection to globex and globex accepts it, each in its hub. */
async function connectAcmeToGlobex(local: string): Promise<string> {
  seedNodeUrl(suite.org('acme'));
  seedNodeUrl(suite.org('globex'));
  const code = await initiate('acme', { destination: suite.org('globex').nodeUrl, local, remote: 'Globex' });
  await accept('globex', code, `${local}_to_Globex`);
  return `${local}_to_Globex`;
}

test('initiates a public connection, and the second organization accepts it: both sides Active', async () => {
  await connectAcmeToGlobex('Acme');
  const { hub } = await open('acme');
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  expect(await statusOf(hub, 'Acme_to_Globex')).toBe('Active');
});

test('initiates for a private partner ("I don\'t have a URL"); the private organization accepts: both sides Active', async () => {
  const [acme, initech] = [suite.org('acme'), suite.org('initech')];
  seedNodeUrl(acme);
  seedNodeUrl(initech);
  const code = await initiate('acme', { destination: null, local: 'AcmeOps', remote: 'Initech' });
  await accept('initech', code, 'AcmeOps_to_Initech');
  const { hub } = await open('acme');
  await hub.getByRole('table', { name: 'Connections' }).waitFor();
  expect(await statusOf(hub, 'AcmeOps_to_Initech')).toBe('Active');
  expect(await hub.locator('tr[data-connection="AcmeOps_to_Initech"]').textContent()).toContain('private');
});

test('a bad invitation code is refused at once with what to do, and nothing is accepted', async () => {
  seedNodeUrl(suite.org('acme'));
  seedNodeUrl(suite.org('globex'));
  const { hub } = await open('globex');
  await hub.getByRole('button', { name: 'Accept invitation' }).click();
  await hub.getByLabel('Invitation code').fill('this is not an invitation code');
  await hub.getByRole('button', { name: 'Next' }).click();
  const alert = hub.getByRole('alert').first();
  await expect(alert.textContent()).resolves.toMatch(/INVITATION_CODE_NOT_RECOGNIZED/);
  await expect(hub.getByRole('heading', { name: /Step 1 of 4/ }).isVisible()).resolves.toBe(true);

  // A code that passes the format check but was damaged (one character changed in the body).
  const real = await initiate('acme', { destination: suite.org('globex').nodeUrl, local: 'Damaged', remote: 'Globex' });
  const damaged = real.slice(0, 60) + (real[60] === 'A' ? 'B' : 'A') + real.slice(61);
  const again = await open('globex');
  await again.hub.getByRole('button', { name: 'Accept invitation' }).click();
  await again.hub.getByLabel('Invitation code').fill(damaged);
  await again.hub.getByRole('button', { name: 'Next' }).click();
  await expect(again.hub.getByRole('alert').first().textContent()).resolves.toMatch(/INVITATION_CODE_DAMAGED/);
  const listed = await adminClient(suite.org('globex')).listConnections();
  expect(listed.ok && listed.value.connections.map((c) => c.name)).not.toContain('Damaged_to_Globex');
});

test('an unreachable destination URL is reported on the destination step, with the private-partner way out', async () => {
  seedNodeUrl(suite.org('acme'));
  const { hub } = await open('acme');
  await hub.getByRole('button', { name: 'Initiate connection' }).click();
  await hub.getByLabel('Destination URL').fill('http://127.0.0.1:9/nodes/nowhere');
  await hub.getByRole('button', { name: 'Next' }).click();
  await expect(hub.getByRole('alert').first().textContent()).resolves.toMatch(/DESTINATION_UNREACHABLE/);
  await expect(hub.getByRole('heading', { name: /Step 1 of 5: Destination/ }).isVisible()).resolves.toBe(true);
  await hub.getByRole('switch', { name: /I don't have a URL/ }).click();
  await hub.getByRole('button', { name: 'Next' }).click();
  await hub.getByRole('heading', { name: /Step 2 of 5: Mode/ }).waitFor();
});

test('from the list: deactivate, activate and delete a connection (after confirming)', async () => {
  const row = await connectAcmeToGlobex('Lifecycle');
  const { hub, page } = await open('acme');
  await hub.locator(`tr[data-connection="${row}"]`).waitFor();
  await hub.getByRole('button', { name: `Deactivate: ${row}` }).click();
  await hub.getByRole('status').getByText('Connection deactivated').waitFor();
  expect(await statusOf(hub, row)).toBe('Deactivated');
  await hub.getByRole('button', { name: `Activate: ${row}` }).click();
  await hub.getByRole('status').getByText('Connection activated').waitFor();
  expect(await statusOf(hub, row)).toBe('Active');

  // Dismissing the confirmation keeps the connection; accepting it deletes it.
  page.once('dialog', (dialog) => void dialog.dismiss());
  await hub.getByRole('button', { name: `Delete: ${row}` }).click();
  expect(await statusOf(hub, row)).toBe('Active');
  page.once('dialog', (dialog) => {
    expect(dialog.message()).toContain(`Delete the connection "${row}"?`);
    void dialog.accept();
  });
  await hub.getByRole('button', { name: `Delete: ${row}` }).click();
  await hub.getByRole('status').getByText('Connection deleted').waitFor();
  expect(await hub.locator(`tr[data-connection="${row}"]`).count()).toBe(0);
});
