import { z } from 'zod';

/**
 * The replica: what one side tells the other about an item. A plain JSON document filled by the
 * outgoing script and read by the incoming script on the other side; scripts may add free
 * properties, which travel unchanged.
 */

export const TEXT_FORMATS = ['html', 'jira-wiki', 'adf', 'plain'] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

/** Text with the format it is written in, so the receiving side can convert it to its own. */
export const RichTextSchema = z.object({
  format: z.enum(TEXT_FORMATS),
  /** A string, or the document object for ADF. */
  value: z.union([z.string(), z.record(z.string(), z.unknown())]),
});
export type RichText = z.infer<typeof RichTextSchema>;

export const ReplicaPersonSchema = z.object({
  displayName: z.string(),
  email: z.string().nullable(),
});
export type ReplicaPerson = z.infer<typeof ReplicaPersonSchema>;

export const ReplicaCommentSchema = z.looseObject({
  id: z.string().min(1),
  author: ReplicaPersonSchema.nullable().optional(),
  body: RichTextSchema,
  created: z.string().optional(),
  updated: z.string().optional(),
});
export type ReplicaComment = z.infer<typeof ReplicaCommentSchema>;

export const ReplicaAttachmentSchema = z.looseObject({
  id: z.string().min(1),
  filename: z.string().min(1),
  mimeType: z.string().nullable().optional(),
  size: z.number().int().nonnegative().nullable().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .optional(),
});
export type ReplicaAttachment = z.infer<typeof ReplicaAttachmentSchema>;

export const ReplicaSchema = z.looseObject({
  key: z.string().min(1),
  id: z.string().optional(),
  url: z.string().optional(),
  type: z.string().nullable().optional(),
  summary: z.string().nullable().optional(),
  description: RichTextSchema.nullable().optional(),
  status: z.string().nullable().optional(),
  priority: z.string().nullable().optional(),
  labels: z.array(z.string()).optional(),
  assignee: ReplicaPersonSchema.nullable().optional(),
  reporter: ReplicaPersonSchema.nullable().optional(),
  comments: z.array(ReplicaCommentSchema).optional(),
  attachments: z.array(ReplicaAttachmentSchema).optional(),
  customFields: z.record(z.string(), z.unknown()).optional(),
});
export type Replica = z.infer<typeof ReplicaSchema>;
