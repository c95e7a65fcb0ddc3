import { describe, expect, it } from 'vitest';
import { childNamed, childrenNamed, parseXml, XML_LIMITS, type XmlElement } from './parseXml.js';

function parse(source: string): XmlElement {
  const result = parseXml(source);
  if (!result.ok) throw new Error(`expected a document, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function refusal(source: string): { message: string; line: number; column: number } {
  const result = parseXml(source);
  if (result.ok) throw new Error('expected the document to be refused');
  return result.error;
}

describe('parseXml: the tree', () => {
  it('gives names, attributes, children, own text and where each element starts', () => {
    const root = parse(
      '<?xml version="1.0" encoding="UTF-8"?>\n<a x="1">\n  <b y="2"/>text\n\t<c\n   z="3">c text</c></a>',
    );
    expect(root).toStrictEqual({
      name: 'a',
      attributes: { x: '1' },
      text: '\n  text\n\t',
      line: 2,
      column: 1,
      children: [
        { name: 'b', attributes: { y: '2' }, children: [], text: '', line: 3, column: 3 },
        { name: 'c', attributes: { z: '3' }, children: [], text: 'c text', line: 4, column: 2 },
      ],
    });
  });

  it('counts lines ended by \\r\\n or a lone \\r, and columns in characters', () => {
    const root = parse('<a>\r\n  <b\r\n/>\r\n\r<c/>😀<d/></a>');
    expect(root.children.map(({ name, line, column }) => ({ name, line, column }))).toEqual([
      { name: 'b', line: 2, column: 3 },
      { name: 'c', line: 5, column: 1 },
      { name: 'd', line: 5, column: 6 },
    ]);
  });

  it('drops namespaces: prefixes go, xmlns declarations are not attributes', () => {
    const root = parse(
      '<os:workflow xmlns:os="urn:os" xmlns="urn:default" os:name="t" id="1"><os:steps/><step/></os:workflow>',
    );
    expect(root.name).toBe('workflow');
    expect(root.attributes).toStrictEqual({ name: 't', id: '1' });
    expect(root.children.map((child) => child.name)).toEqual(['steps', 'step']);
    // An undeclared prefix is not an error either: namespaces are not processed.
    expect(parse('<x:a/>').name).toBe('a');
  });

  it('refuses two attributes that become one once prefixes are dropped', () => {
    expect(refusal('<a>\n  <b xmlns:p="urn:p" k="1" p:k="2"/></a>')).toEqual({
      message: 'duplicate attribute: k',
      line: 2,
      column: 3,
    });
  });

  it('keeps attributes named like Object properties as plain attributes', () => {
    const root = parse('<a __proto__="x" constructor="y"/>');
    expect(Object.getPrototypeOf(root.attributes)).toBe(Object.prototype);
    expect(Object.entries(root.attributes)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  it('reads CDATA, the predefined entities and character references', () => {
    const root = parse(
      '<a t="&lt;&amp;&#65;">&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600; <![CDATA[<b>&amp;</b>]]></a>',
    );
    expect(root.text).toBe('<>&"\' AB😀 <b>&amp;</b>');
    expect(root.attributes).toStrictEqual({ t: '<&A' });
    expect(root.children).toEqual([]);
  });

  it('ignores comments and processing instructions', () => {
    const root = parse('<!-- before --><?pi x?><a><!-- <b/> -->x<?pi y?>y</a><!-- after -->');
    expect(root).toMatchObject({ name: 'a', text: 'xy', children: [] });
  });

  it('childNamed and childrenNamed find children by name', () => {
    const root = parse('<a><b i="1"/><c/><b i="2"/></a>');
    expect(childNamed(root, 'b')?.attributes).toEqual({ i: '1' });
    expect(childNamed(root, 'd')).toBeUndefined();
    expect(childrenNamed(root, 'b').map((b) => b.attributes['i'])).toEqual(['1', '2']);
    expect(childrenNamed(root, 'd')).toEqual([]);
  });
});

describe('parseXml: refused documents', () => {
  it('refuses a DOCTYPE', () => {
    expect(refusal('<!DOCTYPE a>\n<a/>')).toEqual({
      message: 'a DOCTYPE is not allowed',
      line: 1,
      column: 12,
    });
    expect(refusal('<!DOCTYPE a SYSTEM "http://example.com/a.dtd"><a/>').message).toBe(
      'a DOCTYPE is not allowed',
    );
  });

  it('refuses an external entity (XXE), declared or not', () => {
    const declared =
      '<?xml version="1.0"?>\n<!DOCTYPE a [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<a>&xxe;</a>';
    expect(refusal(declared)).toEqual({
      message: 'a DOCTYPE is not allowed',
      line: 4,
      column: 2,
    });
    expect(refusal('<a>\n  <b>&xxe;</b></a>')).toEqual({
      message: 'undefined entity.',
      line: 2,
      column: 10,
    });
    expect(refusal('<a b="&xxe;"/>').message).toBe('undefined entity.');
  });

  it('refuses a billion-laughs document before any expansion', () => {
    const lol = Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`,
    ).join('\n');
    const source = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n${lol}\n]>\n<lolz>&lol9;</lolz>`;
    expect(refusal(source)).toMatchObject({ message: 'a DOCTYPE is not allowed', line: 13 });
  });

  it(`allows ${XML_LIMITS.depth} levels of elements, not more`, () => {
    const nested = (depth: number): string => '<e>'.repeat(depth) + '</e>'.repeat(depth);
    expect(parse(nested(XML_LIMITS.depth)).name).toBe('e');
    expect(refusal(nested(XML_LIMITS.depth + 1))).toEqual({
      message: `elements nested deeper than ${XML_LIMITS.depth}`,
      line: 1,
      column: 3 * XML_LIMITS.depth + 1,
    });
  });

  it(`allows ${XML_LIMITS.elements} elements, not more`, () => {
    const many = (count: number): string => `<a>${'<b/>'.repeat(count - 1)}</a>`;
    expect(parse(many(XML_LIMITS.elements)).children).toHaveLength(XML_LIMITS.elements - 1);
    expect(refusal(many(XML_LIMITS.elements + 1))).toEqual({
      message: `more than ${XML_LIMITS.elements} elements`,
      line: 1,
      column: 4 + 4 * (XML_LIMITS.elements - 1),
    });
  });

  it.each([
    ['an unclosed element', '<a>\n  <b>\n</a>', 'unexpected close tag.', 3, 4],
    ['a mismatched close tag', '<a><b></c></a>', 'unexpected close tag.', 1, 10],
    ['an unquoted attribute', '<a>\n <b x=1/></a>', 'unquoted attribute value.', 2, 7],
    ['a duplicate attribute', '<a x="1" x="2"/>', 'duplicate attribute: x.', 1, 16],
    [
      'a malformed entity',
      '<a>fish &amp chips;</a>',
      'disallowed character in entity name.',
      1,
      19,
    ],
    ['a bad character reference', '<a>&#0;</a>', 'malformed character entity.', 1, 7],
    ['two roots', '<a/>\n<b/>', 'documents may contain only one root.', 2, 3],
    ['text outside the root', '<a/>\ntext', 'text data outside of root node.', 2, 4],
    ['an end before the root closes', '<a>\n<b/>', 'unclosed tag: a', 2, 4],
  ])('reports %s with its position', (_, source, message, line, column) => {
    expect(refusal(source)).toEqual({ message, line, column });
  });

  it('reports a bare ampersand, though only where saxes gives up looking for its `;`', () => {
    expect(refusal('<a>fish & chips</a>')).toEqual({
      message: 'unclosed tag: a',
      line: 1,
      column: 19,
    });
  });

  it.each([
    ['an empty string', ''],
    ['only spaces', '  \n  '],
    ['only a declaration and a comment', '<?xml version="1.0"?>\n<!-- nothing -->'],
  ])('refuses a document without a root: %s', (_, source) => {
    expect(refusal(source).message).toBe('document must contain a root element.');
  });
});
