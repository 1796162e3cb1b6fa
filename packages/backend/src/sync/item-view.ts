import { createHash } from 'node:crypto';
import { convertText, type Person, type RichText, type TextFormat, type TrackerItem } from '@exalate/connectors';
import { canonicalJson, type NodeType } from '@exalate/contract';
import { nativeTextFormat, type ScriptItem } from '@exalate/scripting';

export interface MirroredIds {
  /** local comment id → the partner's comment id, for comments the sync wrote here. */
  comments: Map<string, string>;
  /** local attachment id → the partner's attachment id. */
  attachments: Map<string, string>;
}

const person = (p: Person | null) => (p ? { displayName: p.displayName, email: p.email } : null);

/**
 * The local item as a rule sees it. For the outgoing rule, what the sync itself wrote here
 * (comments and attachments mirrored from this partner) is left out: sending it back would echo it.
 * For the incoming rule it stays, marked with the partner's id, so the merge helpers recognise it.
 */
export function toScriptItem(item: TrackerItem, mirrored: MirroredIds, direction: 'outgoing' | 'incoming'): ScriptItem {
  const comments = item.comments
    .filter((c) => direction === 'incoming' || !mirrored.comments.has(c.id))
    .map((c) => {
      const remoteId = mirrored.comments.get(c.id);
      return { id: c.id, ...(remoteId ? { remoteId } : {}), author: person(c.author), body: c.body, created: c.created, updated: c.updated };
    });
  const attachments = item.attachments
    .filter((a) => direction === 'incoming' || !mirrored.attachments.has(a.id))
    .map((a) => {
      const remoteId = mirrored.attachments.get(a.id);
      return { id: a.id, ...(remoteId ? { remoteId } : {}), filename: a.filename, mimeType: a.mimeType, size: a.size, sha256: a.sha256 };
    });
  return {
    key: item.key,
    id: item.id,
    url: item.url,
    project: item.project,
    type: item.type,
    summary: item.summary,
    description: item.description,
    status: item.status,
    priority: item.priority,
    labels: item.labels,
    assignee: person(item.assignee),
    reporter: person(item.reporter),
    comments,
    attachments,
    customFields: item.customFields,
    parentId: item.parent?.key ?? null,
  };
}

/** A rule's text value (RichText, or a plain string in the tracker's own format) in `to`. */
export function textIn(value: ScriptItem['description'], platform: NodeType, to: TextFormat): RichText | null {
  if (value === null || value === undefined) return null;
  const text: RichText = typeof value === 'string' ? { format: nativeTextFormat(platform), value } : (value as RichText);
  return convertText(text, to);
}

/** Same text, both in the tracker's own format? (An empty text and none are the same.) */
export function sameText(a: RichText | null, b: RichText | null): boolean {
  if (a === null || b === null) return isBlank(a) && isBlank(b);
  return canonicalJson(a.value) === canonicalJson(b.value);
}

/** No words in it. A long text is taken to have some without converting it (that takes time on this thread). */
const isBlank = (t: RichText | null) => t === null || (lengthOf(t) <= 4096 && plainOf(t) === '');
const lengthOf = (t: RichText): number => (typeof t.value === 'string' ? t.value.length : JSON.stringify(t.value).length);
const plainOf = (t: RichText): string => String(convertText(t, 'plain').value).replace(/\s+/g, ' ').trim();

export const hashOf = (value: unknown): string => createHash('sha256').update(canonicalJson(value)).digest('hex');
