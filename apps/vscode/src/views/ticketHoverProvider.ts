import * as vscode from 'vscode';
import { TicketsClientError } from '@tickets/client';
import { COMMANDS } from '../constants.js';
import type { TicketsController } from '../services/controller.js';
import { ticketHoverMarkdown, ticketIdAt, unknownTicketMarkdown } from '../services/hover.js';

/** Hovers on ticket IDs of the signed-in tenant (`ticket123.acme`) in any file. */
export class TicketHoverProvider implements vscode.HoverProvider {
  constructor(private readonly controller: TicketsController) {}

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
  ): Promise<vscode.Hover | undefined> {
    const state = this.controller.signedIn ? this.controller.client().session : undefined;
    if (!state) return undefined;
    const line = document.lineAt(position.line).text;
    const found = ticketIdAt(line, position.character, state.tenant);
    if (!found) return undefined;
    const range = new vscode.Range(position.line, found.start, position.line, found.end);
    try {
      const { ticket, actions } = await this.controller.hover(found.id);
      const markdown = new vscode.MarkdownString(ticketHoverMarkdown(ticket, actions, new Date()));
      // Its one link opens the ticket; no other command can run from it (all text is escaped).
      markdown.isTrusted = { enabledCommands: [COMMANDS.openTicket] };
      return new vscode.Hover(markdown, range);
    } catch (error) {
      if (error instanceof TicketsClientError && error.kind === 'not-found') {
        return new vscode.Hover(
          new vscode.MarkdownString(unknownTicketMarkdown(found.id, 'no such ticket')),
          range,
        );
      }
      return undefined;
    }
  }
}
