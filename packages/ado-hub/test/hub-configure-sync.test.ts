import type { FrameLocator, Page } from 'playwright-core';
import { adminClient, connectViaApi, hubSuite, seedNodeUrl } from './support.js';

// Configure sync in the hub: rules in the code editor (a syntax error is shown at its line), a WIQL
// trigger checked with "Preview matching work items", bulk sync with its progress, and on the partner a
// failed item retried after its rule is mended, each in the Azure DevOps simulator's settings page.
let connectionId: string;
const suite = hubSuite([{ name: 'acme' }, { name: 'globex' }], async () => {
  seedNodeUrl(suite.org('acme'));
  seedNodeUrl(suite.org('globex'));
  connectionId = await connectViaApi(suite.org('acme'), suite.org('globex'), { local: 'Acme', remote: 'Globex' });
});

async function configure(org: string): Promise<{ hub: FrameLocator; page: Page }> {
  const opened = await suite.open(org);
  await opened.hub.getByRole('button', { name: 'Configure: Acme_to_Globex' }).click();
  await opened.hub.getByRole('heading', { name: 'Configure sync: Acme_to_Globex' }).waitFor();
  await opened.hub.getByRole('textbox', { name: 'Outgoing sync' }).waitFor();
  return opened;
}

/** Replaces the last line of a rule in the code editor, as an admin would type it. */
async function replaceLastLine(hub: FrameLocator, page: Page, editor: string, text: string): Promise<void> {
  await hub.getByRole('textbox', { name: editor }).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.insertText(text);
}

async function waitForText(hub: FrameLocator, text: string | RegExp): Promise<void> {
  await hub.getByText(text).first().waitFor({ timeout: 20_000 });
}

test('rules: a syntax error is shown under its rule with the line; mended, the rules are saved', async () => {
  const { hub, page } = await configure('acme');
  await replaceLastLine(hub, page, 'Outgoing sync', 'replica.summary = ;');
  await hub.getByRole('button', { name: 'Save rules' }).click();
  await waitForText(hub, /[Ll]ine \d+/);
  expect(await hub.locator('#outgoing-rule-error').textContent()).toMatch(/[Ll]ine \d+/);

  await replaceLastLine(hub, page, 'Outgoing sync', 'replica.labels = [...replica.labels, "from-acme"];');
  await hub.getByRole('button', { name: 'Save rules' }).click();
  await waitForText(hub, 'Sync rules saved');
  const saved = await adminClient(suite.org('acme')).getRules(connectionId);
  expect(saved.ok && saved.value.outgoing.trim().endsWith('replica.labels = [...replica.labels, "from-acme"];')).toBe(true);
  expect(saved.ok && saved.value.outgoingIsDefault).toBe(false);
  // Only the rule that changed was saved: the incoming rule is still the default.
  expect(saved.ok && saved.value.incomingIsDefault).toBe(true);
});

test('triggers: a WIQL query is previewed, saved, and bulk sync brings what it matches to the partner; a failure there is retried from the queue', async () => {
  const acme = suite.org('acme');
  const globex = suite.org('globex');
  const bug = acme.simulator.seedWorkItem({ project: 'Development', type: 'Bug', fields: { 'System.Title': 'Checkout is slow', 'System.Tags': 'sync' } });
  acme.simulator.seedWorkItem({ project: 'Development', type: 'Bug', fields: { 'System.Title': 'Not for the partner' } });
  // This side's outgoing rule labels what it sends (so the partner's copy shows the rule ran); the
  // partner's incoming rule fails first, so the item lands in its queue as Failed.
  const outgoing = await adminClient(acme).getRules(connectionId);
  if (!outgoing.ok) throw new Error(outgoing.error.message);
  if (!outgoing.value.outgoing.includes('"from-acme"')) {
    const labelled = `${outgoing.value.outgoing}\nreplica.labels = [...replica.labels, "from-acme"];`;
    expect((await adminClient(acme).saveRules(connectionId, { outgoing: labelled })).ok).toBe(true);
  }
  const broken = await adminClient(globex).saveRules(connectionId, { incoming: 'throw new Error("the partner is not ready");' });
  expect(broken.ok).toBe(true);

  const { hub } = await configure('acme');
  await hub.getByRole('button', { name: 'Add trigger' }).click();
  // The item type is chosen from the organization's types.
  await hub.getByRole('button', { name: 'Work item type' }).click();
  await hub.getByRole('option', { name: 'Bug', exact: true }).click();
  await hub.getByLabel('Query (WIQL condition)').fill("[System.Tags] CONTAINS 'nosuchfield");
  await hub.getByRole('button', { name: 'Preview matching work items' }).click();
  await hub.locator('.exalate-trigger-form .exalate-error, .exalate-trigger-form [class*="error"]').first().waitFor();
  await hub.getByLabel('Query (WIQL condition)').fill("[System.Tags] CONTAINS 'sync'");
  await hub.getByRole('button', { name: 'Preview matching work items' }).click();
  await hub.getByTestId('trigger-preview').waitFor();
  const preview = await hub.getByTestId('trigger-preview').textContent();
  expect(preview).toContain('1 work item matches now');
  expect(preview).toContain(String(bug.id));
  // Each match with its title.
  expect(preview).toContain('Checkout is slow');
  await hub.getByRole('button', { name: 'Save trigger' }).click();
  await hub.getByRole('table', { name: 'Triggers' }).waitFor();
  await hub.getByRole('button', { name: "Bulk sync what trigger [System.Tags] CONTAINS 'sync' matches" }).click();
  // Not done while the partner cannot apply it.
  await waitForText(hub, /Bulk sync: 0 of 1 done/);

  // On the partner: the item failed in the incoming rule; restoring the default rule and retrying syncs it.
  const partner = await configure('globex');
  await partner.hub.getByRole('button', { name: 'Refresh' }).click();
  await partner.hub.getByRole('table', { name: 'Items that need attention' }).waitFor({ timeout: 20_000 });
  const row = partner.hub.locator('tr[data-item]').first();
  expect(await row.textContent()).toMatch(/Failed.*the partner is not ready/);
  await partner.hub.getByRole('button', { name: 'Restore the default rule' }).click();
  await waitForText(partner.hub, 'The default incoming rule is back');
  await partner.hub.getByRole('button', { name: 'Retry all failed' }).click();
  await waitForText(partner.hub, '1 item is queued again');
  const deadline = Date.now() + 20_000;
  let created = Object.values(globex.simulator.state.workItems).find((w) => w.fields['System.Title'] === 'Checkout is slow');
  while (!created && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    created = Object.values(globex.simulator.state.workItems).find((w) => w.fields['System.Title'] === 'Checkout is slow');
  }
  expect(created?.fields['System.TeamProject']).toBe('Operations');
  expect(String(created?.fields['System.Tags'])).toContain('from-acme');
  expect(Object.values(globex.simulator.state.workItems).some((w) => w.fields['System.Title'] === 'Not for the partner')).toBe(false);
  await partner.hub.getByRole('button', { name: 'Refresh' }).click();
  await waitForText(partner.hub, 'Nothing needs attention.');
  // The acme page kept following the bulk sync: now the partner has the item.
  await waitForText(hub, /Bulk sync: 1 of 1 done \(1 synced, 0 failed\)\./);
});
