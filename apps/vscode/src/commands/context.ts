import type * as vscode from 'vscode';
import type { TicketsController } from '../services/controller.js';
import type { TicketFilters } from '../services/filters.js';
import type { SessionManager } from '../services/session.js';
import type { TicketDetailPanels } from '../views/ticketDetailPanel.js';

/** What the commands work with, built once in activate(). */
export interface CommandContext {
  readonly controller: TicketsController;
  readonly session: SessionManager;
  readonly log: vscode.LogOutputChannel;
  readonly details: TicketDetailPanels;
  readonly filters: {
    get(): TicketFilters;
    set(filters: TicketFilters): Promise<void>;
  };
}

/** A command's handler, registered under its id. */
export type CommandHandler = (context: CommandContext, ...args: unknown[]) => unknown;
