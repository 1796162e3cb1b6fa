/**
 * The JQL the simulator evaluates: what sync triggers and change searches use.
 *   clause: field op value | field [NOT] IN (v, …) | field IS [NOT] EMPTY|NULL | field ~ "text" | field !~ "text"
 *   op: = != > >= < <=        combine: AND, OR, NOT, ( )        ORDER BY field [ASC|DESC], …
 *   values: "quoted", 'quoted', bare words, numbers, currentUser(), now(), startOfDay(), endOfDay(),
 *           relative dates like -15m, -2h, -1d, -1w, and dates "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm",
 *           "yyyy/MM/dd", "yyyy-MM-dd" (minute precision, as in Jira).
 */
export type JqlValue = { kind: 'text'; value: string; quoted: boolean } | { kind: 'function'; name: string; args: string[] };

export type JqlClause =
  | { kind: 'and'; left: JqlClause; right: JqlClause }
  | { kind: 'or'; left: JqlClause; right: JqlClause }
  | { kind: 'not'; inner: JqlClause }
  | { kind: 'compare'; field: string; op: '=' | '!=' | '>' | '>=' | '<' | '<=' | '~' | '!~'; value: JqlValue }
  | { kind: 'in'; field: string; negated: boolean; values: JqlValue[] }
  | { kind: 'empty'; field: string; negated: boolean };

export interface JqlQuery {
  where: JqlClause | null;
  orderBy: Array<{ field: string; descending: boolean }>;
}

export class JqlError extends Error {}

type Token = { t: 'word' | 'string' | 'op' | 'punct'; v: string; pos: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
          continue;
        }
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new JqlError(`Error in the JQL Query: The quoted string ${c}${value} has not been completed. (line 1, character ${i + 1})`);
      tokens.push({ t: 'string', v: value, pos: i });
      i = j + 1;
      continue;
    }
    const op = /^(!=|>=|<=|!~|=|>|<|~)/.exec(text.slice(i));
    if (op) {
      tokens.push({ t: 'op', v: op[0], pos: i });
      i += op[0].length;
      continue;
    }
    if (/[(),]/.test(c)) {
      tokens.push({ t: 'punct', v: c, pos: i });
      i++;
      continue;
    }
    const word = /^[^\s()",'=!<>~]+/.exec(text.slice(i));
    if (!word) throw new JqlError(`Error in the JQL Query: The character '${c}' is a reserved JQL character. (line 1, character ${i + 1})`);
    tokens.push({ t: 'word', v: word[0], pos: i });
    i += word[0].length;
  }
  return tokens;
}

export function parseJql(text: string): JqlQuery {
  const tokens = tokenize(text);
  let p = 0;
  const peek = () => tokens[p];
  const isWord = (w: string) => peek()?.t === 'word' && peek()!.v.toUpperCase() === w;
  const near = () => (peek() ? `'${peek()!.v}' (line 1, character ${peek()!.pos + 1})` : 'the end of the query');
  const expectPunct = (v: string) => {
    if (!(peek()?.t === 'punct' && peek()!.v === v)) throw new JqlError(`Error in the JQL Query: Expecting '${v}' but got ${near()}.`);
    p++;
  };
  const field = (): string => {
    const t = peek();
    if (!t || (t.t !== 'word' && t.t !== 'string') || (t.t === 'word' && ['AND', 'OR', 'NOT', 'ORDER'].includes(t.v.toUpperCase()))) {
      throw new JqlError(`Error in the JQL Query: Expecting a field name but got ${near()}.`);
    }
    p++;
    return t.v;
  };
  const value = (): JqlValue => {
    const t = peek();
    if (!t || (t.t !== 'word' && t.t !== 'string')) throw new JqlError(`Error in the JQL Query: Expecting either a value, list or function but got ${near()}.`);
    p++;
    if (t.t === 'word' && peek()?.t === 'punct' && peek()!.v === '(') {
      p++;
      const args: string[] = [];
      while (!(peek()?.t === 'punct' && peek()!.v === ')')) {
        const a = peek();
        if (!a) throw new JqlError(`Error in the JQL Query: Expecting ')' but got the end of the query.`);
        if (a.t === 'punct' && a.v === ',') {
          p++;
          continue;
        }
        args.push(a.v);
        p++;
      }
      p++;
      return { kind: 'function', name: t.v.toLowerCase(), args };
    }
    return { kind: 'text', value: t.v, quoted: t.t === 'string' };
  };
  const clause = (): JqlClause => {
    if (peek()?.t === 'punct' && peek()!.v === '(') {
      p++;
      const inner = or();
      expectPunct(')');
      return inner;
    }
    if (isWord('NOT')) {
      p++;
      return { kind: 'not', inner: clause() };
    }
    const f = field();
    const t = peek();
    if (t?.t === 'op') {
      p++;
      return { kind: 'compare', field: f, op: t.v as '=', value: value() };
    }
    if (isWord('IS')) {
      p++;
      const negated = isWord('NOT');
      if (negated) p++;
      if (!isWord('EMPTY') && !isWord('NULL')) throw new JqlError(`Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got ${near()}.`);
      p++;
      return { kind: 'empty', field: f, negated };
    }
    const negated = isWord('NOT');
    if (negated) p++;
    if (isWord('IN')) {
      p++;
      expectPunct('(');
      const values = [value()];
      while (peek()?.t === 'punct' && peek()!.v === ',') {
        p++;
        values.push(value());
      }
      expectPunct(')');
      return { kind: 'in', field: f, negated, values };
    }
    throw new JqlError(
      `Error in the JQL Query: Expecting operator but got ${near()}. Valid operators for field '${f}' are '=', '!=', '>', '>=', '<', '<=', '~', '!~', 'in', 'not in', 'is' and 'is not'.`,
    );
  };
  const and = (): JqlClause => {
    let left = clause();
    while (isWord('AND')) {
      p++;
      left = { kind: 'and', left, right: clause() };
    }
    return left;
  };
  const or = (): JqlClause => {
    let left = and();
    while (isWord('OR')) {
      p++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const where = tokens.length === 0 || isWord('ORDER') ? null : or();
  const orderBy: JqlQuery['orderBy'] = [];
  if (isWord('ORDER')) {
    p++;
    if (!isWord('BY')) throw new JqlError(`Error in the JQL Query: Expecting 'BY' but got ${near()}.`);
    p++;
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
  if (p < tokens.length) throw new JqlError(`Error in the JQL Query: Expecting either 'OR' or 'AND' but got ${near()}.`);
  return { where, orderBy };
}

/**
 * A JQL date value as an instant: absolute dates (minute precision, UTC: every simulated user's
 * time zone), relative offsets (-15m, 2h, -1d, -1w) and now()/startOfDay()/endOfDay().
 */
export function jqlDate(v: JqlValue, now = new Date()): number | null {
  if (v.kind === 'function') {
    const d = new Date(now);
    if (v.name === 'now') return d.getTime();
    if (v.name === 'startofday') return d.setUTCHours(0, 0, 0, 0);
    if (v.name === 'endofday') return d.setUTCHours(23, 59, 59, 999);
    return null;
  }
  const rel = /^([-+]?)([0-9]+)([mhdw])$/.exec(v.value.trim());
  if (rel) {
    const ms = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[3] as 'm'] * Number(rel[2]);
    return now.getTime() + (rel[1] === '-' ? -ms : ms);
  }
  const abs = /^([0-9]{4})[/-]([0-9]{1,2})[/-]([0-9]{1,2})(?:\s+([0-9]{1,2}):([0-9]{2}))?$/.exec(v.value.trim());
  if (!abs) return null;
  return Date.UTC(Number(abs[1]), Number(abs[2]) - 1, Number(abs[3]), Number(abs[4] ?? 0), Number(abs[5] ?? 0));
}
