import { parseXml, type XmlElement } from '@tickets/domain/xml';
import XMLBuilder from 'fast-xml-builder';

type XmlValue = string | XmlObject | XmlValue[];
interface XmlObject {
  [name: string]: XmlValue;
}

/**
 * Maps an element to the same plain shape JSON gives: a leaf is its text, an element with
 * children is an object, and repeated children become an array.
 */
function toPlain(element: XmlElement): XmlValue {
  if (element.children.length === 0) return element.text;
  const object: XmlObject = {};
  for (const child of element.children) {
    const value = toPlain(child);
    const existing = object[child.name];
    if (existing === undefined) object[child.name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else object[child.name] = [existing, value];
  }
  return object;
}

export type XmlBodyResult = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Reads an XML body whose root element must be `root` (e.g. `Action`). DOCTYPE and entity
 * declarations are refused by the parser; no DTD is ever read.
 */
export function readXmlBody(source: string, root: string): XmlBodyResult {
  const parsed = parseXml(source);
  if (!parsed.ok) {
    const { message, line, column } = parsed.error;
    return { ok: false, message: `malformed XML at line ${line}, column ${column}: ${message}` };
  }
  if (parsed.value.name !== root) {
    return {
      ok: false,
      message: `the XML root element must be <${root}>, not <${parsed.value.name}>`,
    };
  }
  const plain = toPlain(parsed.value);
  return { ok: true, value: typeof plain === 'string' ? {} : plain };
}

const builder = new XMLBuilder({ format: false, suppressEmptyNode: true });

/** Writes `value` as `<root>…</root>`: one element per field, one element per array item. */
export function toXml(root: string, value: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: value })}`;
}
