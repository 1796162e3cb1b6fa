/**
 * The attachments aspect of an apply's write: each of the partner's attachments is transferred
 * once (fetched from the partner or taken from what a private one pushed, in one of the slots for
 * taking in: see ../attachments.ts), checked by sha256, uploaded, and its twin stored at once.
 * After a crash, one already uploaded is recognised by its name and size instead.
 */
import { ConnectorError } from '@exalate/connectors';
import type { AttachmentTransfers } from '../attachments.js';
import type { SyncContext } from '../context.js';
import { recording, type ApplyPlan, type WriteAspect } from './plan.js';

export class AttachmentsWrite implements WriteAspect {
  constructor(
    private readonly ctx: SyncContext,
    private readonly transfers: AttachmentTransfers,
  ) {}

  async write(plan: ApplyPlan): Promise<void> {
    const { connector, repo } = this.ctx;
    const { row, desired, written, replica, recovering } = plan;
    const current = plan.current!;
    const twin = plan.twin;
    const localKey = twin.local_key!;
    const attachmentTwins = new Set(written.attachments.map((a) => a.remote_attachment_id));
    const claimed = new Set(written.attachments.map((a) => a.local_attachment_id));
    for (const a of desired.attachments ?? []) {
      const remoteId = a.remoteId;
      if (!remoteId || a.id || attachmentTwins.has(remoteId)) continue;
      await this.transfers.takeIn(async () => {
        const bytes = await this.transfers.fromPartner(row, replica.key, remoteId);
        const already = recovering
          ? current.attachments.find((l) => !claimed.has(l.id) && l.filename === a.filename && (l.size === null || l.size === bytes.content.length))
          : undefined;
        if (already) {
          claimed.add(already.id);
          await recording(plan, (set) => repo.saveAttachmentTwin(twin.id, remoteId, already.id, bytes.sha256, set));
          return;
        }
        const uploaded = await connector.uploadAttachment(localKey, { filename: a.filename, mimeType: a.mimeType ?? null, content: bytes.content });
        if (uploaded.sha256 && uploaded.sha256 !== bytes.sha256) {
          throw new ConnectorError('UNAVAILABLE', `the tracker stored different bytes for ${a.filename} than were sent`, { tracker: connector.trackerType });
        }
        await recording(plan, (set) => repo.saveAttachmentTwin(twin.id, remoteId, uploaded.id, bytes.sha256, set));
        await repo.dropBlob(row.id, replica.key, remoteId);
      });
    }
  }
}
