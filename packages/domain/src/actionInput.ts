/**
 * An action request, decoded by an adapter (the API's `Action` body or a typed call): the
 * engine takes it as it is, the limits below having been checked at the edge.
 */
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
