/**
 * ServiceNow encoded queries, as the Table API takes them in sysparm_query:
 *   cond(^cond)*(^ORcond)*(^NQ …)*  with ORDERBYfield / ORDERBYDESCfield anywhere.
 *   operators: = != > >= < <= LIKE NOT LIKE STARTSWITH ENDSWITH IN NOT IN ISEMPTY ISNOTEMPTY
 *   values may be javascript:gs.dateGenerate('yyyy-MM-dd','HH:mm:ss').
 * https://www.servicenow.com/docs/r/platform-user-interface/c_EncodedQueryStrings.html
 */
export interface Condition {
  field: string;
  op: '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'NOT LIKE' | 'STARTSWITH' | 'ENDSWITH' | 'IN' | 'NOT IN' | 'ISEMPTY' | 'ISNOTEMPTY';
  value: string;
}

export interface EncodedQuery {
  /** OR of groups (^NQ); each group is an AND of terms; each term an OR of conditions (^OR). */
  groups: Condition[][][];
  orderBy: Array<{ field: string; descending: boolean }>;
}

export class EncodedQueryError extends Error {}

const OPS: Condition['op'][] = ['ISNOTEMPTY', 'ISEMPTY', 'NOT LIKE', 'NOT IN', 'STARTSWITH', 'ENDSWITH', 'LIKE', 'IN', '>=', '<=', '!=', '=', '>', '<'];

function condition(text: string): Condition {
  // Column names are lower case (dot-walking allowed), so an upper-case operator ends them.
  const m = /^([a-z_][a-z0-9_.]*)/.exec(text);
  if (!m) throw new EncodedQueryError(`Invalid query condition "${text}": it must start with a field name.`);
  const field = m[1]!;
  const rest = text.slice(field.length);
  for (const op of OPS) {
    if (rest.startsWith(op)) {
      let value = rest.slice(op.length);
      const gen = /^javascript:gs\.dateGenerate\('([0-9-]+)','([0-9:]+)'\)$/.exec(value);
      if (gen) value = `${gen[1]} ${gen[2]}`;
      if ((op === 'ISEMPTY' || op === 'ISNOTEMPTY') && value !== '') throw new EncodedQueryError(`Invalid query condition "${text}".`);
      return { field, op, value };
    }
  }
  throw new EncodedQueryError(`Invalid query condition "${text}": no operator after "${field}".`);
}

export function parseEncodedQuery(input: string): EncodedQuery {
  const orderBy: EncodedQuery['orderBy'] = [];
  const groups: Condition[][][] = [];
  for (const groupText of input.split('^NQ')) {
    const terms: Condition[][] = [];
    for (const part of groupText.split('^')) {
      if (part === '') continue;
      if (part.startsWith('ORDERBYDESC')) orderBy.push({ field: part.slice(11), descending: true });
      else if (part.startsWith('ORDERBY')) orderBy.push({ field: part.slice(7), descending: false });
      else if (part.startsWith('OR') && terms.length && /^OR[a-z_]/.test(part)) terms[terms.length - 1]!.push(condition(part.slice(2)));
      else if (part === 'EQ') continue;
      else terms.push([condition(part)]);
    }
    if (terms.length) groups.push(terms);
  }
  return { groups, orderBy };
}
