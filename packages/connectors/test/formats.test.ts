import { convertText, type RichText } from '../src/index.js';

/** Each tracker's native format into the others, keeping structure. */
const html =
  '<h2>Steps</h2><p>Open the <strong>cart</strong>, then <em>pay</em> with <a href="https://pay.example.com">the gateway</a>.</p><ul><li>Safari</li><li>Firefox</li></ul><ol><li>first</li><li>second</li></ol><pre><code class="language-js">const total = 1;</code></pre><p>Screenshot: <img src="https://files.example.com/cart.png" alt="cart"></p>';

describe('format conversion', () => {
  it('HTML → ADF keeps headings, marks, links, lists, code and inline images', () => {
    const { value } = convertText({ format: 'html', value: html }, 'adf') as unknown as {
      value: { content: Array<{ type: string; attrs?: Record<string, unknown>; content?: unknown[] }> };
    };
    expect(value.content.map((n) => n.type)).toEqual(['heading', 'paragraph', 'bulletList', 'orderedList', 'codeBlock', 'paragraph', 'mediaSingle']);
    expect(value.content[0]).toMatchObject({ attrs: { level: 2 } });
    expect(value.content[1]!.content).toEqual(
      expect.arrayContaining([
        { type: 'text', text: 'cart', marks: [{ type: 'strong' }] },
        { type: 'text', text: 'the gateway', marks: [{ type: 'link', attrs: { href: 'https://pay.example.com' } }] },
      ]),
    );
    expect(value.content[4]).toMatchObject({ attrs: { language: 'js' }, content: [{ type: 'text', text: 'const total = 1;' }] });
    expect(value.content[6]).toMatchObject({
      content: [{ type: 'media', attrs: { type: 'external', url: 'https://files.example.com/cart.png', alt: 'cart' } }],
    });
  });

  it("HTML → Jira wiki markup, through Atlassian's transformer", () => {
    const wiki = String(convertText({ format: 'html', value: html }, 'jira-wiki').value);
    expect(wiki).toContain('h2. Steps');
    expect(wiki).toContain('*cart*');
    expect(wiki).toContain('_pay_');
    expect(wiki).toContain('[the gateway|https://pay.example.com]');
    expect(wiki).toMatch(/\* Safari\n\* Firefox/);
    expect(wiki).toMatch(/# first\n# second/);
    expect(wiki).toContain('const total = 1;');
    expect(wiki).toContain('!https://files.example.com/cart.png');
  });

  it('Jira wiki → HTML', () => {
    const out = String(
      convertText(
        { format: 'jira-wiki', value: 'h1. Title\n\nSome *bold* text with [a link|https://example.com].\n\n* one\n* two\n\n{code}x = 1{code}' },
        'html',
      ).value,
    );
    expect(out).toContain('<h1>Title</h1>');
    expect(out).toContain('<strong>bold</strong>');
    expect(out).toContain('<a href="https://example.com">a link</a>');
    expect(out).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
    expect(out).toMatch(/<pre><code[^>]*>x = 1\s*<\/code><\/pre>/);
  });

  it('ADF → HTML → ADF round-trips the structure', () => {
    const adf = convertText({ format: 'html', value: html }, 'adf');
    const again = convertText(convertText(adf, 'html'), 'adf');
    expect(again).toEqual(adf);
  });

  it('to and from plain text (ServiceNow): paragraphs, list items, link targets', () => {
    const plain = String(convertText({ format: 'html', value: html }, 'plain').value);
    expect(plain).toBe(
      'Steps\n\nOpen the cart, then pay with the gateway (https://pay.example.com).\n\n- Safari\n- Firefox\n\n1. first\n2. second\n\nconst total = 1;\n\nScreenshot: cart (https://files.example.com/cart.png)',
    );
    const back: RichText = convertText({ format: 'plain', value: 'First line\nsecond line\n\nNew paragraph' }, 'html');
    expect(back.value).toBe('<p>First line<br>\nsecond line</p>\n<p>New paragraph</p>');
  });

  it('leaves text in its own format alone and refuses an ADF value that is not a document', () => {
    const text: RichText = { format: 'html', value: '<p>x</p>' };
    expect(convertText(text, 'html')).toBe(text);
    expect(() => convertText({ format: 'adf', value: { type: 'paragraph' } }, 'html')).toThrow(/document/);
  });
});
