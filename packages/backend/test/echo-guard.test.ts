import type { ItemEvent } from '@exalate/connectors';
import { CREATE_HOLD_MS, EchoGuard, OWN_COMMENT_EVENTS_MS, OWN_WRITES_KEPT } from '../src/sync/echo-guard.js';

const C = 'connection-1';

/** A guard on a clock the test moves, and the events it released for creates that were over. */
function guard() {
  let now = 1_000_000;
  const released: Array<{ connectionId: string; events: ItemEvent[] }> = [];
  const g = new EchoGuard(
    (connectionId, events) => released.push({ connectionId, events }),
    () => now,
  );
  return { g, released, tick: (ms: number) => (now += ms) };
}

const updated = (key: string, version?: string): ItemEvent => ({ kind: 'updated', key, ...(version ? { version } : {}) });
const commented = (key: string, version?: string, commentId?: string): ItemEvent => ({
  kind: 'commented',
  key,
  ...(version ? { version } : {}),
  ...(commentId ? { commentId } : {}),
});

it('knows nothing of an item no apply here wrote: the stored marks decide', () => {
  const { g } = guard();
  expect(g.classify(C, updated('K-1', '3'))).toEqual({ kind: 'ask', othersComment: false });
  expect(g.classify(C, commented('K-1', '3', 'c9'))).toEqual({ kind: 'ask', othersComment: true });
});

it("notes an item's events while an apply writes it, and hands back at its end the ones that were not its own", () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  expect(g.classify(C, updated('K-1', '5'))).toEqual({ kind: 'noted' });
  expect(g.classify(C, updated('K-1', '7'))).toEqual({ kind: 'noted' });
  // Another item, or the same key on another connection, is not the apply's.
  expect(g.classify(C, updated('K-2', '5')).kind).toBe('ask');
  expect(g.classify('connection-2', updated('K-1', '5')).kind).toBe('ask');
  // The versions noted come back (the caller compares them with the version the apply left); cleared then.
  expect(g.endWrite(C, 'K-1', '6')).toEqual(['5', '7']);
  expect(g.endWrite(C, 'K-1', '6')).toEqual([]);
});

it("after the write, an event at or before the version it left is the sync's own; a later one is not", () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  g.endWrite(C, 'K-1', '6');
  expect(g.classify(C, updated('K-1', '6'))).toEqual({ kind: 'own' });
  expect(g.classify(C, updated('K-1', '4'))).toEqual({ kind: 'own' });
  expect(g.classify(C, updated('K-1', '7'))).toEqual({ kind: 'ask', othersComment: false });
  // An event without a version cannot be told by it.
  expect(g.classify(C, updated('K-1')).kind).toBe('ask');
  // ISO times compare as times.
  g.beginWrite(C, 'K-2');
  g.endWrite(C, 'K-2', '2026-12-03T10:00:00.000Z');
  expect(g.classify(C, updated('K-2', '2026-12-03T09:59:59.000Z')).kind).toBe('own');
  expect(g.classify(C, updated('K-2', '2026-12-03T10:00:01.000Z')).kind).toBe('ask');
});

it('a failed write keeps what it noted for the next apply', () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  g.classify(C, updated('K-1', '5'));
  expect(g.endWrite(C, 'K-1', null)).toEqual([]);
  // Not applying any more: a new event is not noted, and no version is known to be the sync's.
  expect(g.classify(C, updated('K-1', '5')).kind).toBe('ask');
  g.beginWrite(C, 'K-1');
  expect(g.endWrite(C, 'K-1', '6')).toEqual(['5']);
});

it("tells a comment the sync wrote from someone else's by its id, during the write and after it", () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  // The comment's event may come before the write that made it returns.
  g.classify(C, commented('K-1', '5', 'ours'));
  g.classify(C, commented('K-1', '5', 'theirs'));
  g.noteComment(C, 'K-1', 'ours');
  // Ours is not handed back; theirs is, as "look again" (its version may be one the apply read).
  expect(g.endWrite(C, 'K-1', '6', { commentsAdded: 1, commentsReadBack: false })).toEqual([null]);
  // After the write: ours at an old version is the sync's own; anyone else's comment is looked at, whatever its version.
  expect(g.classify(C, commented('K-1', '5', 'ours'))).toEqual({ kind: 'own' });
  expect(g.classify(C, commented('K-1', '5', 'theirs'))).toEqual({ kind: 'ask', othersComment: true });
});

it('counts the comment events that do not name their comment (Azure DevOps): one per comment the sync added, then the rest are looked at', () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  g.endWrite(C, 'K-1', '6', { commentsAdded: 2, commentsReadBack: false });
  expect(g.classify(C, commented('K-1', '6'))).toEqual({ kind: 'own' });
  expect(g.classify(C, commented('K-1', '6'))).toEqual({ kind: 'own' });
  // A third one at or before the version is someone's comment the read-back did not read.
  expect(g.classify(C, commented('K-1', '6'))).toEqual({ kind: 'look' });
});

it('more unnamed comment events during a write than the comments it added: look again at its end', () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  g.classify(C, commented('K-1', '6'));
  g.classify(C, commented('K-1', '6'));
  expect(g.endWrite(C, 'K-1', '6', { commentsAdded: 1, commentsReadBack: false })).toEqual([null]);
  // The count is spent: a later one at or before the version is looked at.
  expect(g.classify(C, commented('K-1', '5'))).toEqual({ kind: 'look' });
});

it('a write that read the comments back makes every unnamed comment event up to its version its own', () => {
  const { g } = guard();
  g.beginWrite(C, 'K-1');
  g.classify(C, commented('K-1', '7'));
  // The noted one comes back for the caller to compare with the version (7 > 6: look again).
  expect(g.endWrite(C, 'K-1', '6', { commentsAdded: 0, commentsReadBack: true })).toEqual(['7']);
  for (let i = 0; i < 3; i++) expect(g.classify(C, commented('K-1', '6')).kind).toBe('own');
  expect(g.classify(C, commented('K-1', '8')).kind).toBe('ask');
});

it('the count of own unnamed comment events lapses, so lost webhooks do not hide a later comment', () => {
  const { g, tick } = guard();
  g.beginWrite(C, 'K-1');
  g.endWrite(C, 'K-1', '6', { commentsAdded: 1, commentsReadBack: false });
  tick(OWN_COMMENT_EVENTS_MS + 1);
  expect(g.classify(C, commented('K-1', '6'))).toEqual({ kind: 'look' });
});

it('holds a creation event while a first sync creates on the connection, and gives the create its own', () => {
  const { g, released } = guard();
  g.createStarted(C);
  expect(g.classify(C, { kind: 'created', key: 'K-9', version: '1' })).toEqual({ kind: 'held' });
  expect(g.classify(C, { kind: 'created', key: 'K-10', version: '1' })).toEqual({ kind: 'held' });
  // Not a creation, or another connection: not held.
  expect(g.classify(C, updated('K-11', '1')).kind).toBe('ask');
  expect(g.classify('connection-2', { kind: 'created', key: 'K-12' }).kind).toBe('ask');
  // The create returns K-9 (the apply began its write on it): K-9's event is its own, K-10's goes the usual way.
  g.beginWrite(C, 'K-9');
  g.createEnded(C, 'K-9');
  expect(released).toEqual([{ connectionId: C, events: [{ kind: 'created', key: 'K-10', version: '1' }] }]);
  expect(g.endWrite(C, 'K-9', '2')).toEqual(['1']);
  // No create left: nothing is held any more.
  expect(g.classify(C, { kind: 'created', key: 'K-13' }).kind).toBe('ask');
});

it('releases held events after a while even when another create is still running, and on a failed create', () => {
  const { g, released, tick } = guard();
  g.createStarted(C);
  g.createStarted(C);
  g.classify(C, { kind: 'created', key: 'K-20' });
  // One create fails soon: the event stays held for the other.
  g.createEnded(C, null);
  expect(released).toEqual([]);
  g.createStarted(C);
  tick(CREATE_HOLD_MS + 1);
  g.createEnded(C, null);
  expect(released).toEqual([{ connectionId: C, events: [{ kind: 'created', key: 'K-20' }] }]);
  // Ending a create that never started changes nothing.
  g.createEnded('connection-3', 'K-1');
  expect(released).toHaveLength(1);
});

it('keeps the most recent items only', () => {
  const { g } = guard();
  for (let i = 0; i <= OWN_WRITES_KEPT; i++) {
    g.beginWrite(C, `K-${i}`);
    g.endWrite(C, `K-${i}`, '5');
  }
  // The first item's record went first; the newest are kept.
  expect(g.classify(C, updated('K-0', '5')).kind).toBe('ask');
  expect(g.classify(C, updated(`K-${OWN_WRITES_KEPT}`, '5')).kind).toBe('own');
  expect(g.classify(C, updated('K-1', '5')).kind).toBe('own');
});
