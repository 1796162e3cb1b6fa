import { createHash } from 'node:crypto';
import { BACKENDS, eventually, type Backend } from './support.js';
import { plain, startSyncPair, text, type SyncPair, type TrackerName } from './sync-support.js';

/**
 * Items sync end to end between two real nodes and two simulated trackers, in every direction
 * (Jira Cloud, and on-premise Jira with Azure DevOps both ways), over a public–public and a
 * public–private connection: create, update, comments (added and edited), attachments; both
 * sides converge, nothing is duplicated, nothing echoes back.
 */
const PAIRS: Array<[TrackerName, TrackerName]> = [
  ['jira', 'ado'],
  ['ado', 'jira'],
  ['jira', 'snow'],
  ['snow', 'jira'],
  ['ado', 'snow'],
  ['snow', 'ado'],
  // On-premise Jira, both ways with Azure DevOps.
  ['jira-dc', 'ado'],
  ['ado', 'jira-dc'],
];
/** The private side of each pair of trackers, whichever way the item goes. */
const PRIVATE_SIDE: Record<string, TrackerName> = { 'jira+ado': 'ado', 'jira-dc+ado': 'ado', 'jira+snow': 'snow', 'ado+snow': 'snow' };

const ORDER: TrackerName[] = ['jira', 'jira-dc', 'ado', 'snow'];
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function scenario(backend: Backend, from: TrackerName, to: TrackerName, connection: 'public–public' | 'public–private'): Promise<void> {
  const privateSide = PRIVATE_SIDE[[from, to].sort((x, y) => ORDER.indexOf(x) - ORDER.indexOf(y)).join('+')]!;
  // The connection runs from a to b; b is the private one when there is one.
  const sourceIsA = connection === 'public–public' || privateSide === to;
  const pair: SyncPair = await startSyncPair(backend, sourceIsA ? from : to, sourceIsA ? to : from, { privateB: connection === 'public–private' });
  try {
    const [src, dst] = sourceIsA ? [pair.a, pair.b] : [pair.b, pair.a];
    const srcSide = sourceIsA ? 'a' : 'b';
    const toSide = sourceIsA ? 'b' : 'a';
    const tag = `${from}-${to}-${connection === 'public–public' ? 'pub' : 'priv'}`;

    // Create
    const made = await src.human.createItem({
      project: src.project,
      type: src.itemType,
      summary: `Printer on fire ${tag}`,
      description: text(src.human, 'Smoke from tray 2'),
      labels: ['hardware'],
    });
    const dstKey = await pair.twinOf(srcSide, made.key);
    await eventually(async () => {
      const item = await dst.reader.getItem(dstKey);
      expect(item).toMatchObject({ summary: `Printer on fire ${tag}`, labels: ['hardware'] });
      expect(plain(item!.description)).toBe('Smoke from tray 2');
    }, 20_000);

    // Update summary, description and labels
    await src.human.updateItem(made.key, {
      summary: `Printer still on fire ${tag}`,
      description: text(src.human, 'Now tray 3 as well'),
      labels: ['hardware', 'urgent'],
    });
    await eventually(async () => {
      const item = await dst.reader.getItem(dstKey);
      expect(item).toMatchObject({ summary: `Printer still on fire ${tag}` });
      expect([...item!.labels].sort()).toEqual(['hardware', 'urgent']);
      expect(plain(item!.description)).toBe('Now tray 3 as well');
    }, 20_000);

    // A comment, then an edit of it
    const comment = await src.human.addComment(made.key, text(src.human, 'Called the vendor'));
    await eventually(async () => {
      const item = await dst.reader.getItem(dstKey);
      expect(item!.comments.map((c) => plain(c.body))).toEqual(['Called the vendor']);
    }, 20_000);
    await src.human.updateComment(made.key, comment.id, text(src.human, 'Called the vendor twice'));
    await eventually(async () => {
      const item = await dst.reader.getItem(dstKey);
      expect(item!.comments.map((c) => plain(c.body))).toEqual(['Called the vendor twice']);
    }, 20_000);

    // An attachment, transferred once with the same bytes
    const bytes = Buffer.from(`error log for ${tag}\n`.repeat(50));
    await src.human.uploadAttachment(made.key, { filename: 'printer.log', mimeType: 'text/plain', content: bytes });
    await eventually(async () => {
      const item = await dst.reader.getItem(dstKey);
      expect(item!.attachments.map((a) => a.filename)).toEqual(['printer.log']);
      const download = await dst.reader.downloadAttachment(dstKey, item!.attachments[0]!.id);
      const chunks: Buffer[] = [];
      for await (const c of download.stream) chunks.push(c as Buffer);
      expect(sha256(Buffer.concat(chunks))).toBe(sha256(bytes));
    }, 20_000);

    // Converged, with nothing duplicated and nothing echoed back to the source.
    await new Promise((r) => setTimeout(r, 1_500));
    const source = await src.reader.getItem(made.key);
    expect(source!.comments).toHaveLength(1);
    expect(source!.attachments).toHaveLength(1);
    expect(source!.summary).toBe(`Printer still on fire ${tag}`);
    const dest = await dst.reader.getItem(dstKey);
    expect(dest!.comments).toHaveLength(1);
    expect(dest!.attachments).toHaveLength(1);
    let copies = 0;
    for await (const found of dst.reader.searchChanged({ query: '', project: dst.project, changedAfter: null })) {
      const item = await dst.reader.getItem(found.key);
      if (item?.summary.includes(tag)) copies += 1;
    }
    expect(copies).toBe(1);
    // Nothing went back: the destination never sent the item out (not even a replica that would
    // have changed nothing at the source).
    const history = (await pair.api(toSide).get(`/connections/${pair.connectionId}/items/${encodeURIComponent(dstKey)}`)).body.history as Array<{
      direction: string;
      outcome: string;
    }>;
    expect(history.filter((h) => h.direction === 'outgoing')).toEqual([]);
    for (const side of ['a', 'b'] as const) {
      const queue = (await pair.api(side).get(`/connections/${pair.connectionId}/queue`)).body;
      expect(queue).toMatchObject({ items: { FAILED: 0 }, outbox: 0, inbox: 0 });
    }
  } finally {
    await pair.close();
  }
}

describe.each(PAIRS)('%s → %s', (from, to) => {
  for (const connection of ['public–public', 'public–private'] as const) {
    it(`syncs create, updates, comments and attachments over a ${connection} connection`, () => scenario('pglite', from, to, connection));
  }
});

// The same code on a PostgreSQL server: one direction each way of connection.
(BACKENDS.includes('postgres') ? describe : describe.skip)('on a PostgreSQL server', () => {
  it('syncs Azure DevOps → Jira over a public–public connection', () => scenario('postgres', 'ado', 'jira', 'public–public'));
  it('syncs Jira → ServiceNow over a public–private connection', () => scenario('postgres', 'jira', 'snow', 'public–private'));
});

// An item the sync created on the other side is that side's to change too: its changes come back
// once each, and what the sync wrote there never does.
it('carries changes made to a synced item on its partner side back, and nothing the sync wrote', async () => {
  const pair = await startSyncPair('pglite', 'jira', 'ado');
  try {
    const made = await pair.a.human.createItem({
      project: pair.a.project,
      type: pair.a.itemType,
      summary: 'Both ways',
      description: text(pair.a.human, 'From Jira'),
    });
    await pair.a.human.addComment(made.key, text(pair.a.human, 'Jira speaks'));
    const adoKey = await pair.twinOf('a', made.key);
    await eventually(async () => expect((await pair.b.reader.getItem(adoKey))!.comments.map((c) => plain(c.body))).toEqual(['Jira speaks']), 20_000);
    const jiraCallsBefore = pair.a.faults.calls.length;
    // The Azure DevOps side's replica of the item is what it received, comment and all.
    const status = (await pair.api('b').get(`/connections/${pair.connectionId}/items/${adoKey}`)).body;
    expect(status.localReplica).toMatchObject({ key: adoKey, summary: 'Both ways' });
    // Looked at again by name, the unchanged item is found to be what Jira already has: nothing is sent.
    expect((await pair.api('b').post(`/connections/${pair.connectionId}/sync-now`, { key: adoKey })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1_500));
    const history = (await pair.api('b').get(`/connections/${pair.connectionId}/items/${adoKey}`)).body.history as Array<{
      direction: string;
      outcome: string;
    }>;
    expect(history.filter((h) => h.direction === 'outgoing')).toEqual([]);
    expect((await pair.a.reader.getItem(made.key))!.comments).toHaveLength(1);
    // Nothing was written to Jira since: the sync's own writes in Azure DevOps did not come back.
    expect(pair.a.faults.calls.slice(jiraCallsBefore).filter((c) => !c.startsWith('GET ') && !c.includes('/search'))).toEqual([]);

    await pair.b.human.updateItem(adoKey, { summary: 'Both ways, answered' });
    await pair.b.human.addComment(adoKey, text(pair.b.human, 'Azure DevOps answers'));
    await eventually(async () => {
      const item = await pair.a.reader.getItem(made.key);
      expect(item!.summary).toBe('Both ways, answered');
      expect(item!.comments.map((c) => plain(c.body))).toEqual(['Jira speaks', 'Azure DevOps answers']);
    }, 20_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await pair.a.reader.getItem(made.key))!.comments).toHaveLength(2);
    expect((await pair.b.reader.getItem(adoKey))!.comments.map((c) => plain(c.body))).toEqual(['Jira speaks', 'Azure DevOps answers']);
    expect((await pair.api('b').get(`/connections/${pair.connectionId}/items/${adoKey}`)).body.localReplica).toMatchObject({ summary: 'Both ways, answered' });
  } finally {
    await pair.close();
  }
});
