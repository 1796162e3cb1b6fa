import { ReplicaPersonSchema, RichTextSchema, type NodeType, type ReplicaPerson, type RichText, type TextFormat } from '@exalate/contract';
import { z } from 'zod';

/**
 * What a script sees of the local item: `issue` (also `workItem` on Azure DevOps, `entity` on
 * ServiceNow). The same shape on every tracker, so one rule can be read on either side.
 *
 * This is the shape the engine gives and takes. Inside a run, the rule sees texts as strings
 * (texts.ts) and named values with their `.name` (named-values.ts); what it hands back is made
 * this shape again before it is checked here. A text is `{ format, value }`, or a plain string in
 * the tracker's own text format (see `nativeTextFormat`).
 */
const text = z.union([RichTextSchema, z.string()]);
/** `nodeHelper.getUserByEmail` gives `{ email }`; the tracker resolves the person when it is written. */
const person = z.union([ReplicaPersonSchema, z.object({ email: z.string(), displayName: z.string().optional() })]);

export const ScriptCommentSchema = z.looseObject({
  /** The local comment's id; absent for a comment the sync is to add. */
  id: z.string().optional(),
  /** The partner's comment this one mirrors, when the sync made it. */
  remoteId: z.string().optional(),
  author: person.nullable().optional(),
  body: text,
  created: z.string().optional(),
  updated: z.string().optional(),
});
export type ScriptComment = z.infer<typeof ScriptCommentSchema>;

export const ScriptAttachmentSchema = z.looseObject({
  id: z.string().optional(),
  remoteId: z.string().optional(),
  filename: z.string().min(1),
  mimeType: z.string().nullable().optional(),
  size: z.number().nullable().optional(),
  sha256: z.string().nullable().optional(),
});
export type ScriptAttachment = z.infer<typeof ScriptAttachmentSchema>;

export const ScriptItemSchema = z.looseObject({
  key: z.string().optional(),
  id: z.string().optional(),
  url: z.string().optional(),
  project: z.string().optional(),
  type: z.string().nullable().optional(),
  summary: z.string().nullable().optional(),
  description: text.nullable().optional(),
  status: z.string().nullable().optional(),
  priority: z.string().nullable().optional(),
  labels: z.array(z.string()).optional(),
  assignee: person.nullable().optional(),
  reporter: person.nullable().optional(),
  comments: z.array(ScriptCommentSchema).optional(),
  attachments: z.array(ScriptAttachmentSchema).optional(),
  customFields: z.record(z.string(), z.unknown()).optional(),
  /** The parent's key (Exalate's `parentId`); a rule may set a key or an id. Null: none. */
  parentId: z
    .union([z.string(), z.number().transform(String)])
    .nullable()
    .optional(),
});
export type ScriptItem = z.infer<typeof ScriptItemSchema>;

export type { ReplicaPerson, RichText, TextFormat };

/** The format a plain string in a script is taken to be in, per tracker. */
export function nativeTextFormat(platform: NodeType): TextFormat {
  switch (platform) {
    case 'AZURE_DEVOPS':
      return 'html';
    case 'JIRA_CLOUD':
    case 'JIRA_SERVER':
      return 'jira-wiki';
    case 'SERVICENOW':
      return 'plain';
  }
}

/** The name scripts use for the local item besides `issue`. */
export function itemAlias(platform: NodeType): 'workItem' | 'entity' | null {
  return platform === 'AZURE_DEVOPS' ? 'workItem' : platform === 'SERVICENOW' ? 'entity' : null;
}
