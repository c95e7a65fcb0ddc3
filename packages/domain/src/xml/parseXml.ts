import { SaxesParser } from 'saxes';
import { err, ok, type Result } from '../result.js';

/** An element of a parsed XML document. Names are local names (any prefix is dropped). */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text (text and CDATA directly inside it), untrimmed. */
  readonly text: string;
  /** One-based line and column where the element starts. */
  readonly line: number;
  readonly column: number;
}

export interface XmlError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

export const XML_LIMITS = { depth: 32, elements: 10_000 } as const;

/** A document this parser will not take, at a place of its choosing (else where saxes stands). */
class Refused extends Error {
  constructor(
    message: string,
    readonly at?: { readonly line: number; readonly column: number },
  ) {
    super(message);
  }
}

/**
 * Line and column (one-based; columns counted in code points, as saxes counts them) of offsets
 * into `source`, asked for in increasing order. `\r\n` and a lone `\r` end a line, as in XML.
 */
function positionTracker(source: string): (offset: number) => { line: number; column: number } {
  let at = 0;
  let line = 1;
  let column = 1;
  return (offset) => {
    for (; at < offset; at += 1) {
      const code = source.charCodeAt(at);
      if (code === 0x0a || (code === 0x0d && source.charCodeAt(at + 1) !== 0x0a)) {
        line += 1;
        column = 1;
      } else if (code !== 0x0d && (code < 0xdc00 || code > 0xdfff)) {
        column += 1;
      }
    }
    return { line, column };
  };
}

interface Building {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
  line: number;
  column: number;
}

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

/**
 * Parses one XML document into a tree, strictly (saxes, well-formedness errors are failures).
 * A DOCTYPE is refused, so no DTD is ever read and no entity can be declared; references to
 * anything but the five predefined entities and character references fail as undefined.
 * Namespaces are accepted and ignored: elements and attributes are known by their local names.
 */
export function parseXml(source: string): Result<XmlElement, XmlError> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Building[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  const positionOf = positionTracker(source);
  let start = { line: 1, column: 1 };

  parser.on('doctype', () => {
    throw new Refused('a DOCTYPE is not allowed');
  });
  parser.on('opentagstart', () => {
    // saxes has read `<`, the name and one character after it; the element starts at the `<`.
    start = positionOf(source.lastIndexOf('<', parser.position - 1));
  });
  parser.on('opentag', (tag) => {
    count += 1;
    if (stack.length >= XML_LIMITS.depth)
      throw new Refused(`elements nested deeper than ${XML_LIMITS.depth}`, start);
    if (count > XML_LIMITS.elements)
      throw new Refused(`more than ${XML_LIMITS.elements} elements`, start);
    const attributes = new Map<string, string>();
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const local = localName(name);
      // Prefixes are dropped, so `name` and `x:name` would be one attribute: refuse, don't pick.
      if (attributes.has(local)) throw new Refused(`duplicate attribute: ${local}`, start);
      attributes.set(local, value);
    }
    stack.push({
      name: localName(tag.name),
      // fromEntries defines own properties, so even `__proto__` is kept as an attribute.
      attributes: Object.fromEntries(attributes),
      children: [],
      text: '',
      line: start.line,
      column: start.column,
    });
  });
  const addText = (text: string): void => {
    const current = stack[stack.length - 1];
    if (current) current.text += text;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const done = stack.pop()!;
    const element: XmlElement = done;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
  });

  try {
    parser.write(source).close();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // saxes prefixes its messages with "line:column: "; keep the words only. Its column counts
    // the characters read on the line, so it is the one-based column of the offending one.
    const at = (error instanceof Refused && error.at) || {
      line: parser.line,
      column: Math.max(parser.column, 1),
    };
    return err({ message: message.replace(/^(?:[^:]*:)?\d+:\d+: /, ''), ...at });
  }
  // saxes fails a document without a root on close, so this is only a guard.
  return root ? ok(root) : err({ message: 'no root element', line: parser.line, column: 1 });
}

/** The first child element called `name`. */
export function childNamed(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

/** Every child element called `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}
