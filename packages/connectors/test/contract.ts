import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorError, type ChangedItem, type RichText, type TrackerConnector } from '../src/index.js';

/** What the contract needs from a tracker and its simulator, beyond the connector itself. */
export interface ConnectorFixture {
  connector: TrackerConnector;
  /** The email of the account the connector's credentials belong to. */
  userEmail: string;
  /** The same tracker with credentials it refuses. */
  badCredentials: TrackerConnector;
  project: string;
  itemType: string;
  /** A status other than the initial one that the type can move to. */
  otherStatus: string;
  assigneeEmail: string;
  /** A priority in the tracker's own words (a number in Azure DevOps, a name in Jira). */
  priority: string;
  /** Whether the connector finds a person by id or email (Azure DevOps' people live in another service). */
  findsUsers: boolean;
  /** A type whose items may be the parent of an `itemType` item (Jira: one level up, an Epic). */
  parentType: string;
  /** A path of the tracker's REST API that any user may read (for `rest`, a rule's httpClient). */
  restPath: string;
  /** The display name of a text field kept in `customFields` (a Jira custom field, an Azure DevOps field, a ServiceNow u_* column). */
  customFieldName: string;
  description: RichText;
  comment(text: string): RichText;
  /** How fine the tracker's change times are: 1 ms, or 1000 for whole seconds (ServiceNow). */
  clockResolutionMs: number;
  /** Whether the tracker offers webhooks (ServiceNow does not, without business rules). */
  webhooks: boolean;
  /** Whether a comment's webhook names the comment (Jira's does; Azure DevOps' names the work item only). */
  commentEventNamesComment?: boolean;
  /** Whether the tracker answers a comment's write with the comment (ServiceNow answers with the record). */
  commentInAnswer: boolean;
  /** A key of the tracker's form that no item has. */
  missingKey: string;
  /** A trigger query, in the tracker's language, for items carrying a label. */
  labelQuery(label: string): string;
  /** The next `times` requests answer `status` (with Retry-After seconds, when given). */
  injectFault(status: number, times: number, retryAfterSeconds?: number): void;
  /** Service-hook deliveries still under way. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect(it: AsyncIterable<ChangedItem>): Promise<ChangedItem[]> {
  const out: ChangedItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** The one contract every connector passes against its simulator. */
export function connectorContract(name: string, setup: () => Promise<ConnectorFixture>): void {
  describe(`${name} connector contract`, () => {
    let f: ConnectorFixture;
    beforeEach(async () => {
      f = await setup();
    });
    afterEach(() => f.close());

    it('tells what tracker it is and whose credentials it uses; refused credentials fail as such', async () => {
      const info = await f.connector.trackerInfo();
      expect(info).toMatchObject({ trackerType: f.connector.trackerType, trackerUrl: f.connector.trackerUrl });
      expect(info.user?.email).toBe(f.userEmail);
      expect(await f.badCredentials.trackerInfo().catch((e: unknown) => e)).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    });

    it('lists projects and item types with their statuses', async () => {
      expect((await f.connector.listProjects()).map((p) => p.key)).toContain(f.project);
      const types = await f.connector.listItemTypes(f.project);
      const type = types.find((t) => t.name === f.itemType);
      expect(type?.statuses).toContain(f.otherStatus);
      // The priorities, in the words an item carries and takes.
      expect(await f.connector.listPriorities()).toContain(f.priority);
    });

    it("passes a rule's REST call to the tracker with its credentials, and refuses one that leads elsewhere", async () => {
      expect(await f.connector.rest({ method: 'GET', path: f.restPath, timeoutMs: 5_000 })).toEqual(expect.anything());
      expect(await f.connector.rest({ method: 'GET', path: '//example.com/x', timeoutMs: 5_000 }).catch((e: unknown) => e)).toMatchObject({ code: 'REJECTED' });
      expect(await f.badCredentials.rest({ method: 'GET', path: f.restPath, timeoutMs: 5_000 }).catch((e: unknown) => e)).toMatchObject({
        code: 'AUTH_FAILED',
      });
    });

    it('finds a person by id and by email, and none for an unknown one', async () => {
      if (!f.findsUsers) {
        expect(await f.connector.findUser(f.userEmail).catch((e: unknown) => e)).toMatchObject({ code: 'REJECTED' });
        return;
      }
      const me = (await f.connector.trackerInfo()).user!;
      expect(await f.connector.findUser(f.userEmail)).toMatchObject({ email: f.userEmail, displayName: me.displayName });
      if (me.id) expect(await f.connector.findUser(me.id)).toMatchObject({ email: f.userEmail, id: me.id });
      expect(await f.connector.findUser('nobody-here')).toBeNull();
      expect(await f.connector.findUser('nobody@nowhere.example')).toBeNull();
    });

    it('links an item to its parent, moves it to another, and unlinks it', async () => {
      const make = (summary: string, type: string, parent?: string) =>
        f.connector.createItem({ project: f.project, type, summary, ...(parent ? { parent } : {}) });
      const first = await make('First parent', f.parentType);
      const second = await make('Second parent', f.parentType);
      const child = await make('Child', f.itemType, first.key);
      expect((await f.connector.getItem(child.key))?.parent).toMatchObject({ key: first.key, id: first.id });
      // By id, as Exalate's scripts give it.
      await f.connector.updateItem(child.key, { parent: second.id });
      expect((await f.connector.getItem(child.key))?.parent).toMatchObject({ key: second.key });
      await f.connector.updateItem(child.key, { parent: null });
      expect((await f.connector.getItem(child.key))?.parent ?? null).toBeNull();
      expect((await f.connector.getItem(first.key))?.parent ?? null).toBeNull();
    });

    it('lists the fields kept in customFields, and writes and reads one by its id', async () => {
      const fields = await f.connector.listFields(f.project);
      const field = fields.find((x) => x.name === f.customFieldName);
      expect(field).toMatchObject({ name: f.customFieldName, type: expect.any(String) });
      // Every listed id is one an item may be given under customFields.
      expect(new Set(fields.map((x) => x.id)).size).toBe(fields.length);
      const ref = await f.connector.createItem({ project: f.project, type: f.itemType, summary: 'With a customer', customFields: { [field!.id]: 'Acme' } });
      expect((await f.connector.getItem(ref.key))?.customFields[field!.id]).toBe('Acme');
      await f.connector.updateItem(ref.key, { customFields: { [field!.id]: 'Globex' } });
      expect((await f.connector.getItem(ref.key))?.customFields[field!.id]).toBe('Globex');
    });

    it('creates, reads and updates an item', async () => {
      const ref = await f.connector.createItem({
        project: f.project,
        type: f.itemType,
        summary: 'Checkout fails',
        description: f.description,
        labels: ['customer', 'p1'],
        priority: f.priority,
        assigneeEmail: f.assigneeEmail,
      });
      const item = await f.connector.getItem(ref.key);
      expect(item).toMatchObject({
        key: ref.key,
        project: f.project,
        type: f.itemType,
        summary: 'Checkout fails',
        priority: f.priority,
        labels: expect.arrayContaining(['customer', 'p1']),
        assignee: { email: f.assigneeEmail },
      });
      expect(item!.description?.format).toBe(f.description.format);
      const before = item!.updated;
      await sleep(Math.max(5, f.clockResolutionMs));
      await f.connector.updateItem(ref.key, { summary: 'Checkout fails on Safari', status: f.otherStatus, labels: ['customer'] });
      const after = await f.connector.getItem(ref.key);
      expect(after).toMatchObject({ summary: 'Checkout fails on Safari', status: f.otherStatus, labels: ['customer'] });
      expect(new Date(after!.updated).getTime()).toBeGreaterThan(new Date(before).getTime());
      // A status the item cannot reach is refused, naming those it can.
      const refused = await f.connector.updateItem(ref.key, { status: 'No Such Status' }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'REJECTED', message: expect.stringContaining('No Such Status') });
      const statuses = (await f.connector.listItemTypes(f.project)).find((t) => t.name === f.itemType)!.statuses;
      expect(statuses.filter((x) => x !== f.otherStatus && (refused as Error).message.includes(x)).length).toBeGreaterThan(0);
    });

    it('answers null for an item that does not exist', async () => {
      expect(await f.connector.getItem(f.missingKey)).toBeNull();
      // Nor does one whose key no item of this tracker could have (another tracker's, a typo, an injection).
      for (const key of ['not a key', 'SUP-1 OR 1=1', '42;DROP', 'INC0010001^ORnumber=1', '../../x', 'ÿ']) expect(await f.connector.getItem(key)).toBeNull();
    });

    it('adds and edits comments', async () => {
      const { key } = await f.connector.createItem({ project: f.project, type: f.itemType, summary: 'With comments' });
      const first = await f.connector.addComment(key, f.comment('First'));
      await f.connector.addComment(key, f.comment('Second'));
      await f.connector.updateComment(key, first.id, f.comment('First, edited'));
      const item = await f.connector.getItem(key);
      expect(item!.comments.map((c) => JSON.stringify(c.body.value))).toEqual([expect.stringContaining('First, edited'), expect.stringContaining('Second')]);
      expect(item!.comments[0]!.id).toBe(first.id);
    });

    it('answers a comment’s write with the comment as it reads it back, and takes known comments instead of reading them', async () => {
      const { key } = await f.connector.createItem({ project: f.project, type: f.itemType, summary: 'Comments known' });
      const added = await f.connector.addComment(key, f.comment('Added'));
      const other = await f.connector.addComment(key, f.comment('Other'));
      const edited = await f.connector.updateComment(key, added.id, f.comment('Added, edited'));
      const read = await f.connector.getItem(key);
      if (!f.commentInAnswer) {
        expect([added.comment, other.comment, edited.comment]).toEqual([undefined, undefined, undefined]);
        return;
      }
      expect([edited.comment, other.comment]).toEqual(read!.comments);
      expect(await f.connector.getItem(key, { comments: read!.comments })).toEqual(read);
      // What the caller says is taken as it is: nothing was read.
      expect((await f.connector.getItem(key, { comments: [] }))!.comments).toEqual([]);
    });

    it('streams attachments in and out with their sha256', async () => {
      const { key } = await f.connector.createItem({ project: f.project, type: f.itemType, summary: 'With a file' });
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      const sha = createHash('sha256').update(bytes).digest('hex');
      const uploaded = await f.connector.uploadAttachment(key, { filename: 'trace.bin', mimeType: 'application/octet-stream', content: bytes });
      expect(uploaded).toMatchObject({ filename: 'trace.bin', size: bytes.length, sha256: sha });
      const item = await f.connector.getItem(key);
      expect(item!.attachments).toEqual([expect.objectContaining({ id: uploaded.id, filename: 'trace.bin' })]);
      const download = await f.connector.downloadAttachment(key, uploaded.id);
      expect(await readAll(download.stream)).toEqual(bytes);
      expect(await download.sha256).toBe(sha);
    });

    it('finds changed items by trigger query and watermark, across pages', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 5; i++) {
        // Distinct change times, even on a tracker that counts whole seconds.
        if (i > 0 && f.clockResolutionMs > 1) await sleep(f.clockResolutionMs);
        keys.push((await f.connector.createItem({ project: f.project, type: f.itemType, summary: `Batch ${i}`, labels: i === 2 ? ['other'] : ['sync'] })).key);
      }
      const all = await collect(f.connector.searchChanged({ query: f.labelQuery('sync'), project: f.project, changedAfter: null, pageSize: 2 }));
      expect(all.map((x) => x.key)).toEqual([keys[0], keys[1], keys[3], keys[4]]);
      // Each with its title, for the admin's preview of what a trigger matches.
      expect(all.map((x) => x.summary)).toEqual(['Batch 0', 'Batch 1', 'Batch 3', 'Batch 4']);
      // A coarse clock also returns the item changed in the watermark's own tick (at least once).
      const boundary = f.clockResolutionMs > 1 ? [keys[1]] : [];
      const later = await collect(f.connector.searchChanged({ query: f.labelQuery('sync'), project: f.project, changedAfter: all[1]!.updated, pageSize: 2 }));
      expect(later.map((x) => x.key)).toEqual([...boundary, keys[3], keys[4]]);
      await sleep(Math.max(5, f.clockResolutionMs));
      await f.connector.updateItem(keys[0]!, { summary: 'Batch 0, again' });
      const again = await collect(f.connector.searchChanged({ query: f.labelQuery('sync'), project: f.project, changedAfter: all.at(-1)!.updated }));
      expect(again.map((x) => x.key)).toEqual([...(f.clockResolutionMs > 1 ? [keys[4]] : []), keys[0]]);
    });

    it('reports 429 as retryable with Retry-After, 5xx as retryable, and refused credentials as not', async () => {
      const { key } = await f.connector.createItem({ project: f.project, type: f.itemType, summary: 'Faults' });
      f.injectFault(429, 1, 7);
      const limited = await f.connector.getItem(key).catch((e: unknown) => e);
      expect(limited).toBeInstanceOf(ConnectorError);
      expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryable: true, details: { status: 429, retryAfterMs: 7000 } });
      f.injectFault(503, 1);
      expect(await f.connector.getItem(key).catch((e: unknown) => e)).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(await f.connector.getItem(key)).toMatchObject({ key });
      const refused = await f.badCredentials.getItem(key).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    });

    it('subscribes to webhooks and maps their calls to items, refusing forged ones (or says the tracker has none)', async () => {
      if (!f.webhooks) {
        // Nothing to subscribe to: change search is the only source, and says so.
        expect(await f.connector.subscribe({ url: 'http://127.0.0.1:1/hooks', secret: 's', project: f.project })).toBeNull();
        return;
      }
      const calls: Array<{ body: unknown; rawBody: string; headers: IncomingHttpHeaders }> = [];
      const receiver = createServer((req, res) => {
        let data = '';
        req.on('data', (c) => (data += c));
        req.on('end', () => {
          calls.push({ body: JSON.parse(data || 'null'), rawBody: data, headers: req.headers });
          res.end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      try {
        const secret = 'hook-secret-123';
        const sub = await f.connector.subscribe({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, secret, project: f.project });
        expect(sub).not.toBeNull();
        const { key } = await f.connector.createItem({ project: f.project, type: f.itemType, summary: 'Hooked' });
        await f.connector.updateItem(key, { summary: 'Hooked, changed' });
        const added = await f.connector.addComment(key, f.comment('Hello'));
        await f.settled();
        const events = calls.flatMap((c) =>
          f.connector.parseWebhook({ body: c.body, rawBody: c.rawBody, headers: c.headers as Record<string, string> }, secret),
        );
        expect(events).toEqual(expect.arrayContaining(['created', 'updated', 'commented'].map((kind) => expect.objectContaining({ kind, key }))));
        // Each event tells the item's version after it (by which the node skips its own writes),
        // and the last one is the version the item then reads with.
        for (const e of events) expect(e.version).toEqual(expect.any(String));
        const item = (await f.connector.getItem(key))!;
        const commented = events.filter((e) => e.kind === 'commented').at(-1)!;
        expect(commented.version).toBe(item.version ?? item.updated);
        // Where the payload names the comment, so does the event: the sync tells its own from others' by it.
        expect(commented.commentId).toBe(f.commentEventNamesComment ? added.id : undefined);
        expect(() =>
          f.connector.parseWebhook(
            { body: calls[0]!.body, rawBody: calls[0]!.rawBody, headers: calls[0]!.headers as Record<string, string> },
            'another-secret',
          ),
        ).toThrow(expect.objectContaining({ code: 'AUTH_FAILED' }));
        await f.connector.unsubscribe(sub!.id);
        const before = calls.length;
        await f.connector.updateItem(key, { summary: 'After unsubscribe' });
        await f.settled();
        expect(calls.length).toBe(before);
      } finally {
        receiver.closeAllConnections();
        receiver.close();
      }
    });
  });
}
