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

class Refused extends Error {}

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
  let startLine = 1;
  let startColumn = 1;

  parser.on('doctype', () => {
    throw new Refused('a DOCTYPE is not allowed');
  });
  parser.on('opentagstart', () => {
    startLine = parser.line;
    startColumn = parser.column;
  });
  parser.on('opentag', (tag) => {
    count += 1;
    if (stack.length >= XML_LIMITS.depth)
      throw new Refused(`elements nested deeper than ${XML_LIMITS.depth}`);
    if (count > XML_LIMITS.elements) throw new Refused(`more than ${XML_LIMITS.elements} elements`);
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(tag.attributes)) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      attributes[localName(name)] = value;
    }
    stack.push({
      name: localName(tag.name),
      attributes,
      children: [],
      text: '',
      line: startLine,
      column: startColumn,
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
    // saxes prefixes its messages with "line:column: "; keep the words only.
    return err({
      message: message.replace(/^(?:[^:]*:)?\d+:\d+: /, ''),
      line: parser.line,
      column: parser.column + 1,
    });
  }
  if (!root)
    return err({ message: 'no root element', line: parser.line, column: parser.column + 1 });
  return ok(root);
}

/** The first child element called `name`. */
export function childNamed(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

/** Every child element called `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}
