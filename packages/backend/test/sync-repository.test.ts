import { randomBytes, randomUUID } from 'node:crypto';
import { migrate, openPglite, openPostgres, type Database } from '../src/index.js';
import { SyncRepository } from '../src/sync/repository.js';
import { BACKENDS } from './support.js';

describe.each(BACKENDS)('the sync repository on %s', (backend) => {
  let db: Database;
  let repo: SyncRepository;
  let connectionId: string;
  beforeAll(async () => {
    // A fresh schema on the server, so runs never share state.
    db =
      backend === 'postgres'
        ? await openPostgres(process.env['EXALATE_TEST_DATABASE_URL']!, `t${randomBytes(5).toString('hex')}_repo`)
        : await openPglite(null);
    await migrate(db);
    repo = new SyncRepository(db);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    connectionId = randomUUID();
    await db.query(
      `insert into connections (id, name, mode, role, status, local_short_name, remote_short_name, project) values ($1, $2, 'SCRIPT', 'INITIATOR', 'ACTIVE', 'jira', 'ado', 'SUP')`,
      [connectionId, `c-${connectionId}`],
    );
  });

  const replica = (summary: string) => ({ replica: { key: 'ADO-7', summary }, twinKey: null });

  describe('incomingState', () => {
    it("gives the partner item's unapplied events oldest first, with its live twin", async () => {
      const twin = await repo.insertTwin({ connectionId, localKey: 'SUP-1', remoteKey: 'ADO-7' });
      // Received out of order; one for another item; an acknowledgement, which is no work for the incoming run.
      await repo.receive(connectionId, [
        { id: randomUUID(), seq: 3, kind: 'replica', itemKey: 'ADO-7', payload: replica('third') },
        { id: randomUUID(), seq: 1, kind: 'replica', itemKey: 'ADO-7', payload: replica('first') },
        { id: randomUUID(), seq: 2, kind: 'replica', itemKey: 'ADO-8', payload: replica('other item') },
        { id: randomUUID(), seq: 4, kind: 'ack', itemKey: 'ADO-7', payload: { key: 'SUP-1' } },
      ]);
      const state = await repo.incomingState(connectionId, 'ADO-7');
      expect(state.pending.map((e) => [Number(e.seq), e.kind, (e.payload['replica'] as { summary: string }).summary])).toEqual([
        [1, 'replica', 'first'],
        [3, 'replica', 'third'],
      ]);
      expect(state.twin).toEqual(await repo.twinByRemote(connectionId, 'ADO-7'));
      expect(state.twin?.id).toBe(twin.id);
    });

    it('has no twin for an item not paired yet, and nothing pending once the events are applied', async () => {
      await repo.receive(connectionId, [{ id: randomUUID(), seq: 1, kind: 'replica', itemKey: 'ADO-9', payload: replica('new') }]);
      const first = await repo.incomingState(connectionId, 'ADO-9');
      expect(first.twin).toBeNull();
      expect(first.pending).toHaveLength(1);
      const twin = await repo.insertTwin({ connectionId, remoteKey: 'ADO-9' });
      await repo.markApplied(connectionId, 'ADO-9', first.pending[0]!.seq);
      const after = await repo.incomingState(connectionId, 'ADO-9');
      expect(after.pending).toEqual([]);
      expect(after.twin?.id).toBe(twin.id);
    });

    it('brings, in the same statement, what the sync stored for the pair: its comments and attachments, and the oversize notes', async () => {
      const empty = await repo.incomingState(connectionId, 'ADO-30');
      expect(empty.written).toEqual({ comments: [], attachments: [] });
      expect(empty.oversize).toEqual(new Map());
      const twin = await repo.insertTwin({ connectionId, localKey: 'SUP-30', remoteKey: 'ADO-30' });
      await repo.saveCommentTwins(twin.id, [
        { remoteId: 'rc-1', localId: 'lc-1', hash: 'h1' },
        { remoteId: 'rc-2', localId: 'lc-2', hash: 'h2' },
      ]);
      await repo.saveAttachmentTwin(twin.id, 'ra-1', 'la-1', 'sha-1');
      await repo.noteOversize('SUP-30', 'la-9', 'huge.bin', 30_000_000);
      // Another item's notes are not this one's.
      await repo.noteOversize('SUP-31', 'la-8', 'other.bin', 40_000_000);
      await repo.receive(connectionId, [{ id: randomUUID(), seq: 1, kind: 'replica', itemKey: 'ADO-30', payload: replica('with things stored') }]);
      const state = await repo.incomingState(connectionId, 'ADO-30');
      expect(state.twin?.id).toBe(twin.id);
      expect(state.pending).toHaveLength(1);
      expect(state.written.comments.sort((a, b) => a.remote_comment_id.localeCompare(b.remote_comment_id))).toEqual([
        { remote_comment_id: 'rc-1', local_comment_id: 'lc-1', remote_hash: 'h1' },
        { remote_comment_id: 'rc-2', local_comment_id: 'lc-2', remote_hash: 'h2' },
      ]);
      expect(state.written.attachments).toEqual([{ remote_attachment_id: 'ra-1', local_attachment_id: 'la-1', sha256: 'sha-1' }]);
      expect(state.oversize).toEqual(new Map([['la-9', { filename: 'huge.bin', bytes: 30_000_000 }]]));
      // The outgoing side reads the same in one statement of its own.
      const stored = await repo.storedFor(twin.id, 'SUP-30');
      expect(stored.written.attachments).toEqual(state.written.attachments);
      expect(stored.written.comments).toHaveLength(2);
      expect(stored.oversize).toEqual(state.oversize);
    });
  });

  describe('receive', () => {
    it("pairs our items with the partner's from a batch of acknowledgements, the newest one of an item winning, once each", async () => {
      const waiting = await repo.insertTwin({ connectionId, localKey: 'SUP-40' });
      const failing = await repo.insertTwin(
        { connectionId, localKey: 'SUP-41' },
        {
          status: 'FAILED',
          error: { code: 'UNAVAILABLE', message: 'Jira answered 500', direction: 'outgoing', retryable: true, at: new Date().toISOString() },
        },
      );
      const gone = await repo.insertTwin({ connectionId, localKey: 'SUP-42' }, { status: 'UNSYNCED' });
      const unnamed = await repo.insertTwin({ connectionId, localKey: 'SUP-43' });
      const ack = (seq: number, localKey: string, key: string) => ({
        id: randomUUID(),
        seq,
        kind: 'ack' as const,
        itemKey: localKey,
        payload: { key, url: `https://dev.azure.com/acme/_workitems/edit/${key}` },
      });
      const batch = [
        ack(2, 'SUP-40', 'ADO-41'),
        ack(1, 'SUP-40', 'ADO-40'),
        ack(3, 'SUP-41', 'ADO-42'),
        ack(4, 'SUP-42', 'ADO-43'),
        ack(5, 'SUP-49', 'ADO-49'),
        { id: randomUUID(), seq: 6, kind: 'replica' as const, itemKey: 'ADO-44', payload: replica('not an ack') },
        ack(7, 'SUP-43', ''),
      ];
      expect((await repo.receive(connectionId, batch)).map((e) => e.seq)).toEqual([2, 1, 3, 4, 5, 6, 7]);
      const paired = await repo.twinByLocal(connectionId, 'SUP-40');
      expect(paired).toMatchObject({ id: waiting.id, remote_key: 'ADO-41', remote_url: 'https://dev.azure.com/acme/_workitems/edit/ADO-41', status: 'SYNCED' });
      expect(paired?.last_sync_at).toBeInstanceOf(Date);
      // A failing item learns its partner but stays failed; an unsynced one is left alone.
      expect(await repo.twinByLocal(connectionId, 'SUP-41')).toMatchObject({ id: failing.id, remote_key: 'ADO-42', status: 'FAILED', last_sync_at: null });
      expect((await db.query<{ remote_key: string | null }>('select remote_key from twins where id = $1', [gone.id]))[0]?.remote_key).toBeNull();
      // An acknowledgement without the partner's key pairs nothing.
      expect(await repo.twinByLocal(connectionId, 'SUP-43')).toMatchObject({ id: unnamed.id, remote_key: null, status: 'PENDING' });
      // Acknowledgements are no work for an incoming run; one seen before changes nothing again.
      expect((await repo.incomingState(connectionId, 'SUP-40')).pending).toEqual([]);
      await repo.updateTwin(waiting.id, { remote_key: 'ADO-40' });
      expect(await repo.receive(connectionId, [batch[0]!])).toEqual([]);
      expect((await repo.twinByLocal(connectionId, 'SUP-40'))?.remote_key).toBe('ADO-40');
    });
  });

  describe('saveCommentTwins and saveAttachmentTwin', () => {
    it('store the twin columns given with them in the same statement, and only those', async () => {
      const twin = await repo.insertTwin({ connectionId, remoteKey: 'ADO-11' }, { applying_since: new Date() });
      await repo.saveCommentTwins(twin.id, [{ remoteId: 'rc-1', localId: 'lc-1', hash: 'h1' }], {
        local_key: 'SUP-11',
        local_url: 'https://jira.example/browse/SUP-11',
        local_project: 'SUP',
      });
      expect(await repo.twinByRemote(connectionId, 'ADO-11')).toMatchObject({
        local_key: 'SUP-11',
        local_url: 'https://jira.example/browse/SUP-11',
        local_project: 'SUP',
        applying_since: expect.any(Date),
      });
      expect(await repo.commentTwins(twin.id)).toEqual([{ remote_comment_id: 'rc-1', local_comment_id: 'lc-1', remote_hash: 'h1' }]);
      // With nothing more to set, the twin is left as it is.
      const before = await repo.twinByRemote(connectionId, 'ADO-11');
      await repo.saveCommentTwins(twin.id, [{ remoteId: 'rc-1', localId: 'lc-1', hash: 'h2' }]);
      await repo.saveAttachmentTwin(twin.id, 'ra-1', 'la-1', 'sha');
      expect(await repo.twinByRemote(connectionId, 'ADO-11')).toEqual(before);
      expect((await repo.commentTwins(twin.id))[0]!.remote_hash).toBe('h2');
      await repo.saveAttachmentTwin(twin.id, 'ra-2', 'la-2', 'sha2', { local_version: '7' });
      expect((await repo.twinByRemote(connectionId, 'ADO-11'))!.local_version).toBe('7');
      expect((await repo.attachmentTwins(twin.id)).map((a) => a.local_attachment_id).sort()).toEqual(['la-1', 'la-2']);
    });
  });

  describe('finishApply', () => {
    it('stores the comment twins the apply made with the rest of it, the last write of a comment standing', async () => {
      await repo.receive(connectionId, [{ id: randomUUID(), seq: 1, kind: 'replica', itemKey: 'ADO-12', payload: replica('with comments') }]);
      const twin = await repo.insertTwin({ connectionId, remoteKey: 'ADO-12' }, { applying_since: new Date() });
      await repo.saveCommentTwins(twin.id, [{ remoteId: 'rc-1', localId: 'lc-1', hash: 'old' }]);
      await repo.finishApply(
        twin.id,
        { local_key: 'SUP-12', status: 'SYNCED', applying_since: null },
        {
          connectionId,
          remoteKey: 'ADO-12',
          upToSeq: '1',
          outcome: 'CREATED',
          ack: null,
          comments: [
            { remoteId: 'rc-1', localId: 'lc-1', hash: 'edited' },
            { remoteId: 'rc-2', localId: 'lc-2', hash: 'first' },
            { remoteId: 'rc-2', localId: 'lc-2', hash: 'second' },
          ],
        },
      );
      const comments = (await repo.commentTwins(twin.id)).sort((x, y) => x.remote_comment_id.localeCompare(y.remote_comment_id));
      expect(comments).toEqual([
        { remote_comment_id: 'rc-1', local_comment_id: 'lc-1', remote_hash: 'edited' },
        { remote_comment_id: 'rc-2', local_comment_id: 'lc-2', remote_hash: 'second' },
      ]);
      expect(await repo.twinByRemote(connectionId, 'ADO-12')).toMatchObject({ local_key: 'SUP-12', status: 'SYNCED', applying_since: null });
      expect((await repo.incomingState(connectionId, 'ADO-12')).pending).toEqual([]);
    });
  });

  describe('outgoingStates', () => {
    it('gives each item its live twin, whether it was unsynced before, and whether a first sync is creating an item', async () => {
      const live = await repo.insertTwin({ connectionId, localKey: 'SUP-30', remoteKey: 'ADO-30' });
      const gone = await repo.insertTwin({ connectionId, localKey: 'SUP-31', remoteKey: 'ADO-31' });
      await repo.updateTwin(gone.id, { status: 'UNSYNCED' });
      const states = await repo.outgoingStates(connectionId, ['SUP-30', 'SUP-31', 'SUP-32']);
      expect([...states.keys()].sort()).toEqual(['SUP-30', 'SUP-31', 'SUP-32']);
      expect(states.get('SUP-30')).toMatchObject({ twin: { id: live.id, remote_key: 'ADO-30' }, wasUnsynced: false, creationInFlight: false });
      expect(states.get('SUP-31')).toEqual({ twin: null, wasUnsynced: true, creationInFlight: false });
      expect(states.get('SUP-32')).toEqual({ twin: null, wasUnsynced: false, creationInFlight: false });
      await repo.insertTwin({ connectionId, remoteKey: 'ADO-33' }, { creating_since: new Date() });
      expect((await repo.outgoingState(connectionId, 'SUP-32')).creationInFlight).toBe(true);
      // The live twins alone, by key.
      const twins = await repo.twinsByLocal(connectionId, ['SUP-30', 'SUP-31', 'SUP-32']);
      expect([...twins.keys()]).toEqual(['SUP-30']);
      expect(twins.get('SUP-30')).toEqual(await repo.twinByLocal(connectionId, 'SUP-30'));
    });
  });
});
