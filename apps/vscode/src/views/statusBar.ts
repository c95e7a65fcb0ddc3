import * as vscode from 'vscode';
import { VIEW_CONTAINER_ID } from '../constants.js';
import { openCountStatus } from '../services/resources.js';

/**
 * `$(issues) <n> open`: open tickets on the resources the user administers; opens the view. While
 * the server cannot be reached it keeps the last count, marked: `$(warning) <n> open`, on the
 * warning background.
 */
export class OpenCountStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'tickets.openCount',
    vscode.StatusBarAlignment.Left,
    50,
  );

  private count: number | undefined;
  private stale = false;

  constructor() {
    this.item.name = 'Tickets: open on my resources';
    this.item.command = `workbench.view.extension.${VIEW_CONTAINER_ID}`;
  }

  update(count: number | undefined): void {
    this.count = count;
    this.render();
  }

  /** Whether the server cannot be reached (the count is the last one it gave). */
  setStale(stale: boolean): void {
    this.stale = stale;
    this.render();
  }

  private render(): void {
    if (this.count === undefined) {
      this.item.hide();
      return;
    }
    const { text, tooltip } = openCountStatus(this.count, this.stale);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = this.stale
      ? new vscode.ThemeColor('statusBarItem.warningBackground')
      : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
