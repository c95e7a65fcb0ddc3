import { invalidInput, type InvalidInputError } from './errors.js';
import { err, ok, type Result } from './result.js';

/** The body of an action request, normalised. */
export interface ActionInput {
  /** Case-sensitive workflow action name, e.g. `ticket.action.resolve`. */
  readonly actionName: string;
  /** Zero or more comments, trimmed, empty ones dropped. */
  readonly comments: readonly string[];
}

export const ACTION_INPUT_LIMITS = {
  actionName: 128,
  comment: 4000,
  comments: 20,
} as const;

/**
 * Characters no text of a ticket may hold: C0 controls other than tab, line feed and carriage
 * return, U+FFFE/U+FFFF and unpaired surrogates. None can be written in XML 1.0, so a ticket
 * holding one could not be answered as XML.
 */
const FORBIDDEN_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a text holds a character that no ticket text may hold (see above). */
export function hasForbiddenCharacters(text: string): boolean {
  return FORBIDDEN_CHARACTERS.test(text);
}

/** One comment, trimmed and bounded; `field` names where it came from. */
export function parseCommentText(value: unknown, field: string): Result<string, InvalidInputError> {
  if (typeof value !== 'string') return err(invalidInput(field, `${field} must be a string`));
  const text = value.trim();
  if (hasForbiddenCharacters(value)) {
    return err(invalidInput(field, `${field} contains control characters`));
  }
  if (text.length > ACTION_INPUT_LIMITS.comment) {
    return err(
      invalidInput(field, `${field} is longer than ${ACTION_INPUT_LIMITS.comment} characters`),
    );
  }
  return ok(text);
}

/**
 * Validates an `Action` body (from JSON or XML, already mapped to a plain object):
 * `ActionName` is required and kept exactly as sent; `Comments` may be a string or an array of
 * strings. Any other field (such as `UserID`) is ignored: the session's user is the actor.
 */
export function parseActionInput(body: unknown): Result<ActionInput, InvalidInputError> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return err(invalidInput('Action', 'the body must be an Action object'));
  }
  const record = body as Record<string, unknown>;
  const name = record['ActionName'];
  if (name === undefined || name === null || name === '') {
    return err(invalidInput('ActionName', 'ActionName is required'));
  }
  if (typeof name !== 'string')
    return err(invalidInput('ActionName', 'ActionName must be a string'));
  if (name.length > ACTION_INPUT_LIMITS.actionName || name.trim() !== name) {
    return err(
      invalidInput(
        'ActionName',
        `ActionName must be at most ${ACTION_INPUT_LIMITS.actionName} characters, without surrounding spaces`,
      ),
    );
  }

  const raw = record['Comments'];
  const list: unknown[] = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length > ACTION_INPUT_LIMITS.comments) {
    return err(invalidInput('Comments', `at most ${ACTION_INPUT_LIMITS.comments} comments`));
  }
  const comments: string[] = [];
  for (const [index, item] of list.entries()) {
    const field = Array.isArray(raw) ? `Comments[${index}]` : 'Comments';
    const text = parseCommentText(item, field);
    if (!text.ok) return text;
    if (text.value !== '') comments.push(text.value);
  }
  return ok({ actionName: name, comments });
}
