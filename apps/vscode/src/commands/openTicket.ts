import type { State } from '../services/format.js';
import type { CommandContext } from './context.js';
import { pickTicket, ticketIdOf } from './pickTicket.js';

/** Opens a ticket's detail view; from the palette, after a quick pick of tickets. */
export async function openTicket(context: CommandContext, arg?: unknown): Promise<void> {
  const ticketId = ticketIdOf(arg) ?? (await pickTicket(context, 'Open which ticket?'));
  if (ticketId) await context.details.show(ticketId);
}

/** The next page of a state's group. */
export async function loadMore({ controller }: CommandContext, state?: unknown): Promise<void> {
  if (typeof state === 'string') await controller.loadMore(state as State);
}

export async function refresh({ controller }: CommandContext): Promise<void> {
  await controller.refresh({ rediscover: true });
}

export function showLog({ log }: CommandContext): void {
  log.show();
}
