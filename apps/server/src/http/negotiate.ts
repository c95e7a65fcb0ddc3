import { ProblemError } from '../errors/appError.js';
import type { AppContext } from './context.js';
import { formatOf, RESPONSE_MEDIA_TYPES, TEXT_PLAIN } from './mediaTypes.js';
import { toXml } from './xml.js';

/**
 * Each response type offered bare and with the charset every answer is written in: an Accept
 * range with parameters matches only an offer with the same ones, so that
 * `Accept: application/json; charset=UTF-8` matches too (another charset still does not).
 */
const DATA_OFFERS = RESPONSE_MEDIA_TYPES.flatMap((type) => [type, `${type}; charset=utf-8`]);

/** The response media type a JSON operation will answer in (JSON, XML or a vnd.soa type), or 406. */
export function negotiateData(ctx: AppContext): string {
  const offer = ctx.accepts(...DATA_OFFERS);
  const type = typeof offer === 'string' ? offer.split(';', 1)[0] : undefined;
  if (type === undefined) {
    throw new ProblemError({
      code: 'NOT_ACCEPTABLE',
      message: `this operation answers in ${RESPONSE_MEDIA_TYPES.join(', ')}; the Accept header admits none of them`,
    });
  }
  return type;
}

/** For operations that answer text/plain: any Accept that admits it (missing = *\/*), or 406. */
export function requireTextAccept(ctx: AppContext): void {
  // Offered with its charset, so that `Accept: text/plain; charset=utf-8` matches too.
  if (ctx.accepts(TEXT_PLAIN) === false) {
    throw new ProblemError({
      code: 'NOT_ACCEPTABLE',
      message: 'this operation answers text/plain; the Accept header excludes it',
    });
  }
}

/** Sends `body` in the negotiated type: as JSON, or as XML under `xmlRoot`. */
export function sendData(
  ctx: AppContext,
  mediaType: string,
  xmlRoot: string,
  body: Record<string, unknown>,
  status = 200,
): void {
  ctx.status = status;
  ctx.type = mediaType;
  // Bytes, not a string: node writes a string body after its headers by joining the two into
  // one more string of the body's size, on the heap (a list page's largest allocation after
  // the JSON itself); bytes go out as they are, the headers beside them.
  const text = formatOf(mediaType) === 'xml' ? toXml(xmlRoot, body) : JSON.stringify(body);
  ctx.body = Buffer.from(text);
}

/**
 * Answers `value` as JSON in `mediaType`, written out here as bytes. Never hand Koa an object:
 * Koa 3 takes a fetch `Response` as a body too, and the first object it is given is checked
 * against `Response`, which loads node's whole fetch implementation (undici), 4 MB of heap
 * and more of its code, in a server whose REST answers never use it.
 */
export function sendJson(ctx: AppContext, value: object, mediaType = 'application/json'): void {
  ctx.type = mediaType;
  ctx.body = Buffer.from(JSON.stringify(value));
}

export function sendText(ctx: AppContext, text: string, status = 200): void {
  ctx.status = status;
  ctx.type = TEXT_PLAIN;
  ctx.body = text;
}
