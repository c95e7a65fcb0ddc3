import { IDEMPOTENCY_KEY_PATTERN, type RestBinding } from '@tickets/contract';
import type { z } from 'zod';
import { invalidInput, ProblemError, type AppError } from '../errors/appError.js';
import type { AppContext } from '../http/context.js';

/**
 * Decoding the Akana wire into the service's commands: a REST request's body, query and headers,
 * checked against the declarations of `@tickets/contract`. A failure is a 400 naming the field.
 */
export function decode<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProblemError(invalidInput(parsed.error, 'body'));
}

/**
 * A query string decoded by its schema, refusing first a parameter that looks like one of the
 * schema's but is not it exactly (`state` for `State`, `APIID[]`): taken as no filter at all, it
 * would answer every ticket to a caller who meant to filter them. Other parameters (a cache
 * buster, `fedmemberid`) are left alone, as before.
 */
export function decodeQuery<S extends z.ZodObject>(
  schema: S,
  query: Record<string, unknown>,
): z.output<S> {
  const known = Object.keys(schema.shape);
  for (const name of Object.keys(query)) {
    if (known.includes(name)) continue;
    const plain = name.replace(/\[.*$/s, '').toLowerCase();
    const meant = known.find((key) => key.toLowerCase() === plain);
    if (meant !== undefined) {
      // The name as given, without control characters and cut short: it is the caller's text.
      // eslint-disable-next-line no-control-regex
      const shown = name.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 64);
      throw new ProblemError({
        code: 'INVALID_INPUT',
        field: meant,
        message: `${shown} is not a parameter; the parameter is ${meant}, given once`,
      });
    }
  }
  return decode(schema, query);
}

/** What a weak `If-Match` tag is passed on as: no ticket has version 0, so it never matches. */
const WEAK_TAG_VERSION = 0;

const IF_MATCH = /^(W\/)?(?:"(\d{1,16})"|(\d{1,16}))$/;

/**
 * `If-Match: "<version>"` (a bare number is accepted too; `*` matches any version). A weak tag
 * (`W/"2"`) is read but never matches: If-Match compares strongly (RFC 9110), so it is a 412 like
 * a stale version, after the same checks. Anything else, an unbalanced quote included (`"2`), is a
 * 400: a precondition the server cannot read must not be taken for one it can.
 */
export function parseIfMatch(header: string): number | undefined {
  const value = header.trim();
  if (value === '' || value === '*') return undefined;
  const match = IF_MATCH.exec(value);
  // Versions as the typed surface takes them (`ifMatch`): up to 2^53 - 1.
  if (!match || Number(match[2] ?? match[3]) > Number.MAX_SAFE_INTEGER) {
    throw new ProblemError({
      code: 'INVALID_INPUT',
      field: 'If-Match',
      message: 'If-Match must be one version, e.g. "3"',
    });
  }
  return match[1] ? WEAK_TAG_VERSION : Number(match[2] ?? match[3]);
}

/** A write's failure as answered: a 412 caused by a weak `If-Match` tag says so. */
export function explainWeakTag(error: AppError, header: string): AppError {
  const weak = IF_MATCH.exec(header.trim());
  if (error.code !== 'VERSION_MISMATCH' || !weak?.[1]) return error;
  return {
    ...error,
    expected: Number(weak[2] ?? weak[3]),
    message:
      `If-Match ${header.trim()} is a weak tag, which never matches (If-Match compares strongly): ` +
      `send "${error.actual}"`,
  };
}

/** Query parameters that look like `dryRun` but are not it exactly: `dryRun[]`, `dryrun`, `DRYRUN[x]`. */
const isDryRunLookalike = (name: string): boolean =>
  name !== 'dryRun' && name.replace(/\[.*$/s, '').toLowerCase() === 'dryrun';

/**
 * `?dryRun=true|false` (a bare `?dryRun` is true) on the action endpoint. It changes what a write
 * does, so a value that cannot be read (`dryRun=yes`, `dryRun` given twice, `dryRun[]=true`,
 * `dryrun=true`) is a 400 and nothing runs, never a real action in its place.
 */
export function parseDryRun(ctx: AppContext): boolean {
  const lookalike = Object.keys(ctx.query).find(isDryRunLookalike);
  if (lookalike !== undefined) {
    throw new ProblemError({
      code: 'INVALID_INPUT',
      field: 'dryRun',
      message: `${lookalike} is not a parameter; give dryRun=true or dryRun=false, once`,
    });
  }
  const value = ctx.query['dryRun'];
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new ProblemError({
    code: 'INVALID_INPUT',
    field: 'dryRun',
    message: 'dryRun must be true or false, given once',
  });
}

/**
 * The writes that have no dry run (creating a ticket, commenting) refuse a `dryRun` parameter
 * rather than write for real what the caller meant only to try.
 */
export function refuseDryRun(ctx: AppContext): void {
  const given = Object.keys(ctx.query).find((name) => name === 'dryRun' || isDryRunLookalike(name));
  if (given !== undefined) {
    throw new ProblemError({
      code: 'INVALID_INPUT',
      field: 'dryRun',
      message: 'dryRun is only taken by POST /api/tickets/{TicketID}/actions; nothing was written',
    });
  }
}

/**
 * The `Idempotency-Key` header, when sent. Sent empty is a 400, not no key: a client that sends
 * one means its retries to be recognised (an unset variable in a script, say).
 */
export function idempotencyKeyOf(ctx: AppContext): string | undefined {
  if (ctx.headers['idempotency-key'] === undefined) return undefined;
  const key = ctx.get('Idempotency-Key');
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ProblemError({
      code: 'INVALID_INPUT',
      field: 'Idempotency-Key',
      message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
    });
  }
  return key;
}

export const etag = (version: number): string => `"${version}"`;

/** Marks an answer that replays the stored outcome of an earlier request with the same key. */
export function markReplay(ctx: AppContext, replayed: boolean): void {
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
}

/** The paths a binding serves, for registering it. */
export const pathsOf = (binding: RestBinding): string[] => [
  binding.path,
  ...(binding.aliases ?? []),
];
