/**
 * The echo guard: this process's own writes to its tracker, remembered so that the tracker's
 * change events for them (its webhooks) are told apart from anyone else's without asking the
 * database, and so that an apply learns of a change someone made while it was writing.
 *
 * In memory only, per process: the twin's columns (`local_version`, `applying_since`,
 * `changed_during_apply`) hold the same for other processes and after a restart, and the change
 * detection asks them when this guard does not know (`ask`).
 *
 * Three things are tracked per item (connection and local key):
 * - an apply writing it now (`beginWrite` … `endWrite`): its events are noted, and the ones that
 *   were not the apply's own are handed back at its end;
 * - the version the last apply left it at: an event at or before it is the sync's own;
 * - the comments the sync wrote on it, and, for trackers whose comment events do not say which
 *   comment (Azure DevOps), how many such events its added comments still owe: one beyond that
 *   count, for a revision the read-back covered, is someone else's comment. After a restart in
 *   between, such a comment goes out at the next refresh or with the item's next change.
 * And per connection, the first syncs creating items now: a creation event may come before the
 * create returns the new key, so it is held until then (`createStarted`, `createEnded`).
 */
import type { ItemEvent } from '@exalate/connectors';
import { isNewer } from './versions.js';

/** What to do with a change event, as far as this process knows. */
export type EventVerdict =
  /** An apply is writing the item: noted; its end decides. */
  | { kind: 'noted' }
  /** Perhaps the item a first sync here is creating: held until the create returns. */
  | { kind: 'held' }
  /** The sync's own write, already in the item's baseline: nothing to look at. */
  | { kind: 'own' }
  /** Look at the item now (a comment the last apply's read-back did not read). */
  | { kind: 'look' }
  /** Not known here: the twin's stored marks decide. `othersComment`: the event names a comment the sync did not write. */
  | { kind: 'ask'; othersComment: boolean };

/** What an apply's write tells the guard at its end about the comments. */
export interface WriteCommentsDone {
  /** Comments the apply added (each announces itself once). */
  commentsAdded: number;
  /** The apply read the item's comments back: its baseline has every comment up to its version. */
  commentsReadBack: boolean;
}

/** How many items' own-write records a process keeps (the oldest go first). */
export const OWN_WRITES_KEPT = 10_000;

/**
 * How long the count of the sync's own unnamed comment events stands. A webhook arrives within
 * seconds or is lost (the refresh covers what it would have said): a count older than this is
 * dropped, so lost ones do not make someone else's comment look like the sync's.
 */
export const OWN_COMMENT_EVENTS_MS = 60_000;

/** How long a creation event is held for a create that has not returned (then it is looked at like anyone's). */
export const CREATE_HOLD_MS = 1_000;

interface OwnWrite {
  applying: boolean;
  /** The version the last finished apply left the item at. */
  version: string | null;
  /**
   * Versions (null: unknown) the item's change events named while an apply wrote it, or the
   * comment they announced, or (`unnamedComment`, with its version) that a comment was made.
   */
  changed: Array<string | null | { comment: string } | { unnamedComment: string | null }>;
  /**
   * Comment events that do not name their comment, at or before `version`, still to come for the
   * comments the sync added; 'all' when the last apply read the comments back, so that any such
   * event is of a comment its baseline has.
   */
  ownCommentEvents?: number | 'all';
  /** When `ownCommentEvents` was counted. */
  ownCommentEventsAt?: number;
  /** The comments the sync wrote on the item, by id: their events are its own. Made at the first. */
  comments?: Set<string>;
}

const keyOf = (connectionId: string, localKey: string): string => `${connectionId}:${localKey}`;

export class EchoGuard {
  private readonly writes = new Map<string, OwnWrite>();
  private readonly creates = new Map<string, { running: number; held: Array<{ event: ItemEvent; at: number }> }>();

  /**
   * @param release events held for creates that are over and were not theirs: they go the usual way.
   * @param now the clock (tests move it).
   */
  constructor(
    private readonly release: (connectionId: string, events: ItemEvent[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  classify(connectionId: string, event: ItemEvent): EventVerdict {
    const own = this.writes.get(keyOf(connectionId, event.key));
    // Someone else's comment: its version may be one the sync read or left (the comment came in
    // the middle of an apply that did not read the comments back), so it is looked at anyway.
    const othersComment = event.kind === 'commented' && event.commentId !== undefined && !own?.comments?.has(event.commentId);
    // A comment event that does not say which comment: the sync's own, or not, is told by counting.
    const unnamedComment = event.kind === 'commented' && event.commentId === undefined;
    if (own?.applying) {
      // The apply's own comment may be announced before its write returns: told apart at its end.
      own.changed.push(othersComment ? { comment: event.commentId! } : unnamedComment ? { unnamedComment: event.version ?? null } : (event.version ?? null));
      return { kind: 'noted' };
    }
    if (unnamedComment && own?.version && event.version && !isNewer(event.version, own.version) && !this.ownCommentEvent(own)) {
      // A comment from before the last apply's read-back, which did not read the comments: not in
      // the baseline, so looked at now.
      return { kind: 'look' };
    }
    if (!othersComment && own?.version && event.version && !isNewer(event.version, own.version)) return { kind: 'own' };
    const creating = this.creates.get(connectionId);
    if (!own && event.kind === 'created' && creating) {
      creating.held.push({ event, at: this.now() });
      return { kind: 'held' };
    }
    return { kind: 'ask', othersComment };
  }

  /** This process starts writing the item: its change events now only note their versions. */
  beginWrite(connectionId: string, localKey: string): void {
    const key = keyOf(connectionId, localKey);
    const was = this.writes.get(key);
    this.writes.delete(key);
    // What the item's earlier writes left (its version, the comments they wrote, the events still due) carries over.
    this.writes.set(key, { ...was, applying: true, version: was?.version ?? null, changed: was?.changed ?? [] });
    // Only recent items matter; the twin's columns remember the rest.
    if (this.writes.size > OWN_WRITES_KEPT) this.writes.delete(this.writes.keys().next().value!);
  }

  /** The apply wrote (added or edited) this comment: its events are the sync's own. */
  noteComment(connectionId: string, localKey: string, commentId: string): void {
    const own = this.writes.get(keyOf(connectionId, localKey));
    if (own) (own.comments ??= new Set()).add(commentId);
  }

  createStarted(connectionId: string): void {
    const creating = this.creates.get(connectionId) ?? { running: 0, held: [] };
    creating.running += 1;
    this.creates.set(connectionId, creating);
  }

  /**
   * A create returned `key` (null: it failed): its own creation event is noted with the write. The
   * other held events are released once no create is left, or after CREATE_HOLD_MS (a create that
   * returns late has had its event looked at like anyone's).
   */
  createEnded(connectionId: string, key: string | null): void {
    const creating = this.creates.get(connectionId);
    if (!creating) return;
    creating.running -= 1;
    const own = key ? this.writes.get(keyOf(connectionId, key)) : undefined;
    const release: ItemEvent[] = [];
    creating.held = creating.held.filter(({ event, at }) => {
      if (own && event.key === key) own.changed.push(event.version ?? null);
      else if (creating.running === 0 || this.now() - at > CREATE_HOLD_MS) release.push(event);
      else return true;
      return false;
    });
    if (creating.running === 0) this.creates.delete(connectionId);
    if (release.length) this.release(connectionId, release);
  }

  /**
   * The write is over, leaving the item at `version` (null: it failed, and the next apply takes up
   * what was noted). Returns the versions noted meanwhile that were not the write's own (null:
   * unknown, look again), now cleared.
   */
  endWrite(connectionId: string, localKey: string | null, version: string | null, comments?: WriteCommentsDone): Array<string | null> {
    const own = localKey ? this.writes.get(keyOf(connectionId, localKey)) : undefined;
    if (!own) return [];
    own.applying = false;
    if (version === null) return [];
    own.version = version;
    const changed = own.changed.splice(0);
    const unnamed = changed.filter((c): c is { unnamedComment: string | null } => typeof c === 'object' && c !== null && 'unnamedComment' in c);
    const out: Array<string | null> = [];
    if (comments?.commentsReadBack) {
      // The read-back read the comments too: the baseline has every comment made up to `version`.
      own.ownCommentEvents = 'all';
      out.push(...unnamed.map((c) => c.unnamedComment));
    } else {
      // Each comment the sync added announces itself once. More such events than that (this
      // apply's, and those of earlier applies still to come) are someone else's comment, which the
      // read-back did not read: look again.
      const due = this.ownCommentEventsDue(own) + (comments?.commentsAdded ?? 0);
      if (unnamed.length > due) out.push(null);
      own.ownCommentEvents = Math.max(0, due - unnamed.length);
      own.ownCommentEventsAt = this.now();
      out.push(...unnamed.map((c) => c.unnamedComment).filter((v) => v === null || isNewer(v, version)));
    }
    // A comment event is the sync's own if the apply wrote that comment, and someone else's otherwise.
    for (const c of changed) {
      if (c === null || typeof c === 'string') out.push(c);
      else if ('comment' in c && !own.comments?.has(c.comment)) out.push(null);
    }
    return out;
  }

  /** Whether an unnamed comment event at or before the last apply's version is the sync's own (counted off if so). */
  private ownCommentEvent(own: OwnWrite): boolean {
    if (own.ownCommentEvents === 'all') return true;
    const due = this.ownCommentEventsDue(own);
    if (!due) return false;
    own.ownCommentEvents = due - 1;
    return true;
  }

  private ownCommentEventsDue(own: OwnWrite): number {
    if (typeof own.ownCommentEvents !== 'number' || this.now() - (own.ownCommentEventsAt ?? 0) > OWN_COMMENT_EVENTS_MS) return 0;
    return own.ownCommentEvents;
  }
}
