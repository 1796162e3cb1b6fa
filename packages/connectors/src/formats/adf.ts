import type { BlockContent, DefinitionContent, List, ListItem, PhrasingContent, Root, RootContent } from 'mdast';

/**
 * Atlassian Document Format ↔ Markdown AST, node by node: the tree shapes of
 * https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/ and of mdast.
 */
export interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
  version?: number;
}

type Mark = NonNullable<AdfNode['marks']>[number];

export function adfToMdast(doc: AdfNode): Root {
  return { type: 'root', children: (doc.content ?? []).flatMap(block) };
}

function block(n: AdfNode): RootContent[] {
  const inline = () => (n.content ?? []).flatMap(phrasing);
  switch (n.type) {
    case 'paragraph':
      return [{ type: 'paragraph', children: inline() }];
    case 'heading':
      return [{ type: 'heading', depth: Math.min(6, Math.max(1, Number(n.attrs?.['level'] ?? 1))) as 1, children: inline() }];
    case 'bulletList':
    case 'orderedList':
      return [list(n)];
    case 'codeBlock':
      return [{ type: 'code', lang: (n.attrs?.['language'] as string | undefined) ?? null, value: (n.content ?? []).map((t) => t.text ?? '').join('') }];
    case 'blockquote':
    case 'panel':
      return [{ type: 'blockquote', children: (n.content ?? []).flatMap(block) as Array<BlockContent | DefinitionContent> }];
    case 'rule':
      return [{ type: 'thematicBreak' }];
    case 'mediaSingle':
    case 'mediaGroup':
      return [{ type: 'paragraph', children: (n.content ?? []).flatMap(phrasing) }];
    default:
      // Anything else (tables, expands, …) keeps its text.
      return n.content ? [{ type: 'paragraph', children: n.content.flatMap(phrasing) }] : [];
  }
}

function list(n: AdfNode): List {
  const ordered = n.type === 'orderedList';
  return {
    type: 'list',
    ordered,
    ...(ordered ? { start: Number(n.attrs?.['order'] ?? 1) } : {}),
    spread: false,
    children: (n.content ?? []).map((item): ListItem => ({
      type: 'listItem',
      spread: false,
      children: (item.content ?? []).flatMap(block) as Array<BlockContent | DefinitionContent>,
    })),
  };
}

function phrasing(n: AdfNode): PhrasingContent[] {
  switch (n.type) {
    case 'text':
      return [withMarks({ type: 'text', value: n.text ?? '' }, n.marks ?? [])];
    case 'hardBreak':
      return [{ type: 'break' }];
    case 'mention':
      return [{ type: 'text', value: String(n.attrs?.['text'] ?? '@someone') }];
    case 'emoji':
      return [{ type: 'text', value: String(n.attrs?.['text'] ?? n.attrs?.['shortName'] ?? '') }];
    case 'inlineCard':
      return [{ type: 'link', url: String(n.attrs?.['url'] ?? ''), children: [{ type: 'text', value: String(n.attrs?.['url'] ?? '') }] }];
    case 'media': {
      const url = String(n.attrs?.['url'] ?? '');
      return url ? [{ type: 'image', url, alt: (n.attrs?.['alt'] as string | undefined) ?? null }] : [];
    }
    default:
      return (n.content ?? []).flatMap(phrasing);
  }
}

function withMarks(node: PhrasingContent, marks: Mark[]): PhrasingContent {
  let out = node;
  for (const m of marks) {
    if (m.type === 'code' && out.type === 'text') out = { type: 'inlineCode', value: out.value };
    else if (m.type === 'strong') out = { type: 'strong', children: [out] };
    else if (m.type === 'em') out = { type: 'emphasis', children: [out] };
    else if (m.type === 'strike') out = { type: 'delete', children: [out] };
    else if (m.type === 'link') out = { type: 'link', url: String(m.attrs?.['href'] ?? ''), children: [out] };
  }
  return out;
}

export function mdastToAdf(root: Root): AdfNode {
  const content = root.children.flatMap(toBlock);
  return { version: 1, type: 'doc', content };
}

function toBlock(n: RootContent): AdfNode[] {
  switch (n.type) {
    case 'paragraph': {
      // ADF keeps images at block level (mediaSingle): split a paragraph around them.
      const out: AdfNode[] = [];
      let run: AdfNode[] = [];
      const flush = () => {
        // Whitespace at the edges of a paragraph carries nothing (HTML drops it too).
        const first = run[0];
        const last = run[run.length - 1];
        if (first?.type === 'text') first.text = (first.text ?? '').replace(/^\s+/, '');
        if (last?.type === 'text') last.text = (last.text ?? '').replace(/\s+$/, '');
        const content = run.filter((x) => x.type !== 'text' || (x.text ?? '') !== '');
        if (content.some((x) => x.type !== 'hardBreak')) out.push({ type: 'paragraph', content });
        run = [];
      };
      for (const child of n.children) {
        if (child.type === 'image') {
          flush();
          out.push({
            type: 'mediaSingle',
            attrs: { layout: 'center' },
            content: [{ type: 'media', attrs: { type: 'external', url: child.url, ...(child.alt ? { alt: child.alt } : {}) } }],
          });
        } else run.push(...toInline(child, []));
      }
      flush();
      return out.length ? out : [{ type: 'paragraph', content: [] }];
    }
    case 'heading':
      return [{ type: 'heading', attrs: { level: n.depth }, content: n.children.flatMap((c) => toInline(c, [])) }];
    case 'list':
      return [
        {
          type: n.ordered ? 'orderedList' : 'bulletList',
          ...(n.ordered ? { attrs: { order: n.start ?? 1 } } : {}),
          content: n.children.map((item) => ({ type: 'listItem', content: item.children.flatMap(toBlock) })),
        },
      ];
    case 'code':
      return [{ type: 'codeBlock', ...(n.lang ? { attrs: { language: n.lang } } : {}), content: n.value ? [{ type: 'text', text: n.value }] : [] }];
    case 'blockquote':
      return [{ type: 'blockquote', content: n.children.flatMap(toBlock) }];
    case 'thematicBreak':
      return [{ type: 'rule' }];
    case 'html':
      return n.value.trim() ? [{ type: 'paragraph', content: [{ type: 'text', text: n.value }] }] : [];
    default:
      return 'children' in n ? (n.children as RootContent[]).flatMap(toBlock) : [];
  }
}

function toInline(n: PhrasingContent | RootContent, marks: Mark[]): AdfNode[] {
  const text = (value: string): AdfNode[] => (value ? [{ type: 'text', text: value, ...(marks.length ? { marks } : {}) }] : []);
  switch (n.type) {
    case 'text':
      return text(n.value);
    case 'inlineCode':
      // ADF allows the code mark only with link; other marks are dropped, as the editor does.
      return n.value ? [{ type: 'text', text: n.value, marks: [...marks.filter((m) => m.type === 'link'), { type: 'code' }] }] : [];
    case 'strong':
      return n.children.flatMap((c) => toInline(c, [...marks, { type: 'strong' }]));
    case 'emphasis':
      return n.children.flatMap((c) => toInline(c, [...marks, { type: 'em' }]));
    case 'delete':
      return n.children.flatMap((c) => toInline(c, [...marks, { type: 'strike' }]));
    case 'link':
      return n.children.flatMap((c) => toInline(c, [...marks, { type: 'link', attrs: { href: n.url } }]));
    case 'break':
      return [{ type: 'hardBreak' }];
    case 'image':
      return text(n.alt ?? n.url);
    default:
      return 'value' in n && typeof n.value === 'string'
        ? text(n.value)
        : 'children' in n
          ? (n.children as PhrasingContent[]).flatMap((c) => toInline(c, marks))
          : [];
  }
}
