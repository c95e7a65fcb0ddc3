import {
  ENVIRONMENTS,
  hasForbiddenCharacters,
  parseTicketId,
  PRIORITY_LABELS,
  TICKET_ID_PATTERN,
  TENANT_ID_PATTERN,
  TICKET_STATES,
  type TicketId,
} from '@tickets/domain';
import { z } from 'zod';
import { IDEMPOTENCY_KEY_PATTERN, LIMITS } from './limits.js';

/**
 * Field schemas, each a function of the name the caller knows the field by (`Title` on the Akana
 * wire, `title` in tRPC), so that both surfaces share every rule and limit and each names its
 * own field in messages.
 */

const noControlCharacters = (field: string) =>
  [
    (text: string) => !hasForbiddenCharacters(text),
    `${field} contains control characters`,
  ] as const;

const toTicketId = (value: string, ctx: z.RefinementCtx<string>): TicketId => {
  const parsed = parseTicketId(value);
  if (parsed.ok) return parsed.value.id;
  ctx.issues.push({ code: 'custom', message: parsed.error.message, input: value });
  return z.NEVER;
};
const TICKET_ID_META = {
  pattern: TICKET_ID_PATTERN.source,
  examples: ['ticket25687.acmepaymentscorp'],
};

/** A TicketID, parsed by the domain's rule and carried on as the branded type. */
export const ticketId = (field = 'TicketID') =>
  z.string(`${field} is required`).transform(toTicketId).meta(TICKET_ID_META);

/**
 * Keyset paging: the TicketID the page starts right after. Its tenant and existence are the
 * service's to check (a 400 on `after` as well).
 */
export const after = () =>
  z.string('after must be given once').transform(toTicketId).meta(TICKET_ID_META).optional();

export const title = (field: string) =>
  z
    .string(`${field} is required`)
    .trim()
    .min(1, `${field} is required`)
    .max(LIMITS.title, `${field} is at most ${LIMITS.title} characters`)
    .refine(...noControlCharacters(field));

export const description = (field: string) =>
  z
    .string(`${field} must be a string`)
    .max(LIMITS.description, `${field} is at most ${LIMITS.description} characters`)
    .refine(...noControlCharacters(field))
    .optional()
    .default('');

export const environment = (field: string) =>
  z.enum(ENVIRONMENTS, `${field} must be ${ENVIRONMENTS.join(' or ')}`);

/**
 * An API or app a ticket relates to; blank counts as absent. Bounded as a list filter's id is;
 * its tenant and existence are the service's to check.
 */
export const resourceId = (field: string) =>
  z
    .string(`${field} must be a string`)
    .max(LIMITS.filterId, `${field} is at most ${LIMITS.filterId} characters`)
    .refine(...noControlCharacters(field))
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** One tag or label: trimmed, at most 64 characters. */
export const listItem = (field: string) =>
  z
    .string(`each ${field} must be a string`)
    .max(LIMITS.listItem, `each ${field} is at most ${LIMITS.listItem} characters`)
    .refine(...noControlCharacters(field));

export const priorityLabel = (field: string) =>
  z.enum(PRIORITY_LABELS, `${field} must be one of ${PRIORITY_LABELS.join(', ')}`);

export const state = (field: string) =>
  z.enum(TICKET_STATES, `${field} must be one of ${TICKET_STATES.join(', ')}`);

/** An id to filter a list by: any text an id could be (an unknown one simply matches nothing). */
export const filterId = (field: string) =>
  z
    .string(`${field} must be given once`)
    .max(LIMITS.filterId, `${field} is at most ${LIMITS.filterId} characters`)
    .refine(...noControlCharacters(field))
    .optional();

/**
 * A whole number as a query parameter writes it, decimal digits with perhaps a minus, or as a
 * number (tRPC). `z.coerce.number` would also read `0x10` as 16, `1e2` as 100 and ` 5` as 5,
 * which "must be a whole number" would not say. An empty value is 0, as it always was (`start=`
 * is the first page; `count=` is refused as less than 1).
 */
const decimal = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  if (value === '') return 0;
  return /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
};

/** `decimal`, with a page size over the maximum clamped to it, however many digits it has. */
const decimalPageSize = (value: unknown): unknown => {
  const number = decimal(value);
  return typeof number === 'number' && Number.isInteger(number)
    ? Math.min(number, LIMITS.maxCount)
    : number;
};

// The maximum is checked before `int`, which also refuses integers past 2^53: a start of twenty
// digits is told it is too far, not that it is no whole number.
const startIndex = () =>
  z
    .number('start must be a whole number')
    .max(LIMITS.maxStart, `start is at most ${LIMITS.maxStart}`)
    .int('start must be a whole number')
    .min(0, 'start may not be negative');

const pageSize = () =>
  z
    .number('count must be a whole number')
    .int('count must be a whole number')
    .min(1, 'count must be at least 1');

export const start = () => z.preprocess(decimal, startIndex().optional().default(0));

/** Page size: at least 1; more than the maximum is clamped to it, not refused. */
export const count = () =>
  z.preprocess(decimalPageSize, pageSize().optional().default(LIMITS.defaultCount));

/**
 * Paging that is asked for or not: `start` and `count` with the list's rules, left undefined
 * when absent, so that an answer can stay whole for callers who page nothing.
 */
export const optionalStart = () => z.preprocess(decimal, startIndex().optional());

export const optionalCount = () => z.preprocess(decimalPageSize, pageSize().optional());

/** A workflow action name: case-sensitive, kept exactly as sent, no surrounding spaces. */
export const actionName = (field: string) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined || issue.input === null
          ? `${field} is required`
          : `${field} must be a string`,
    })
    .min(1, `${field} is required`)
    .refine((name) => name.trim() === name, `${field} may not have surrounding spaces`)
    // No action is named with a control character, line breaks and tabs included (which text
    // fields may hold): refused here, a name is never echoed into an answer with a line break.
    .refine((name) => !/\p{Cc}/u.test(name), `${field} contains control characters`)
    .refine(
      (name) => name.length <= LIMITS.actionName,
      `${field} must be at most ${LIMITS.actionName} characters`,
    )
    .meta({ maxLength: LIMITS.actionName });

/**
 * One comment's text, trimmed; `required` refuses one that is empty after trimming. The limits
 * apply after trimming, so the input side, which JSON Schema sees, states them in `meta`.
 */
export const commentText = (field: string, required = false) => {
  const text = z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${field} is required` : `${field} must be a string`,
    })
    .refine(...noControlCharacters(field))
    .transform((value) => value.trim())
    .pipe(z.string().max(LIMITS.comment, `${field} is longer than ${LIMITS.comment} characters`))
    .meta({ maxLength: LIMITS.comment });
  return required
    ? text.pipe(z.string().min(1, `${field} is required`)).meta({ minLength: 1 })
    : text;
};

/**
 * Comments: one string or a list of them; trimmed, empty ones dropped. The count is checked after
 * the empty ones are dropped, so the input side states it in `meta`.
 */
export const comments = (field: string) =>
  z
    .union(
      [commentText(field), z.array(commentText(field)).meta({ maxItems: LIMITS.comments })],
      `${field} must be a string or a list of strings`,
    )
    .nullish()
    .transform((value) =>
      value === undefined || value === null
        ? []
        : (Array.isArray(value) ? value : [value]).filter(Boolean),
    )
    .pipe(z.array(z.string()).max(LIMITS.comments, `at most ${LIMITS.comments} comments`));

/** `If-Match` as a version number. */
export const version = (field: string) => {
  const message = `${field} must be a version number, e.g. 3`;
  return z.number(message).int(message).min(1, message).max(Number.MAX_SAFE_INTEGER, message);
};

export const idempotencyKey = () =>
  z
    .string()
    .regex(IDEMPOTENCY_KEY_PATTERN, 'Idempotency-Key must be 1 to 255 visible ASCII characters');

/** What a required string field says when missing, or when given as something else. */
const requiredString = (field: string) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined || issue.input === null
      ? `${field} is required`
      : `${field} must be a string`,
});

export const email = (field = 'email') =>
  z
    .string(requiredString(field))
    .trim()
    .min(1, `${field} is required`)
    .max(LIMITS.email, `${field} is at most ${LIMITS.email} characters`)
    .refine(...noControlCharacters(field));

export const password = (field = 'password') =>
  z
    .string(requiredString(field))
    .min(1, `${field} is required`)
    .max(LIMITS.password, `${field} is at most ${LIMITS.password} characters`);

export const tenantId = (field = 'tenant') =>
  z.string().regex(TENANT_ID_PATTERN, `${field} is not a valid tenant id`);
