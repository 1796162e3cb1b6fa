/**
 * Texts in a rule, as Exalate scripts read them: a description and a comment's body are strings
 * (`replica.description.length`, `'[' + c.author.displayName + ']: ' + c.body`), and their format
 * travels beside them. The run remembers the format of every text it was given, by its value, and
 * of every text a `nodeHelper` conversion made; a string the rule hands back is in the format of
 * the text it is (or, built from one, of the longest it contains), else in its tracker's own format
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
import type { ScriptDirection } from './types.js';

/** A string built from a text this short or shorter is not taken to be in that text's format. */
const SHORTEST_SOURCE = 16;

export class RunTexts {
  private readonly formats = new Map<string, TextFormat>();

  constructor(
    /** The format of a string the rule made up: its tracker's own. */
    private readonly native: TextFormat,
  ) {}

  remember(value: string, format: TextFormat): void {
    this.formats.set(value, format);
  }

  formatOf(value: string): TextFormat {
    const exact = this.formats.get(value);
    if (exact) return exact;
    let best: { length: number; format: TextFormat } | null = null;
    for (const [source, format] of this.formats) {
      if (source.length >= SHORTEST_SOURCE && source.length > (best?.length ?? 0) && value.includes(source)) best = { length: source.length, format };
    }
    return best?.format ?? this.native;
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
    const isObject = (h: QuickJSHandle) => vm.typeof(h) === 'object' && !vm.sameValue(h, vm.null);
    const asString = (holder: QuickJSHandle, prop: string) =>
      vm.getProp(holder, prop).consume((text) => {
        if (!isObject(text)) return;
        const value = vm.getProp(text, 'value');
        const format = vm.getProp(text, 'format').consume((f) => (vm.typeof(f) === 'string' ? vm.getString(f) : null));
        if (vm.typeof(value) === 'string' && format !== null) {
          this.remember(vm.getString(value), format as TextFormat);
          vm.setProp(holder, prop, value);
        }
        value.dispose();
      });
    const order = direction === 'incoming' ? (['previous', 'issue', 'replica'] as const) : (['previous', 'replica', 'issue'] as const);
    for (const part of order) {
      vm.getProp(input, part).consume((thing) => {
        if (!isObject(thing)) return;
        asString(thing, 'description');
        vm.getProp(thing, 'comments').consume((comments) => {
          if (!isObject(comments)) return;
          const length = vm.getProp(comments, 'length').consume((n) => (vm.typeof(n) === 'number' ? vm.getNumber(n) : 0));
          for (let i = 0; i < length; i++) vm.getProp(comments, i).consume((comment) => isObject(comment) && asString(comment, 'body'));
        });
      });
    }
  }

  /** The result's texts back as `{ format, value }` (strings in the format they are in, see above). */
  restore(result: unknown): unknown {
    if (!result || typeof result !== 'object' || Array.isArray(result)) return result;
    const out = { ...(result as Record<string, unknown>) };
    if (typeof out['description'] === 'string') out['description'] = this.rich(out['description']);
    if (Array.isArray(out['comments'])) {
      out['comments'] = out['comments'].map((c: unknown) =>
        c && typeof c === 'object' && typeof (c as Record<string, unknown>)['body'] === 'string'
          ? { ...(c as Record<string, unknown>), body: this.rich((c as { body: string }).body) }
          : c,
      );
    }
    return out;
  }

  private rich(value: string): RichText {
    return { format: this.formatOf(value), value };
  }
}
