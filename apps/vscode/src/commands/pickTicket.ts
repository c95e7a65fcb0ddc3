import * as vscode from 'vscode';
import type { Ticket } from '@tickets/client';
import { stateLabel } from '../services/format.js';
import type { CommandContext } from './context.js';

/** The ticket a command was run on: a tree node (context menu, inline button) or an id. */
export function ticketIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.trim() !== '') return arg.trim();
  const node = arg as { kind?: unknown; row?: { ticket?: { id?: unknown } } } | undefined;
  const id = node?.kind === 'ticket' ? node.row?.ticket?.id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * A quick pick of tickets (`<ticketId> <title>`): those the tree has loaded, or the newest ones
 * when it has none. Undefined when the user cancels.
 */
export async function pickTicket(
  { controller }: CommandContext,
  title: string,
): Promise<string | undefined> {
  let tickets: Ticket[] = controller.tree.rows().map((row) => row.ticket);
  if (tickets.length === 0) {
    try {
      tickets = (await controller.client().tickets.list({ count: 100 })).tickets;
    } catch (error) {
      await controller.failed(error);
      return undefined;
    }
  }
  const picked = await vscode.window.showQuickPick(
    tickets.map((ticket) => ({
      label: `${ticket.id} ${ticket.title}`,
      description: stateLabel(ticket.state),
      detail: [ticket.apiId, ticket.appId].filter(Boolean).join(' + '),
      id: ticket.id,
    })),
    { title, matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true },
  );
  return picked?.id;
}
