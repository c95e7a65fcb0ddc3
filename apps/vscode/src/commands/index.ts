import * as vscode from 'vscode';
import { COMMANDS } from '../constants.js';
import type { CommandContext, CommandHandler } from './context.js';
import { filter } from './filter.js';
import { loadMore } from './loadMore.js';
import { openTicket } from './openTicket.js';
import { refresh } from './refresh.js';
import { showLog } from './showLog.js';
import { defaultAction, runAction } from './runAction.js';
import { signIn } from './signIn.js';
import { signOut } from './signOut.js';

const HANDLERS: Record<(typeof COMMANDS)[keyof typeof COMMANDS], CommandHandler> = {
  [COMMANDS.signIn]: signIn,
  [COMMANDS.signOut]: signOut,
  [COMMANDS.refresh]: refresh,
  [COMMANDS.showLog]: showLog,
  [COMMANDS.filter]: filter,
  [COMMANDS.openTicket]: openTicket,
  [COMMANDS.runAction]: runAction,
  [COMMANDS.resolve]: defaultAction(COMMANDS.resolve),
  [COMMANDS.close]: defaultAction(COMMANDS.close),
  [COMMANDS.reopen]: defaultAction(COMMANDS.reopen),
  [COMMANDS.loadMore]: loadMore,
};

/** Registers every command; a failure a handler did not expect goes to the log and a message. */
export function registerCommands(context: CommandContext): vscode.Disposable[] {
  return Object.entries(HANDLERS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await handler(context, ...args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        context.log.error(`${id} failed: ${message}`);
        void vscode.window.showErrorMessage(`Tickets: ${message}`);
      }
    }),
  );
}
