/**
 * Texts on their way into the tracker, and how large the sync lets them be. An incoming rule's
 * text (a description, a comment's body: in the partner's format, or a plain string in this
 * tracker's own) is converted to the tracker's format before the writes; a large one in a rule
 * thread, since converting some hundred kilobytes of markup takes a second or more, and the
 * server's main thread must not stop that long. Replicas past the sync's limits (contract's
 * limits.ts) fail their item with the field named, on the way out and on the way in.
 */
import type { RichText, TextFormat } from '@exalate/connectors';
import { convertText } from '@exalate/connectors';
import { formatBytes, replicaSizeProblem, type NodeType, type Replica } from '@exalate/contract';
import { nativeTextFormat, type ScriptItem, type ScriptRunner } from '@exalate/scripting';

/** Texts up to this size (of their value) convert on the main thread: a few milliseconds at most. */
const INLINE_CONVERSION_CHARS = 16 * 1024;

export class TrackerTexts {
  constructor(
    private readonly runner: ScriptRunner,
    private readonly platform: NodeType,
    private readonly format: TextFormat,
  ) {}

  /** `text` in `to`: here when it is small, in a rule thread when it is large. */
  async convert(text: RichText, to: TextFormat): Promise<RichText> {
    if (text.format === to) return text;
    const size = typeof text.value === 'string' ? text.value.length : JSON.stringify(text.value).length;
    return size <= INLINE_CONVERSION_CHARS ? convertText(text, to) : this.runner.convert(text, to);
  }

  /**
   * The rule's description and comment bodies in the tracker's format (the comments by index).
   * The rule's own values stay as they are: a comment's body is known by its hash as the partner sent it.
   */
  async native(item: ScriptItem): Promise<{ description: RichText | null | undefined; comments: RichText[] }> {
    const toNative = (value: ScriptItem['description']): Promise<RichText | null> => {
      if (value === null || value === undefined) return Promise.resolve(null);
      // A plain string is in this tracker's own format for rules.
      const text: RichText = typeof value === 'string' ? { format: nativeTextFormat(this.platform), value } : (value as RichText);
      return this.convert(text, this.format);
    };
    const [description, ...comments] = await Promise.all([
      item.description === undefined ? Promise.resolve(undefined) : toNative(item.description),
      ...(item.comments ?? []).map(async (c) => (await toNative(c.body)) ?? { format: this.format, value: '' }),
    ]);
    return { description, comments: comments as RichText[] };
  }

  /** The text as plain words, for telling two renderings of one text apart from two texts. */
  async plain(text: RichText): Promise<string> {
    return String((await this.convert(text, 'plain')).value)
      .replace(/\s+/g, ' ')
      .trim();
  }
}

/**
 * Why a replica (or what an incoming rule made of one) is too large to sync, for the item's error;
 * null when it fits. `side`: whose it is, as the admin of this node reads it.
 */
export function sizeProblem(
  replica: Pick<Replica, 'summary' | 'description' | 'comments'> | ScriptItem,
  key: string,
  side: 'sent' | 'received' | 'rule',
): string | null {
  const problem = replicaSizeProblem(replica as Parameters<typeof replicaSizeProblem>[0]);
  if (!problem) return null;
  const what = problem.field === 'replica' ? 'as a whole' : `in its ${problem.field}`;
  const size = `${formatBytes(problem.bytes)}, more than the ${formatBytes(problem.limit)} the sync takes${problem.field === 'replica' ? ' for a whole item' : ' for one text'}`;
  switch (side) {
    case 'sent':
      return `${key} is too large to send ${what}: ${size}. Shorten it in the tracker, or leave that part out in the outgoing rule, then retry the item.`;
    case 'received':
      return `The partner's replica of ${key} is too large ${what}: ${size}. Its admin can shorten it or leave that part out in their outgoing rule; then retry the item here.`;
    case 'rule':
      return `The incoming rule made ${key} too large ${what}: ${size}. Change the rule so it writes less, then retry the item.`;
  }
}
