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
 * Evaluated once per sandbox, before any rule: the object model and the sandbox's own plumbing.
 * Plain JavaScript over plain data; the only host function is `convert` (text formats), reachable
 * only through `nodeHelper`.
 *
 * A sandbox serves many runs, so nothing a rule does may outlive its run:
 * - each run gets its own model (`replica`, `issue`, the helpers) from `model`, built from its input;
 * - the built-ins are frozen, and so are the global object's own properties, so a rule cannot change
 *   what the next one finds (`Array.prototype.x = …` and `JSON = …` do nothing, or throw in strict
 *   code). Assigning `toString`, `valueOf`, `constructor`, `message` or `name` on a rule's own
 *   objects still works: those are accessors that give the object its own property instead;
 * - globals a rule adds are removed after its run by `cleanup`; when one cannot be (the rule made
 *   it permanent), the runner throws the sandbox away.
 * The value is a function of `convert` that returns the plumbing; it is never a global, so rules
 * cannot reach it.
 */
export const SANDBOX_SETUP = String.raw`
(function (convert) {
  'use strict';
  // Data properties on built-in prototypes that code commonly gives its own objects: freezing them
  // would make such an assignment fail (the "override mistake"), so they become accessors first.
  function tame(proto, names) {
    names.forEach(function (name) {
      var d = Object.getOwnPropertyDescriptor(proto, name);
      if (!d || !('value' in d)) return;
      var value = d.value;
      Object.defineProperty(proto, name, {
        get: function () { return value; },
        set: function (v) {
          if (this === proto) throw new TypeError('the built-in ' + name + ' cannot be changed');
          Object.defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable,
        configurable: false
      });
    });
  }
  tame(Object.prototype, ['constructor', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']);
  [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].forEach(function (E) {
    tame(E.prototype, ['constructor', 'name', 'message', 'toString']);
  });
  tame(Function.prototype, ['toString']);

  var seen = new Set();
  function harden(o) {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;
    seen.add(o);
    Reflect.ownKeys(o).forEach(function (k) {
      var d = Object.getOwnPropertyDescriptor(o, k);
      if ('value' in d) harden(d.value);
      else { harden(d.get); harden(d.set); }
    });
    harden(Object.getPrototypeOf(o));
    Object.freeze(o);
  }
  harden(convert);
  // The global object itself stays extensible (a sloppy rule may assign a name it never declared),
  // but what it holds is fixed.
  seen.add(globalThis);
  Reflect.ownKeys(globalThis).forEach(function (k) {
    var d = Object.getOwnPropertyDescriptor(globalThis, k);
    if ('value' in d) { harden(d.value); Object.defineProperty(globalThis, k, { writable: false, configurable: false }); }
    else { harden(d.get); harden(d.set); Object.defineProperty(globalThis, k, { configurable: false }); }
  });
  harden(Object.getPrototypeOf(globalThis));
  var globals = new Set(Reflect.ownKeys(globalThis));
  var globalCount = globals.size;

  /**
   * The local item's list (comments or attachments) plus the partner's: one the partner sent before
   * (its id is a local entry's remoteId) goes to known, a new one is appended as make gives it.
   */
  function mergeFromPartner(issue, replica, list, known, make) {
    var merged = (issue && issue[list] ? issue[list] : []).slice();
    var byRemote = {};
    merged.forEach(function (x) { if (x.remoteId != null) byRemote[String(x.remoteId)] = x; });
    ((replica && replica[list]) || []).forEach(function (r) {
      var mine = byRemote[String(r.id)];
      if (mine) known(mine, r);
      else merged.push(make(r));
    });
    return merged;
  }

  function model(inputJson) {
    var input = JSON.parse(inputJson);
    var logs = [];
    return {
      input: input,
      logs: logs,
      out: null,
      debug: {
        log: function () {
          if (logs.length >= 100) return;
          var parts = [];
          for (var i = 0; i < arguments.length; i++) {
            var a = arguments[i];
            parts.push(typeof a === 'string' ? a : JSON.stringify(a));
          }
          logs.push(parts.join(' ').slice(0, 2000));
        }
      },
      commentHelper: {
        /** The local comments plus the partner's: new ones appended, edited ones updated. Never deletes. */
        mergeComments: function (issue, replica) {
          return mergeFromPartner(issue, replica, 'comments', function (mine, rc) { mine.body = rc.body; }, function (rc) {
            return { remoteId: String(rc.id), author: rc.author || null, body: rc.body, created: rc.created };
          });
        }
      },
      attachmentHelper: {
        /** The local attachments plus the partner's that are not here yet. Never deletes. */
        mergeAttachments: function (issue, replica) {
          return mergeFromPartner(issue, replica, 'attachments', function () {}, function (ra) {
            return { remoteId: String(ra.id), filename: ra.filename, mimeType: ra.mimeType, size: ra.size, sha256: ra.sha256 };
          });
        }
      },
      nodeHelper: {
        /** The item type of that name in the target project (any case), or null when it has none. */
        getIssueType: function (name) {
          if (name == null) return null;
          var wanted = String(name).toLowerCase();
          for (var i = 0; i < input.itemTypes.length; i++) {
            if (input.itemTypes[i].toLowerCase() === wanted) return { name: input.itemTypes[i] };
          }
          return null;
        },
        /** A person to assign by email; the tracker resolves it when the item is written. */
        getUserByEmail: function (email) {
          return email ? { email: String(email) } : null;
        },
        stripHtml: function (text) { return text == null ? null : convert(JSON.stringify(text), 'plain'); },
        toHtml: function (text) { return text == null ? null : convert(JSON.stringify(text), 'html'); },
        toWiki: function (text) { return text == null ? null : convert(JSON.stringify(text), 'jira-wiki'); }
      }
    };
  }

  return {
    model: model,
    /** What the rule built. Whichever alias the rule rebound wins. */
    finish: function (m) {
      var o = m.out, given = m.input.issue;
      var issue = o.issue !== given ? o.issue : o.workItem !== given ? o.workItem : o.entity;
      return JSON.stringify({ replica: o.replica, issue: issue, logs: m.logs });
    },
    logs: function (m) {
      try { return JSON.stringify(m.logs.map(String)); } catch (e) { return '[]'; }
    },
    cleanup: function () {
      var keys = Reflect.ownKeys(globalThis);
      if (keys.length === globalCount) return true;
      for (var i = 0; i < keys.length; i++) {
        if (!globals.has(keys[i]) && !delete globalThis[keys[i]]) return false;
      }
      return Reflect.ownKeys(globalThis).length === globalCount;
    }
  };
})
`;

/**
 * A rule as the sandbox compiles it: a function of its run's model, with the names a rule uses bound
 * to it. The rule starts on the first line after this header, so its line numbers are its own
 * (columns on its first line are shifted by `RULE_HEADER.length`). The rule is checked to be a
 * whole script on its own first, so it cannot reach out of the function.
 */
export const RULE_HEADER =
  '(function (__exalate) { var replica = __exalate.input.replica, issue = __exalate.input.issue, previous = __exalate.input.previous, ' +
  'firstSync = __exalate.input.firstSync, workItem = issue, entity = issue, debug = __exalate.debug, commentHelper = __exalate.commentHelper, ' +
  'attachmentHelper = __exalate.attachmentHelper, nodeHelper = __exalate.nodeHelper; ';
export const RULE_FOOTER = '\n;__exalate.out = { replica: replica, issue: issue, workItem: workItem, entity: entity };\n})';
