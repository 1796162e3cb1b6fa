/**
 * The comments aspect of an apply's write: the partner's new comments are added, the ones it
 * edited are updated, each exactly once. Which local comment mirrors which is stored with the
 * apply's end (or by the apply if it fails first): one statement per item, not one per comment.
 * After a crash in between, the apply is still marked, and the next one recognises the comments
 * this one wrote by their words (`recovering`).
 */
import type { CommentRef, TrackerComment } from '@exalate/connectors';
import type { SyncContext } from '../context.js';
import { hashOf, textIn } from '../item-view.js';
import type { ApplyPlan, WriteAspect } from './plan.js';

export class CommentsWrite implements WriteAspect {
  constructor(private readonly ctx: SyncContext) {}

  async write(plan: ApplyPlan): Promise<void> {
    const { connector, guard, texts, platform } = this.ctx;
    const { row, desired, written, recovering } = plan;
    const current = plan.current!;
    const localKey = plan.twin.local_key!;
    const commentTwins = new Map(written.comments.map((c) => [c.remote_comment_id, c]));
    const mirrored = (remoteId: string, localId: string, hash: string) => {
      plan.unrecordedComments.set(remoteId, { remoteId, localId, hash });
      commentTwins.set(remoteId, { remote_comment_id: remoteId, local_comment_id: localId, remote_hash: hash });
    };
    plan.knownComments = [...current.comments];
    const knowComment = (ref: CommentRef) => {
      guard.noteComment(row.id, localKey, ref.id);
      const known = plan.knownComments;
      const i = known?.findIndex((c) => c.id === ref.id) ?? -1;
      if (!ref.comment || !known) plan.knownComments = null;
      else if (i >= 0) known[i] = ref.comment;
      else known.push(ref.comment);
    };
    for (const [i, c] of (desired.comments ?? []).entries()) {
      const remoteId = c.remoteId;
      if (!remoteId) continue;
      const hash = hashOf(c.body);
      const known = commentTwins.get(remoteId);
      const body = plan.nativeBodies[i] ?? textIn(c.body, platform, connector.textFormat)!;
      if (!known) {
        if (c.id) continue; // already here, made some other way
        const words = recovering ? await texts.plain(body) : '';
        const already = recovering ? await unclaimed(current.comments, commentTwins, async (local) => (await texts.plain(local.body)) === words) : null;
        let localId = already?.id;
        if (!localId) {
          const added = await connector.addComment(localKey, body);
          plan.commentsAdded += 1;
          knowComment(added);
          localId = added.id;
        }
        mirrored(remoteId, localId, hash);
      } else if (known.remote_hash !== hash) {
        knowComment(await connector.updateComment(localKey, known.local_comment_id, body));
        mirrored(remoteId, known.local_comment_id, hash);
      }
    }
  }
}

/** A local comment the sync wrote before it stopped, not yet recorded: the first unclaimed one that matches. */
async function unclaimed(
  comments: TrackerComment[],
  twins: Map<string, { local_comment_id: string }>,
  matches: (c: TrackerComment) => Promise<boolean>,
): Promise<TrackerComment | null> {
  const claimed = new Set([...twins.values()].map((t) => t.local_comment_id));
  for (const c of comments) if (!claimed.has(c.id) && (await matches(c))) return c;
  return null;
}
