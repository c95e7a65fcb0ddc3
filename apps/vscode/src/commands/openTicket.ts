import type { CommandContext } from './context.js';
import { pickTicket, ticketIdOf } from './pickTicket.js';

/** Opens a ticket's detail view; from the palette, after a quick pick of tickets. */
export async function openTicket(context: CommandContext, arg?: unknown): Promise<void> {
  const ticketId = ticketIdOf(arg) ?? (await pickTicket(context, 'Open which ticket?'));
  if (ticketId) await context.details.show(ticketId);
}
