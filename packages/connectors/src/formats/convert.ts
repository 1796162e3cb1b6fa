import { createRequire } from 'node:module';
import type { Root, RootContent } from 'mdast';
import { toString } from 'mdast-util-to-string';
import rehypeParse from 'rehype-parse';
import rehypeRemark from 'rehype-remark';
import rehypeStringify from 'rehype-stringify';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';
import type { RichText, TextFormat } from '../connector.js';
import { adfToMdast, mdastToAdf, type AdfNode } from './adf.js';

// Atlassian's own wiki markup parser and serializer (CommonJS packages).
const require = createRequire(import.meta.url);
const { WikiMarkupTransformer } = require('@atlaskit/editor-wikimarkup-transformer') as {
  WikiMarkupTransformer: new () => { parse(wiki: string): unknown; encode(node: unknown): string };
};
const { JSONTransformer } = require('@atlaskit/editor-json-transformer') as {
  JSONTransformer: new () => { encode(node: unknown): AdfNode; parse(doc: AdfNode): unknown };
};

let wiki: InstanceType<typeof WikiMarkupTransformer> | null = null;
let json: InstanceType<typeof JSONTransformer> | null = null;
const transformers = () => {
  wiki ??= new WikiMarkupTransformer();
  json ??= new JSONTransformer();
  return { wiki, json };
};

/**
 * Converts text between the trackers' native formats, keeping paragraphs, headings, lists, links,
 * emphasis, code and inline images. The hub is a Markdown syntax tree (mdast): HTML through
 * rehype/remark, ADF by a node-for-node mapping, Jira wiki markup through Atlassian's transformer
 * (wiki ↔ ADF), plain text by blocks.
 */
export function convertText(text: RichText, to: TextFormat): RichText {
  if (text.format === to) return text;
  return fromTree(toTree(text), to);
}

function toTree(text: RichText): Root {
  switch (text.format) {
    case 'html': {
      const processor = unified().use(rehypeParse, { fragment: true }).use(rehypeRemark);
      return processor.runSync(processor.parse(String(text.value))) as Root;
    }
    case 'adf':
      return adfToMdast(asAdf(text.value));
    case 'jira-wiki': {
      const { wiki: w, json: j } = transformers();
      return adfToMdast(j.encode(w.parse(String(text.value))));
    }
    case 'plain':
      return plainToTree(String(text.value));
  }
}

function fromTree(tree: Root, to: TextFormat): RichText {
  switch (to) {
    case 'html': {
      const hast = unified().use(remarkRehype).runSync(tree);
      return {
        format: 'html',
        value: unified()
          .use(rehypeStringify)
          .stringify(hast as never),
      };
    }
    case 'adf':
      return { format: 'adf', value: mdastToAdf(tree) as unknown as Record<string, unknown> };
    case 'jira-wiki': {
      const { wiki: w, json: j } = transformers();
      return { format: 'jira-wiki', value: w.encode(j.parse(mdastToAdf(tree))) };
    }
    case 'plain':
      return { format: 'plain', value: treeToPlain(tree) };
  }
}

function asAdf(value: RichText['value']): AdfNode {
  const doc = (typeof value === 'string' ? JSON.parse(value) : value) as AdfNode;
  if (doc.type !== 'doc') throw new Error('An ADF value must be a document (type "doc").');
  return doc;
}

/** Blank lines separate paragraphs; single line breaks stay breaks. */
function plainToTree(text: string): Root {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .filter((p) => p.trim() !== '');
  return {
    type: 'root',
    children: paragraphs.map((p) => ({
      type: 'paragraph',
      children: p
        .split('\n')
        .flatMap((line, i) => (i === 0 ? [{ type: 'text' as const, value: line }] : [{ type: 'break' as const }, { type: 'text' as const, value: line }])),
    })),
  };
}

/** Blocks become paragraphs of text; list items get "- " or "1. "; images and links keep their URL. */
function treeToPlain(tree: Root): string {
  // `list` numbers the list a block belongs to, so two lists in a row stay apart.
  const blocks: Array<{ text: string; list: number | null }> = [];
  let lists = 0;
  const inline = (n: RootContent): string => {
    if (n.type === 'break') return '\n';
    if (n.type === 'image') return n.alt ? `${n.alt} (${n.url})` : n.url;
    if (n.type === 'link') {
      const label = (n.children as RootContent[]).map(inline).join('');
      return label && label !== n.url ? `${label} (${n.url})` : n.url;
    }
    if ('children' in n) return (n.children as RootContent[]).map(inline).join('');
    return toString(n);
  };
  const walk = (n: RootContent, indent = ''): void => {
    if (n.type === 'list') {
      const list = ++lists;
      n.children.forEach((item, i) => {
        const marker = n.ordered ? `${(n.start ?? 1) + i}. ` : '- ';
        const [first, ...rest] = item.children;
        blocks.push({ text: `${indent}${marker}${first ? (first.type === 'paragraph' ? first.children.map(inline).join('') : toString(first)) : ''}`, list });
        for (const r of rest) walk(r, `${indent}  `);
      });
      return;
    }
    if (n.type === 'code') return void blocks.push({ text: n.value, list: null });
    if (n.type === 'thematicBreak') return void blocks.push({ text: '---', list: null });
    if (n.type === 'blockquote') return void n.children.forEach((c) => walk(c, indent));
    blocks.push({ text: `${indent}${inline(n)}`, list: null });
  };
  tree.children.forEach((c) => walk(c));
  // Items of one list stay together; other blocks are separated by a blank line.
  return blocks.map((b, i) => (i === 0 ? '' : b.list !== null && b.list === blocks[i - 1]!.list ? '\n' : '\n\n') + b.text).join('');
}
