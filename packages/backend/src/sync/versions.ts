/**
 * Versions and apply marks as the stages compare them: a tracker's version of an item (a revision
 * number or an ISO time), and the twin's marks of an apply under way.
 */
import type { TrackerItem } from '@exalate/connectors';
import type { TwinRow } from './repository.js';

/** Whether version `a` (a revision number or an ISO time) is later than `b`. */
export function isNewer(a: string, b: string): boolean {
  const [x, y] = [Number(a), Number(b)];
  return Number.isFinite(x) && Number.isFinite(y) && /^[0-9]+$/.test(a) && /^[0-9]+$/.test(b) ? x > y : a > b;
}

export const versionOf = (item: TrackerItem): string => item.version ?? item.updated;

/** A first sync started less than two minutes ago; an older mark is left from a crash. */
const recent = (since: Date | null): boolean => since !== null && Date.now() - new Date(since).getTime() < 120_000;

/** An incoming apply is writing this item right now. */
export const midApply = (twin: TwinRow): boolean => recent(twin.applying_since) || recent(twin.creating_since);

/** The sync already read (or wrote) this item as it was at `updated` or later: nothing new to look at. */
export const alreadySeen = (twin: TwinRow | null, updated: string): boolean => Boolean(twin?.local_updated) && updated <= twin!.local_updated!;
