import * as vscode from 'vscode';
import { TicketsClientError } from '@tickets/client';
import { readSettings } from '../config.js';
import type { CommandContext } from './context.js';

const looksLikeEmail = (value: string): string | undefined =>
  /^[^\s@]+@[^\s@]+$/.test(value.trim()) ? undefined : 'An e-mail address, e.g. ada@demo.test';

/**
 * Asks for the e-mail (prefilled from tickets.email) and the password, and signs in. A refusal
 * shows the server's reason and asks again; Escape ends it.
 */
export async function signIn({ session, log }: CommandContext): Promise<void> {
  let email = readSettings().email;
  for (;;) {
    const { serverUrl, tenant } = readSettings();
    const typed = await vscode.window.showInputBox({
      title: `Sign in to ${tenant} at ${serverUrl}`,
      prompt: 'E-mail address',
      value: email,
      placeHolder: 'ada@demo.test',
      ignoreFocusOut: true,
      validateInput: looksLikeEmail,
    });
    if (typed === undefined) return;
    email = typed.trim();
    const password = await vscode.window.showInputBox({
      title: `Sign in to ${tenant} as ${email}`,
      prompt: 'Password (kept in VS Code’s secret storage)',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.length > 0 ? undefined : 'The password'),
    });
    if (password === undefined) return;
    try {
      await session.signIn(email, password);
      void vscode.window.showInformationMessage(`Signed in to ${tenant} as ${email}`);
      return;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.warn(`sign-in to ${tenant} as ${email} failed: ${reason}`);
      if (error instanceof TicketsClientError && error.kind === 'network') {
        void vscode.window.showErrorMessage(
          `Cannot reach the tickets server at ${serverUrl}: ${reason}`,
        );
        return;
      }
      void vscode.window.showErrorMessage(`Sign-in failed: ${reason}`);
    }
  }
}
