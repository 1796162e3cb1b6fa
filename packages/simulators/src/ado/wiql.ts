/**
 * The subset of WIQL the simulator evaluates: what sync triggers and change queries use.
 *   SELECT [f], … FROM WorkItems [WHERE cond] [ORDER BY [f] [ASC|DESC], …]
 *   SELECT [f], … FROM WorkItemLinks [WHERE cond] [ORDER BY …] [MODE (Recursive | MustContain | MayContain | DoesNotContain)]
 *     where fields may be [Source].[f] or [Target].[f], and [System.Links.LinkType] names the link type
 *   cond: cond AND cond | cond OR cond | NOT cond | ( cond )
 *       | [f] (= | <> | > | >= | < | <=) value | [f] IN (v, …) | [f] NOT IN (…)
 *       | [f] CONTAINS 'text' | [f] NOT CONTAINS 'text' | [f] CONTAINS WORDS 'text' | [f] UNDER 'path'
 *   value: 'string' | number | @project | @me | @today [± n]
 * Anything else is refused with the parse error the admin needs to fix the query.
 */
export type WiqlValue = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'macro'; name: string; offset: number };

export type WiqlCondition =
  | { kind: 'and'; left: WiqlCondition; right: WiqlCondition }
  | { kind: 'or'; left: WiqlCondition; right: WiqlCondition }
  | { kind: 'not'; inner: WiqlCondition }
  | { kind: 'compare'; field: string; op: '=' | '<>' | '>' | '>=' | '<' | '<='; value: WiqlValue }
  | { kind: 'in'; field: string; negated: boolean; values: WiqlValue[] }
  | { kind: 'contains'; field: string; negated: boolean; words: boolean; value: WiqlValue }
  | { kind: 'under'; field: string; value: WiqlValue };

export interface WiqlQuery {
  source: 'workItems' | 'workItemLinks';
  mode: 'Recursive' | 'MustContain' | 'MayContain' | 'DoesNotContain' | null;
  fields: string[];
  where: WiqlCondition | null;
  orderBy: Array<{ field: string; descending: boolean }>;
}

export class WiqlError extends Error {}

type Token = { t: 'field' | 'string' | 'number' | 'word' | 'op' | 'punct' | 'macro'; v: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '[') {
      const end = text.indexOf(']', i);
      if (end < 0) throw new WiqlError('Expecting "]" to close a field name.');
      const name = text.slice(i + 1, end).trim();
      // [Source].[Field] and [Target].[Field] in link queries become one token "Source.Field".
      const qualified = /^\.\[([^\]]+)\]/.exec(text.slice(end + 1));
      if (qualified && /^(source|target)$/i.test(name)) {
        tokens.push({ t: 'field', v: `${name[0]!.toUpperCase()}${name.slice(1).toLowerCase()}::${qualified[1]!.trim()}` });
        i = end + 1 + qualified[0].length;
        continue;
      }
      tokens.push({ t: 'field', v: name });
      i = end + 1;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new WiqlError('A string is not closed.');
        if (text[j] === c && text[j + 1] === c) {
          value += c;
          j += 2;
          continue;
        }
        if (text[j] === c) break;
        value += text[j];
        j++;
      }
      tokens.push({ t: 'string', v: value });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? '') && tokens.at(-1)?.t === 'op')) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i))!;
      tokens.push({ t: 'number', v: m[0] });
      i += m[0].length;
    } else if (c === '@') {
      const m = /^@[A-Za-z]+/.exec(text.slice(i));
      if (!m) throw new WiqlError('Expecting a macro name after "@".');
      tokens.push({ t: 'macro', v: m[0].slice(1).toLowerCase() });
      i += m[0].length;
    } else if (/[<>=]/.test(c)) {
      const m = /^(<>|>=|<=|=|<|>)/.exec(text.slice(i))!;
      tokens.push({ t: 'op', v: m[0] });
      i += m[0].length;
    } else if (/[(),+-]/.test(c)) {
      tokens.push({ t: 'punct', v: c });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i))!;
      tokens.push({ t: 'word', v: m[0] });
      i += m[0].length;
    } else {
      throw new WiqlError(`Unexpected character "${c}" at position ${i + 1}.`);
    }
  }
  return tokens;
}

export function parseWiql(text: string): WiqlQuery {
  const tokens = tokenize(text);
  let p = 0;
  const peek = () => tokens[p];
  const isWord = (w: string, at = p) => tokens[at]?.t === 'word' && tokens[at]!.v.toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!isWord(w)) throw new WiqlError(`Expecting "${w}"${peek() ? ` near "${peek()!.v}"` : ' at the end'}.`);
    p++;
  };
  const field = (): string => {
    const t = peek();
    if (t?.t === 'field' || (t?.t === 'word' && !['AND', 'OR', 'NOT', 'FROM', 'WHERE', 'ORDER'].includes(t.v.toUpperCase()))) {
      p++;
      return t.v;
    }
    throw new WiqlError(`Expecting a field name${t ? ` near "${t.v}"` : ' at the end'}.`);
  };
  const value = (): WiqlValue => {
    const t = peek();
    if (!t) throw new WiqlError('Expecting a value at the end.');
    p++;
    if (t.t === 'string') return { kind: 'string', value: t.v };
    if (t.t === 'number') return { kind: 'number', value: Number(t.v) };
    if (t.t === 'macro') {
      let offset = 0;
      const sign = peek();
      if (sign?.t === 'punct' && (sign.v === '+' || sign.v === '-') && tokens[p + 1]?.t === 'number') {
        offset = Number(tokens[p + 1]!.v) * (sign.v === '-' ? -1 : 1);
        p += 2;
      } else if (sign?.t === 'number' && sign.v.startsWith('-')) {
        offset = Number(sign.v);
        p += 1;
      }
      return { kind: 'macro', name: t.v, offset };
    }
    throw new WiqlError(`Expecting a value near "${t.v}".`);
  };
  const primary = (): WiqlCondition => {
    if (peek()?.t === 'punct' && peek()!.v === '(') {
      p++;
      const inner = or();
      if (!(peek()?.t === 'punct' && peek()!.v === ')')) throw new WiqlError('Expecting ")".');
      p++;
      return inner;
    }
    if (isWord('NOT') && !(tokens[p + 1]?.t === 'field')) {
      p++;
      return { kind: 'not', inner: primary() };
    }
    const f = field();
    const t = peek();
    if (t?.t === 'op') {
      p++;
      return { kind: 'compare', field: f, op: t.v as '=', value: value() };
    }
    const negated = isWord('NOT');
    if (negated) p++;
    if (isWord('IN')) {
      p++;
      if (!(peek()?.t === 'punct' && peek()!.v === '(')) throw new WiqlError('Expecting "(" after IN.');
      p++;
      const values = [value()];
      while (peek()?.t === 'punct' && peek()!.v === ',') {
        p++;
        values.push(value());
      }
      if (!(peek()?.t === 'punct' && peek()!.v === ')')) throw new WiqlError('Expecting ")" to close the IN list.');
      p++;
      return { kind: 'in', field: f, negated, values };
    }
    if (isWord('CONTAINS')) {
      p++;
      const words = isWord('WORDS');
      if (words) p++;
      return { kind: 'contains', field: f, negated, words, value: value() };
    }
    if (isWord('UNDER') && !negated) {
      p++;
      return { kind: 'under', field: f, value: value() };
    }
    throw new WiqlError(`Expecting an operator after [${f}]${t ? ` near "${t.v}"` : ''}.`);
  };
  const and = (): WiqlCondition => {
    let left = primary();
    while (isWord('AND')) {
      p++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): WiqlCondition => {
    let left = and();
    while (isWord('OR')) {
      p++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  expectWord('SELECT');
  const fields = [field()];
  while (peek()?.t === 'punct' && peek()!.v === ',') {
    p++;
    fields.push(field());
  }
  expectWord('FROM');
  const from = peek()?.v.toLowerCase();
  if (from !== 'workitems' && from !== 'workitemlinks') throw new WiqlError('Expecting FROM WorkItems or FROM WorkItemLinks.');
  p++;
  let where: WiqlCondition | null = null;
  if (isWord('WHERE')) {
    p++;
    where = or();
  }
  const orderBy: WiqlQuery['orderBy'] = [];
  if (isWord('ORDER')) {
    p++;
    expectWord('BY');
    do {
      if (peek()?.t === 'punct' && peek()!.v === ',') p++;
      const f = field();
      let descending = false;
      if (isWord('DESC')) {
        descending = true;
        p++;
      } else if (isWord('ASC')) p++;
      orderBy.push({ field: f, descending });
    } while (peek()?.t === 'punct' && peek()!.v === ',');
  }
  let mode: WiqlQuery['mode'] = null;
  if (isWord('MODE')) {
    p++;
    const open = peek()?.t === 'punct' && peek()!.v === '(';
    if (open) p++;
    const m = ['Recursive', 'MustContain', 'MayContain', 'DoesNotContain'].find((x) => isWord(x.toUpperCase()));
    if (!m) throw new WiqlError('Expecting MODE (Recursive), (MustContain), (MayContain) or (DoesNotContain).');
    p++;
    if (open) {
      if (!(peek()?.t === 'punct' && peek()!.v === ')')) throw new WiqlError('Expecting ")" after the mode.');
      p++;
    }
    mode = m as WiqlQuery['mode'];
  }
  if (p < tokens.length) throw new WiqlError(`Unexpected "${tokens[p]!.v}".`);
  if (from === 'workitems' && mode) throw new WiqlError('MODE is only valid in a query FROM WorkItemLinks.');
  return {
    source: from === 'workitemlinks' ? 'workItemLinks' : 'workItems',
    mode: from === 'workitemlinks' ? (mode ?? 'MustContain') : null,
    fields,
    where,
    orderBy,
  };
}
