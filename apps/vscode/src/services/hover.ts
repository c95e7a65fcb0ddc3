import type { Ticket, ValidAction } from '@tickets/client';
import { parseTicketId } from '@tickets/domain';
import { COMMANDS } from '../constants.js';
import { escapeMarkdown, formatAgo, resourceOf, stateLabel } from './format.js';

/** Characters a TicketID is made of (local part and tenant). */
const ID_CHAR = /[A-Za-z0-9_:.-]/;

export interface FoundId {
  readonly id: string;
  /** Where it is in the line: [start, end). */
  readonly start: number;
  readonly end: number;
}

/**
 * The TicketID of the tenant under `character` in a line of text (`ticket123.acme` in code or
 * a comment), or undefined. Only ids of `tenant` count: every dotted name would otherwise look
 * like one (`console.log`), and the user can only see their tenant's tickets.
 */
export function ticketIdAt(line: string, character: number, tenant: string): FoundId | undefined {
  let start = Math.min(character, line.length);
  let end = start;
  while (start > 0 && ID_CHAR.test(line[start - 1]!)) start -= 1;
  while (end < line.length && ID_CHAR.test(line[end]!)) end += 1;
  if (start === end) return undefined;
  // Punctuation around the word is not part of the id: `(ticket1.acme).`, `-ticket1.acme:`.
  while (start < end && /[.:-]/.test(line[start]!)) start += 1;
  while (end > start && /[.:-]/.test(line[end - 1]!)) end -= 1;
  const word = line.slice(start, end);
  if (character < start || character > end) return undefined;
  // The domain's rule for a TicketID (pattern and lengths), of this tenant.
  const parsed = parseTicketId(word);
  if (!parsed.ok || parsed.value.tenant !== tenant) return undefined;
  return { id: word, start, end };
}

/** A Markdown link that runs `tickets.openTicket` on the ticket (the hover trusts that command only). */
export const openTicketLink = (id: string): string =>
  `command:${COMMANDS.openTicket}?${encodeURIComponent(JSON.stringify([id]))}`;

/** The hover of a ticket: title, state, resource, and the actions the user may take. */
export function ticketHoverMarkdown(
  ticket: Ticket,
  actions: readonly ValidAction[],
  now: Date,
): string {
  const allowed = actions.filter((action) => action.allowed);
  const lines = [
    `**${escapeMarkdown(ticket.title)}**`,
    '',
    `${escapeMarkdown(ticket.id)} · **${stateLabel(ticket.state)}** · ${escapeMarkdown(resourceOf(ticket))} · opened by ${escapeMarkdown(ticket.userName)} ${formatAgo(ticket.created, now)}`,
    '',
    allowed.length > 0
      ? `You may: ${allowed.map((action) => escapeMarkdown(action.label || action.value)).join(', ')}`
      : 'No action is open to you in this state.',
    '',
    `[Open ticket](${openTicketLink(ticket.id)})`,
  ];
  return lines.join('\n');
}

/** The hover of an id the server does not know (or a failure to ask it). */
export const unknownTicketMarkdown = (id: string, why: string): string =>
  `${escapeMarkdown(id)}: ${escapeMarkdown(why)}`;
