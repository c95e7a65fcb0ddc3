import * as vscode from 'vscode';
import { TicketsClientError, type ValidAction } from '@tickets/client';
import { DEFAULT_ACTION_COMMANDS, DEFAULT_ACTION_LABELS } from '../constants.js';
import {
  actionChoices,
  actionDoneMessage,
  actionFailedMessage,
  actionLabel,
  commentPrompt,
} from '../services/actionMenu.js';
import type { CommandContext } from './context.js';
import { pickTicket, ticketIdOf } from './pickTicket.js';

/** Reads a ticket's actions; a failure is handled (and answered undefined). */
async function actionsOf(
  context: CommandContext,
  ticketId: string,
): Promise<ValidAction[] | undefined> {
  try {
    return await context.controller.validActions(ticketId);
  } catch (error) {
    if (error instanceof TicketsClientError && error.kind === 'not-found') {
      void vscode.window.showErrorMessage(`${ticketId}: ${error.message}`);
    } else {
      await context.controller.failed(error);
    }
    return undefined;
  }
}

/**
 * Asks for the comment, runs the action with a progress notification, and says what came of
 * it: the new state, or the server's reason verbatim. When the outcome is unknown (no answer),
 * `Retry` runs it again under the same idempotency key, so it applies at most once.
 */
export async function performAction(
  context: CommandContext,
  ticketId: string,
  action: string,
  label: string,
): Promise<void> {
  const comment = await vscode.window.showInputBox({
    title: `${label} ${ticketId}`,
    prompt: commentPrompt(label, ticketId),
    placeHolder: 'e.g. Fixed in 2.4.1',
    ignoreFocusOut: true,
  });
  if (comment === undefined) return;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `${label} ${ticketId}…` },
        () => context.controller.runAction(ticketId, action, comment),
      );
      void vscode.window.showInformationMessage(actionDoneMessage(ticketId, result.state));
      return;
    } catch (error) {
      if (!(error instanceof TicketsClientError)) throw error;
      context.log.warn(`${action} on ${ticketId} failed (${error.kind}): ${error.message}`);
      if (error.kind === 'unauthenticated') {
        // The session ended: taken up again silently at most once, then the action runs again.
        if (attempt === 0 && (await context.controller.failed(error))) continue;
        return;
      }
      const unknownOutcome =
        error.kind === 'network' || error.kind === 'internal' || error.kind === 'unavailable';
      const message = actionFailedMessage(label, ticketId, error);
      const answer = unknownOutcome
        ? await vscode.window.showErrorMessage(message, 'Retry')
        : await vscode.window.showErrorMessage(message);
      if (answer !== 'Retry') {
        if (!unknownOutcome) void context.controller.refresh({ rediscover: false });
        return;
      }
    }
  }
}

/** Run Action…: any action of the ticket's workflow; blocked ones listed with the server's reason. */
export async function runAction(context: CommandContext, arg?: unknown): Promise<void> {
  const ticketId = ticketIdOf(arg) ?? (await pickTicket(context, 'Run an action on which ticket?'));
  if (!ticketId) return;
  const actions = await actionsOf(context, ticketId);
  if (!actions) return;
  const choices = actionChoices(actions);
  if (choices.length === 0) {
    void vscode.window.showInformationMessage(`${ticketId} has no actions in its current state.`);
    return;
  }
  const picked = await vscode.window.showQuickPick(
    choices.map((choice) => ({
      label: choice.label,
      iconPath: new vscode.ThemeIcon(choice.allowed ? 'play' : 'circle-slash'),
      description: choice.allowed ? choice.action : `${choice.action} · not allowed`,
      ...(choice.reason !== undefined && { detail: choice.reason }),
      choice,
    })),
    { title: `Actions of ${ticketId}`, matchOnDescription: true, ignoreFocusOut: true },
  );
  if (!picked) return;
  if (!picked.choice.allowed) {
    void vscode.window.showErrorMessage(
      `${picked.choice.label} is not allowed on ${ticketId}: ${picked.choice.reason}`,
    );
    return;
  }
  await performAction(context, ticketId, picked.choice.action, picked.choice.label);
}

/** Resolve, Close, Reopen: the default workflow's actions, from the tree item. */
export function defaultAction(command: keyof typeof DEFAULT_ACTION_COMMANDS) {
  const action = DEFAULT_ACTION_COMMANDS[command];
  return async (context: CommandContext, arg?: unknown): Promise<void> => {
    const ticketId = ticketIdOf(arg) ?? (await pickTicket(context, 'Which ticket?'));
    if (!ticketId) return;
    const row = context.controller.tree.findRow(ticketId);
    const actions = row?.actions ?? (await actionsOf(context, ticketId)) ?? [];
    await performAction(
      context,
      ticketId,
      action,
      actionLabel(actions, action, DEFAULT_ACTION_LABELS[command]),
    );
  };
}
