/**
 * The item write of an incoming apply: its aspects in order (fields, comments, attachments), each
 * recording what it wrote in the plan, then the finish (read-back, baseline, the apply's end in
 * one statement). A new aspect of the item is one more module in the list below.
 */
import type { AttachmentTransfers } from '../attachments.js';
import type { SyncContext } from '../context.js';
import { AttachmentsWrite } from './attachments.js';
import { CommentsWrite } from './comments.js';
import { FieldsWrite } from './fields.js';
import { FinishWrite, type WriteResult } from './finish.js';
import type { ApplyPlan, WriteAspect } from './plan.js';

export class ItemWrite {
  private readonly aspects: WriteAspect[];
  private readonly finishing: FinishWrite;

  constructor(ctx: SyncContext, transfers: AttachmentTransfers) {
    // Fields first: a first sync creates the item the others write to.
    this.aspects = [new FieldsWrite(ctx), new CommentsWrite(ctx), new AttachmentsWrite(ctx, transfers)];
    this.finishing = new FinishWrite(ctx);
  }

  async write(plan: ApplyPlan): Promise<WriteResult> {
    for (const aspect of this.aspects) await aspect.write(plan);
    return this.finishing.finish(plan);
  }
}
