import * as vscode from 'vscode';
import { VIEW_CONTAINER_ID } from '../constants.js';
import { statusText } from '../services/resources.js';

/** `$(issues) <n> open`: open tickets on the resources the user administers; opens the view. */
export class OpenCountStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'tickets.openCount',
    vscode.StatusBarAlignment.Left,
    50,
  );

  constructor() {
    this.item.name = 'Tickets: open on my resources';
    this.item.command = `workbench.view.extension.${VIEW_CONTAINER_ID}`;
    this.item.tooltip =
      'Open tickets (OPEN or REOPEN) on the APIs and apps you administer. Click to show them.';
  }

  update(count: number | undefined): void {
    if (count === undefined) {
      this.item.hide();
      return;
    }
    this.item.text = statusText(count);
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
