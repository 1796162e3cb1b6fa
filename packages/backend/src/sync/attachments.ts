/**
 * Attachment transfers, both ways. Attachments move whole through memory (up to the node's
 * `maxAttachmentBytes` each), so only a few at a time, in two pools: the ones read here for the
 * partner (`reads`: its fetches, or this private node's pushes ahead of the events), and, apart,
 * the ones taken in here (`takeIn`). Apart, since taking one in waits for the partner's reading:
 * with one pool, two nodes fetching from each other could each hold every slot the other's reads
 * wait for.
 *
 * One the tracker says is larger than the limit stays out of the replica, and the item's history
 * names it when the replica is sent, if the outgoing rule had put it in. An attachment read here
 * that turns out larger (which the tracker did not say, or said less) is stopped at the limit and
 * noted as too large (`oversize_attachments`): it is not read again, the partner's fetch is
 * refused (`ATTACHMENT_TOO_LARGE`), and the item's next outgoing replica leaves it out (the
 * `outgoing` job asked for here makes that replica), which the partner's waiting apply then takes
 * instead. The note stays with the item when the pair is unsynced and synced again.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { ConnectorError } from '@exalate/connectors';
import type { Replica, Result } from '@exalate/contract';
import type { ConnectionRow } from '../connections/repository.js';
import { isDeletedByPartner, type PeerCallError, type SigningIdentity } from '../peer/client.js';
import type { SyncContext } from './context.js';
import { megabytes } from './failures.js';
import type { OutboxRow } from './repository.js';

/** Attachments a node moves at once in each direction (read for the partner; taken in). */
const ATTACHMENT_TRANSFERS = 2;

/** An attachment read for the partner turned out larger than this node's limit. */
export class AttachmentTooLarge extends Error {
  constructor(filename: string, limit: number) {
    super(
      `The attachment ${filename} is larger than ${megabytes(limit)}, the sending node's limit per attachment, and is not synced; the item is sent again without it.`,
    );
  }
}

export interface AttachmentBytes {
  content: Buffer;
  sha256: string;
}

export class AttachmentTransfers {
  private readonly reads = pLimit(ATTACHMENT_TRANSFERS);
  private readonly writes = pLimit(ATTACHMENT_TRANSFERS);

  constructor(private readonly ctx: SyncContext) {}

  /** Reads a local attachment for the partner, with its sha256 (see the header on one too large). */
  async read(itemKey: string, attachmentId: string): Promise<AttachmentBytes & { filename: string; mimeType: string | null }> {
    const { repo, connector, maxAttachmentBytes: limit } = this.ctx;
    const known = (await repo.oversize(itemKey)).get(attachmentId);
    if (known && known.bytes > limit) throw new AttachmentTooLarge(known.filename, limit);
    const download = await connector.downloadAttachment(itemKey, attachmentId);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of download.stream) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        download.stream.destroy();
        await repo.noteOversize(itemKey, attachmentId, download.info.filename, size);
        throw new AttachmentTooLarge(download.info.filename, limit);
      }
      chunks.push(chunk as Buffer);
    }
    return { content: Buffer.concat(chunks), sha256: await download.sha256, filename: download.info.filename, mimeType: download.info.mimeType };
  }

  /**
   * Reads an attachment for the partner and gives it to `send`, which answers with it. Not sent
   * when the partner may not have it (it may read only attachments of items this node sent it),
   * or when it turns out larger than this node's limit: then the partner is sent the item again
   * without it, and its apply, which waits for the attachment, takes that one instead.
   */
  async forPartner(
    row: ConnectionRow,
    itemKey: string,
    attachmentId: string,
    send: (found: AttachmentBytes) => Promise<void>,
  ): Promise<Result<null, { reason: 'not-sent' } | { reason: 'too-large'; message: string }>> {
    const twin = await this.ctx.repo.twinByLocal(row.id, itemKey);
    if (!twin?.last_sent_replica?.attachments?.some((a) => a.id === attachmentId)) return { ok: false, error: { reason: 'not-sent' } };
    try {
      // The slot is held until the answer is sent: until then the bytes are in memory.
      await this.reads(async () => send(await this.read(itemKey, attachmentId)));
      return { ok: true, value: null };
    } catch (error) {
      if (!(error instanceof AttachmentTooLarge)) throw error;
      await this.ctx.schedule.later('outgoing', { connectionId: row.id, key: itemKey }, 0);
      return { ok: false, error: { reason: 'too-large', message: error.message } };
    }
  }

  /**
   * A private node's delivery: the partner cannot fetch attachments from it, so the bytes of the
   * events' attachments are pushed first, each read from the tracker for that and held until the
   * partner has them. `partnerWasAway` (the last delivery failed): an empty delivery first makes
   * sure the partner is back before any is read. Answers the partner's refusal, if any.
   */
  async pushAhead(row: ConnectionRow, identity: SigningIdentity, events: OutboxRow[], partnerWasAway: boolean): Promise<PeerCallError | null> {
    const { repo, logger, schedule, o } = this.ctx;
    const pushes = events.flatMap((e) =>
      e.kind === 'replica' ? ((e.payload as { replica: Replica }).replica.attachments ?? []).map((a) => ({ itemKey: e.item_key, id: a.id })) : [],
    );
    if (pushes.length && partnerWasAway) {
      const probe = await o.peers.sendEvents(row.partner_node_url!, identity, []);
      if (!probe.ok) return probe.error;
    }
    for (const { itemKey, id } of pushes) {
      if (await repo.wasPushed(row.id, itemKey, id)) continue;
      // Read and pushed under one slot: the bytes are held until the partner has them.
      const failure = await this.reads(async (): Promise<PeerCallError | null> => {
        const blob = await this.read(itemKey, id).catch(async (error: unknown) => {
          logger.warn({ connectionId: row.id, item: itemKey, attachment: id, err: error }, 'attachment could not be read for the partner');
          // Too large after all: the partner is sent the item again without it, and waits no longer.
          if (error instanceof AttachmentTooLarge) await schedule.later('outgoing', { connectionId: row.id, key: itemKey }, 0);
          return null;
        });
        if (!blob) return null;
        const sent = await o.peers.putBlob(row.partner_node_url!, identity, {
          itemKey,
          attachmentId: id,
          sha256: blob.sha256,
          contentBase64: blob.content.toString('base64'),
        });
        if (!sent.ok) return sent.error;
        await repo.markPushed(row.id, itemKey, id);
        return null;
      });
      if (failure) return failure;
    }
    return null;
  }

  /** Keeps the bytes a private partner pushed ahead of its events, checked against their sha256. */
  async saveBlob(row: ConnectionRow, itemKey: string, attachmentId: string, sha256: string, content: Buffer): Promise<void> {
    const actual = createHash('sha256').update(content).digest('hex');
    if (actual !== sha256) throw new Error(`attachment bytes do not match their sha256 (${actual} ≠ ${sha256})`);
    await this.ctx.repo.saveBlob(row.id, itemKey, attachmentId, sha256, content);
  }

  /** Runs `take` (an attachment's way in: fetched from the partner, then uploaded) in one of the slots for taking in. */
  takeIn<T>(take: () => Promise<T>): Promise<T> {
    return this.writes(take);
  }

  /** The partner's attachment, by sha256 checked: fetched from a public partner, or what a private one pushed. */
  async fromPartner(row: ConnectionRow, remoteKey: string, attachmentId: string): Promise<AttachmentBytes> {
    const { repo, o, platform } = this.ctx;
    if (!this.ctx.partnerReachable(row)) {
      const blob = await repo.blob(row.id, remoteKey, attachmentId);
      if (!blob) throw new ConnectorError('UNAVAILABLE', 'waiting for the partner to send the attachment’s bytes', { tracker: platform });
      return blob;
    }
    const got = await o.peers.getAttachment(row.partner_node_url!, o.identity(row), remoteKey, attachmentId);
    if (!got.ok && isDeletedByPartner(got.error)) await o.partnerDeleted(row);
    if (!got.ok) throw new ConnectorError('UNAVAILABLE', `the partner node did not give the attachment: ${got.error.message}`, { tracker: platform });
    const actual = createHash('sha256').update(got.value.content).digest('hex');
    if (actual !== got.value.sha256)
      throw new ConnectorError('UNAVAILABLE', `attachment bytes arrived damaged (sha256 ${actual}, expected ${got.value.sha256})`, { tracker: platform });
    return { content: got.value.content, sha256: actual };
  }
}
