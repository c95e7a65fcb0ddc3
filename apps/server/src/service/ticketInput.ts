import {
  ENVIRONMENTS,
  hasForbiddenCharacters,
  PRIORITY_LABELS,
  TICKET_STATES,
} from '@tickets/domain';
import { z } from 'zod';
import type { AppError } from '../errors/appError.js';

/** Paging of ticket lists: `count` defaults to 20 and is clamped to 100. */
export const LIST_LIMITS = { defaultCount: 20, maxCount: 100, maxStart: 1_000_000 } as const;

/** Text a ticket may hold: nothing XML 1.0 cannot carry. */
export const noControlCharacters = (field: string) =>
  [
    (text: string) => !hasForbiddenCharacters(text),
    `${field} contains control characters`,
  ] as const;

const listOf = (max: number, field: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) =>
      value === undefined
        ? []
        : (Array.isArray(value) ? value : [value]).map((s) => s.trim()).filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .max(64, `each ${field} is at most 64 characters`)
            .refine(...noControlCharacters(field)),
        )
        .max(max, `at most ${max} ${field} values`),
    );

const optionalId = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

export const TicketInput = z
  .object({
    Title: z
      .string('Title is required')
      .trim()
      .min(1, 'Title is required')
      .max(200, 'Title is at most 200 characters')
      .refine(...noControlCharacters('Title')),
    Description: z
      .string('Description must be a string')
      .max(20_000, 'Description is at most 20000 characters')
      .refine(...noControlCharacters('Description'))
      .optional()
      .default(''),
    Environment: z.enum(ENVIRONMENTS, `Environment must be ${ENVIRONMENTS.join(' or ')}`),
    APIID: optionalId,
    AppID: optionalId,
    Label: listOf(1, 'Label').pipe(
      z.array(z.enum(PRIORITY_LABELS, `Label must be one of ${PRIORITY_LABELS.join(', ')}`)),
    ),
    Tag: listOf(20, 'Tag'),
  })
  .refine((ticket) => ticket.APIID !== undefined || ticket.AppID !== undefined, {
    message: 'a ticket needs an APIID or an AppID',
    path: ['APIID'],
  });

/** An id to filter by: any text an id could be (an unknown one simply matches nothing). */
const filterId = (field: string) =>
  z
    .string(`${field} must be given once`)
    .max(300, `${field} is at most 300 characters`)
    .refine(...noControlCharacters(field))
    .optional();

export const ListQuery = z.object({
  APIID: filterId('APIID'),
  AppID: filterId('AppID'),
  AuthorID: filterId('AuthorID'),
  State: z.enum(TICKET_STATES, `State must be one of ${TICKET_STATES.join(', ')}`).optional(),
  start: z.coerce
    .number('start must be a whole number')
    .int('start must be a whole number')
    .min(0, 'start may not be negative')
    .max(LIST_LIMITS.maxStart, `start is at most ${LIST_LIMITS.maxStart}`)
    .optional()
    .default(0),
  count: z.coerce
    .number('count must be a whole number')
    .int('count must be a whole number')
    .min(1, 'count must be at least 1')
    .optional()
    .default(LIST_LIMITS.defaultCount)
    .transform((count) => Math.min(count, LIST_LIMITS.maxCount)),
});

export function invalid(error: z.ZodError): { ok: false; error: AppError } {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  return { ok: false, error: { code: 'INVALID_INPUT', field, message: issue.message } };
}
