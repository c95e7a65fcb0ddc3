import contentType from 'content-type';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { ProblemError } from '../errors/appError.js';
import { BODY_MEDIA_TYPES } from './mediaTypes.js';
import { readXmlBody } from './xml.js';
import { XML_LIMITS } from '@tickets/domain/xml';

/**
 * How deeply a JSON value nests (a scalar is 0), counted without recursion so that a hostile
 * body cannot overflow the stack. Bodies deeper than XML's limit are refused alike.
 */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > XML_LIMITS.depth) return deepest;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/** The charsets a body may declare; anything else is a 415. */
const CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'iso-8859-1', 'latin1']);

/** Bodies over this are refused with 413, before they are read whole. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const problem = (
  code: 'UNSUPPORTED_MEDIA_TYPE' | 'PAYLOAD_TOO_LARGE' | 'MALFORMED_BODY',
  message: string,
  cause?: unknown,
) => new ProblemError({ code, message }, { cause });

/**
 * The body's format and its charset (lower case), read once from the `Content-Type` header;
 * without a charset parameter, an XML body's own declaration decides (RFC 7303), else UTF-8.
 */
interface BodyType {
  readonly format: 'json' | 'xml';
  readonly charset: string | undefined;
}

/** The media type of the request body, if it is one of the ten (and its charset); otherwise 415. */
export function requireBodyType(ctx: Context): BodyType {
  const header = ctx.get('Content-Type');
  if (!header)
    throw problem(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type is required: one of ${[...BODY_MEDIA_TYPES.keys()].join(', ')}`,
    );
  let parsed: contentType.ParsedMediaType;
  try {
    parsed = contentType.parse(header);
  } catch (error) {
    throw problem('UNSUPPORTED_MEDIA_TYPE', 'the Content-Type header is malformed', error);
  }
  const charset = parsed.parameters['charset']?.toLowerCase();
  if (charset !== undefined && !CHARSETS.has(charset)) {
    throw problem('UNSUPPORTED_MEDIA_TYPE', `unsupported charset ${charset}; send UTF-8`);
  }
  const encoding = ctx.get('Content-Encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw problem(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding ${encoding} is not supported; send the body as it is`,
    );
  }
  const format = BODY_MEDIA_TYPES.get(parsed.type);
  if (!format) {
    throw problem(
      'UNSUPPORTED_MEDIA_TYPE',
      `unsupported Content-Type ${parsed.type}; use one of ${[...BODY_MEDIA_TYPES.keys()].join(', ')}`,
    );
  }
  return { format, charset };
}

/** Reads the body's bytes, at most 64 KiB: a larger declared length is refused before reading. */
async function readBytes(ctx: Context): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, {
      limit: BODY_LIMIT_BYTES,
      length: ctx.get('Content-Length') || null,
    });
  } catch (error) {
    if ((error as { type?: string }).type === 'entity.too.large') {
      ctx.set('Connection', 'close');
      throw problem(
        'PAYLOAD_TOO_LARGE',
        `the body is larger than ${BODY_LIMIT_BYTES / 1024} KiB`,
        error,
      );
    }
    throw problem('MALFORMED_BODY', 'the body could not be read', error);
  }
}

/**
 * The encoding an XML declaration names (`<?xml version="1.0" encoding="…"?>`), if any. It must
 * open the body: one that starts with UTF-8's byte order mark is UTF-8, whatever it declares.
 */
const XML_DECLARED_ENCODING = /^<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([A-Za-z][\w.-]*)\1/;

/** UTF-8 that refuses what is not UTF-8, instead of putting U+FFFD in its place. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, decoded strictly: bytes that are not valid in the charset are a 400, never
 * stored as U+FFFD (or as other characters than the client sent). Without a charset parameter,
 * an XML body is decoded as its declaration says when it names one of the charsets read here;
 * another is read as UTF-8, as it always was: .NET's serializers declare `utf-16` over the UTF-8
 * their clients send, and a body really in another encoding is no valid UTF-8 either (a 400).
 */
function decode(bytes: Buffer, type: BodyType): string {
  let charset = type.charset;
  if (charset === undefined && type.format === 'xml') {
    const head = bytes.subarray(0, 200).toString('latin1');
    const declared = XML_DECLARED_ENCODING.exec(head)?.[2]?.toLowerCase();
    if (declared !== undefined && CHARSETS.has(declared)) charset = declared;
  }
  switch (charset ?? 'utf-8') {
    case 'us-ascii':
      if (bytes.some((byte) => byte > 0x7f)) {
        throw problem('MALFORMED_BODY', 'the body is declared US-ASCII but holds bytes over 127');
      }
      return bytes.toString('latin1');
    case 'iso-8859-1':
    case 'latin1':
      // Every byte is a character of ISO-8859-1 (Node's latin1; WHATWG's label maps to cp1252).
      return bytes.toString('latin1');
    default:
      try {
        return utf8.decode(bytes);
      } catch (error) {
        throw problem('MALFORMED_BODY', 'the body is not valid UTF-8', error);
      }
  }
}

/**
 * Checks the Content-Type (415), reads the body (413) and parses it (400) into the plain shape
 * both formats share; an XML body's root element must be `root`.
 */
export async function readBody(ctx: Context, root: string): Promise<unknown> {
  const type = requireBodyType(ctx);
  const text = decode(await readBytes(ctx), type);
  if (type.format === 'xml') {
    const xml = readXmlBody(text, root);
    if (!xml.ok) throw problem('MALFORMED_BODY', xml.message);
    return xml.value;
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw problem('MALFORMED_BODY', `malformed JSON: ${(error as Error).message}`, error);
  }
  if (depthOf(value) > XML_LIMITS.depth) {
    throw problem('MALFORMED_BODY', `the JSON is nested deeper than ${XML_LIMITS.depth} levels`);
  }
  return value;
}
