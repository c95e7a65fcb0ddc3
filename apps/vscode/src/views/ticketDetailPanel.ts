import * as vscode from 'vscode';
import type { TicketsController } from '../services/controller.js';
import { renderTicketDetail } from '../services/detailHtml.js';

const nonce = (): string => crypto.randomUUID().replace(/-/g, '');

/**
 * The detail of a ticket in a webview: description, actions and the full history, static HTML
 * (no script) under a strict CSP. One panel per ticket; it follows the ticket's changes.
 */
export class TicketDetailPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly controller: TicketsController,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async show(ticketId: string): Promise<void> {
    const open = this.panels.get(ticketId);
    if (open) {
      open.reveal();
      await this.render(ticketId, open);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      'tickets.detail',
      ticketId,
      vscode.ViewColumn.Active,
      {
        enableScripts: false,
        enableCommandUris: false,
        localResourceRoots: [],
      },
    );
    this.panels.set(ticketId, panel);
    panel.onDidDispose(() => this.panels.delete(ticketId));
    await this.render(ticketId, panel);
  }

  /** A ticket changed: its open panel shows it again. */
  async changed(ticketId: string): Promise<void> {
    const panel = this.panels.get(ticketId);
    if (panel) await this.render(ticketId, panel);
  }

  private async render(ticketId: string, panel: vscode.WebviewPanel): Promise<void> {
    try {
      const detail = await this.controller.detail(ticketId);
      panel.title = `${ticketId}: ${detail.ticket.title}`;
      panel.webview.html = renderTicketDetail({ ...detail, nonce: nonce() });
    } catch (error) {
      this.log.warn(
        `could not show ${ticketId}: ${error instanceof Error ? error.message : String(error)}`,
      );
      if (!(await this.controller.failed(error))) panel.dispose();
    }
  }

  dispose(): void {
    for (const panel of this.panels.values()) panel.dispose();
    this.panels.clear();
  }
}
