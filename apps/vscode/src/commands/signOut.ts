import * as vscode from 'vscode';
import type { CommandContext } from './context.js';

/** Ends the session on the server (if it answers) and forgets the kept password. */
export async function signOut({ session }: CommandContext): Promise<void> {
  await session.signOut().catch(() => undefined);
  void vscode.window.showInformationMessage('Signed out of the tickets server');
}
