/**
 * The plan of one incoming apply's writes, handed from aspect to aspect (fields, comments,
 * attachments), then to the finish: what the incoming rule made, what the item was, and what the
 * writes have done so far. A new aspect of the item (links, worklogs, …) is one more module that
 * reads the plan and records what it wrote in it.
 */
import type { ItemChanges, RichText, TrackerComment, TrackerItem } from '@exalate/connectors';
import type { Replica } from '@exalate/contract';
import type { ScriptItem } from '@exalate/scripting';
import type { ConnectionRow } from '../../connections/repository.js';
import type { CommentTwinWrite, TwinChanges, TwinRow, WrittenBySync } from '../repository.js';

/** Which of the partner's events an apply takes in, recorded with it. */
export interface ApplyDone {
  remoteKey: string;
  /** The last of the partner's events for this item that the apply stands for. */
  upToSeq: string;
  /** Acknowledge an update too: the partner did not know our key when it sent the replica. */
  ackEvenIfUpdated: boolean;
}

export interface ApplyPlan {
  row: ConnectionRow;
  twin: TwinRow;
  /** The item as read before any write; on a first sync, set once the fields aspect created it. */
  current: TrackerItem | null;
  /** What the incoming rule made; its description already in the tracker's format. */
  desired: ScriptItem;
  /** The bodies of `desired.comments` in the tracker's format, by index. */
  nativeBodies: RichText[];
  written: WrittenBySync;
  replica: Replica;
  firstSync: boolean;
  /** An earlier apply of the item was interrupted: what it already wrote is recognised, not written twice. */
  recovering: boolean;
  interruptedCreate: Date | null;
  project: string;
  done: ApplyDone;
  /** The item had a change here that had not gone out when the apply began. */
  unsent: boolean;
  /** The incoming rule asked for the item to go back to the partner once written (`syncBackAfterProcessing`). */
  syncBack: boolean;
  /**
   * Twin columns this apply set and has not stored yet: the key of the item a first sync created
   * goes with the next statement the apply makes anyway, one commit fewer per new item.
   */
  unrecorded: TwinChanges;
  /** Comment twins this apply made or changed and has not stored yet, by the partner's comment id. */
  unrecordedComments: Map<string, CommentTwinWrite>;
  /** The fields this apply set: what the item should show for them afterwards (fields aspect). */
  wrote: ItemChanges;
  /**
   * The item's comments once this apply is done, from what was read and what the writes were
   * answered with, so the read-back need not read them again; null once a write did not say
   * (comments aspect).
   */
  knownComments: TrackerComment[] | null;
  /** Comments this apply added: their change events are its own (see the echo guard). */
  commentsAdded: number;
}

/** One aspect of the item's write. */
export interface WriteAspect {
  write(plan: ApplyPlan): Promise<void>;
}

/** Runs a statement that also records the twin's columns not stored yet; they are stored once it succeeds. */
export async function recording(plan: ApplyPlan, save: (set: TwinChanges) => Promise<void>): Promise<void> {
  await save(plan.unrecorded);
  plan.unrecorded = {};
}
