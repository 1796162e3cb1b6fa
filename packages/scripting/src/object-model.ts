import { ReplicaPersonSchema, RichTextSchema, type NodeType, type ReplicaPerson, type RichText, type TextFormat } from '@exalate/contract';
import { z } from 'zod';

/**
 * What a script sees of the local item: `issue` (also `workItem` on Azure DevOps, `entity` on
 * ServiceNow). The same shape on every tracker, so one rule can be read on either side.
 *
 * Text fields hold `{ format, value }`. A script may also assign a plain string: it is taken to be
 * in the tracker's own text format (see `nativeTextFormat`).
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

/**
 * Runs inside the sandbox before the rule: the object model. Plain JavaScript over plain data; the
 * only host functions it calls are `__convert` (text formats) and nothing else.
 */
export const PRELUDE = String.raw`
var __in = JSON.parse(__input);
var __logs = [];
var replica = __in.replica;
var issue = __in.issue;
var previous = __in.previous;
var firstSync = __in.firstSync;
var workItem = issue;
var entity = issue;
var debug = {
  log: function () {
    if (__logs.length >= 100) return;
    var parts = [];
    for (var i = 0; i < arguments.length; i++) {
      var a = arguments[i];
      parts.push(typeof a === 'string' ? a : JSON.stringify(a));
    }
    __logs.push(parts.join(' ').slice(0, 2000));
  }
};
var commentHelper = {
  /** The local comments plus the partner's: new ones appended, edited ones updated. Never deletes. */
  mergeComments: function (issue, replica) {
    var merged = (issue && issue.comments ? issue.comments : []).slice();
    var byRemote = {};
    merged.forEach(function (c) { if (c.remoteId != null) byRemote[String(c.remoteId)] = c; });
    ((replica && replica.comments) || []).forEach(function (rc) {
      var mine = byRemote[String(rc.id)];
      if (mine) {
        mine.body = rc.body;
      } else {
        merged.push({ remoteId: String(rc.id), author: rc.author || null, body: rc.body, created: rc.created });
      }
    });
    return merged;
  }
};
var attachmentHelper = {
  /** The local attachments plus the partner's that are not here yet. Never deletes. */
  mergeAttachments: function (issue, replica) {
    var merged = (issue && issue.attachments ? issue.attachments : []).slice();
    var known = {};
    merged.forEach(function (a) { if (a.remoteId != null) known[String(a.remoteId)] = true; });
    ((replica && replica.attachments) || []).forEach(function (ra) {
      if (!known[String(ra.id)]) {
        merged.push({ remoteId: String(ra.id), filename: ra.filename, mimeType: ra.mimeType, size: ra.size, sha256: ra.sha256 });
      }
    });
    return merged;
  }
};
var nodeHelper = {
  /** The item type of that name in the target project (any case), or null when it has none. */
  getIssueType: function (name) {
    if (name == null) return null;
    var wanted = String(name).toLowerCase();
    for (var i = 0; i < __in.itemTypes.length; i++) {
      if (__in.itemTypes[i].toLowerCase() === wanted) return { name: __in.itemTypes[i] };
    }
    return null;
  },
  /** A person to assign by email; the tracker resolves it when the item is written. */
  getUserByEmail: function (email) {
    return email ? { email: String(email) } : null;
  },
  stripHtml: function (text) { return text == null ? null : __convert(JSON.stringify(text), 'plain'); },
  toHtml: function (text) { return text == null ? null : __convert(JSON.stringify(text), 'html'); },
  toWiki: function (text) { return text == null ? null : __convert(JSON.stringify(text), 'jira-wiki'); }
};
`;

/** Runs after the rule: hands back what it built. Whichever alias the rule rebound wins. */
export const EPILOGUE = String.raw`
JSON.stringify({
  replica: replica,
  issue: issue !== __in.issue ? issue : workItem !== __in.issue ? workItem : entity,
  logs: __logs
});
`;
