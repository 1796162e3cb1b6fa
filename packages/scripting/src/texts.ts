/**
 * Texts in a rule, as Exalate scripts read them: a description and a comment's body are strings
 * (`replica.description.length`, `'[' + c.author.displayName + ']: ' + c.body`), and their format
 * travels beside them. The run remembers the format of every text it was given, by its value, and
 * of every text a `nodeHelper` conversion made; a string the rule hands back is in the format of
 * the text it is, or, built from one, of the longest it contains (a comment's body: else of the
 * comment it stands for), else in its tracker's own format
 * (HTML on Azure DevOps, wiki markup on Jira, plain text on ServiceNow), as a plain string always
 * was. So `issue.description = replica.description` converts the partner's text as before, and so
 * does `'Synced: ' + replica.description`. `text.format` and `text.value` still read as they did
 * when texts were `{ format, value }`, and a rule may still assign such an object.
 *
 * Where one value came in two formats (the same words here and at the partner), the incoming rule
 * takes the partner's, the outgoing rule this side's.
 */
import type { RichText, TextFormat } from '@exalate/contract';
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten';
import { isObjectHandle } from './handles.js';
import type { ScriptDirection } from './types.js';

/** A string built from a text this short or shorter is not taken to be in that text's format. */
const SHORTEST_SOURCE = 16;
/** The longest texts a string is looked for in, at most (so that many long comments cost a bounded time). */
const SOURCES_LOOKED_AT = 64;

export class RunTexts {
  private readonly formats = new Map<string, TextFormat>();
  /** Each comment's format, by its id (the partner's comments: by the id that becomes `remoteId`). */
  private readonly commentFormats = { local: new Map<string, TextFormat>(), partner: new Map<string, TextFormat>() };
  private longest: Array<[string, TextFormat]> | null = null;

  constructor(
    /** The format of a string the rule made up: its tracker's own. */
    private readonly native: TextFormat,
  ) {}

  remember(value: string, format: TextFormat): void {
    this.formats.set(value, format);
    this.longest = null;
  }

  /** The format of `value`: of the text it is, else of the longest it contains, else `fallback`. */
  formatOf(value: string, fallback: TextFormat = this.native): TextFormat {
    const exact = this.formats.get(value);
    if (exact) return exact;
    this.longest ??= [...this.formats]
      .filter(([source]) => source.length >= SHORTEST_SOURCE)
      .sort(([a], [b]) => b.length - a.length)
      .slice(0, SOURCES_LOOKED_AT);
    for (const [source, format] of this.longest) if (source.length <= value.length && value.includes(source)) return format;
    return fallback;
  }

  /**
   * The input's texts (`previous`, `issue`, `replica`: descriptions and comment bodies) as strings
   * in the run's context, their formats remembered; the side whose format wins a tie goes last.
   * Also gives the run's strings `format` and `value`.
   */
  toStrings(vm: QuickJSContext, input: QuickJSHandle, direction: ScriptDirection): void {
    const formatOf = (value: string) => this.formatOf(value);
    vm.getProp(vm.global, 'String').consume((ctor) =>
      vm.getProp(ctor, 'prototype').consume((proto) => {
        vm.defineProp(proto, 'value', {
          configurable: true,
          enumerable: false,
          get: function (this: QuickJSHandle) {
            return this.dup();
          },
        });
        vm.defineProp(proto, 'format', {
          configurable: true,
          enumerable: false,
          get: function (this: QuickJSHandle) {
            return vm.newString(formatOf(vm.getString(this)));
          },
        });
      }),
    );
    const isObject = (h: QuickJSHandle) => isObjectHandle(vm, h);
    const asString = (holder: QuickJSHandle, prop: string): TextFormat | null =>
      vm.getProp(holder, prop).consume((text) => {
        if (!isObject(text)) return null;
        const value = vm.getProp(text, 'value');
        const format = vm.getProp(text, 'format').consume((f) => (vm.typeof(f) === 'string' ? (vm.getString(f) as TextFormat) : null));
        const done = vm.typeof(value) === 'string' && format !== null;
        if (done) {
          this.remember(vm.getString(value), format);
          vm.setProp(holder, prop, value);
        }
        value.dispose();
        return done ? format : null;
      });
    const idOf = (comment: QuickJSHandle): string | null =>
      vm.getProp(comment, 'id').consume((h) => (vm.typeof(h) === 'string' ? vm.getString(h) : vm.typeof(h) === 'number' ? String(vm.getNumber(h)) : null));
    const order = direction === 'incoming' ? (['previous', 'issue', 'replica'] as const) : (['previous', 'replica', 'issue'] as const);
    for (const part of order) {
      vm.getProp(input, part).consume((thing) => {
        if (!isObject(thing)) return;
        asString(thing, 'description');
        vm.getProp(thing, 'comments').consume((comments) => {
          if (!isObject(comments)) return;
          const length = vm.getProp(comments, 'length').consume((n) => (vm.typeof(n) === 'number' ? vm.getNumber(n) : 0));
          const byId = part === 'issue' ? this.commentFormats.local : part === 'replica' ? this.commentFormats.partner : null;
          for (let i = 0; i < length; i++) {
            vm.getProp(comments, i).consume((comment) => {
              if (!isObject(comment)) return;
              const format = asString(comment, 'body');
              const id = format && byId ? idOf(comment) : null;
              if (id !== null && format) byId!.set(id, format);
            });
          }
        });
      });
    }
  }

  /**
   * The result's texts back as `{ format, value }` (strings in the format they are in, see
   * above). A comment's body that neither is nor contains a text the run was given is in the
   * format of the comment it stands for (its `remoteId`: the partner's comment; its `id`: the
   * local one), if it has one.
   */
  restore(result: unknown): unknown {
    if (!result || typeof result !== 'object' || Array.isArray(result)) return result;
    const out = { ...(result as Record<string, unknown>) };
    if (typeof out['description'] === 'string') out['description'] = this.rich(out['description']);
    if (Array.isArray(out['comments'])) {
      out['comments'] = out['comments'].map((entry: unknown) => {
        const c = entry as Record<string, unknown> | null;
        if (!c || typeof c !== 'object' || typeof c['body'] !== 'string') return entry;
        const of =
          (c['remoteId'] !== undefined && this.commentFormats.partner.get(String(c['remoteId']))) ||
          (c['id'] !== undefined && this.commentFormats.local.get(String(c['id']))) ||
          undefined;
        return { ...c, body: this.rich(c['body'], of) };
      });
    }
    return out;
  }

  private rich(value: string, fallback?: TextFormat): RichText {
    return { format: this.formatOf(value, fallback), value };
  }
}
