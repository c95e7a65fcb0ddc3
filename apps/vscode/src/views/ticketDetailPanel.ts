import * as vscode from 'vscode';
import type { TicketsController } from '../services/controller.js';
import { renderTicketDetail } from '../services/detailHtml.js';

const nonce = (): string => crypto.randomUUID().replace(/-/g, '');

/** An open panel and the bookkeeping that keeps its renders in order. */
interface OpenPanel {
  readonly panel: vscode.WebviewPanel;
  /**
   * How many renders were started. Renders overlap (a change arrives while the panel opens, two
   * changes in a row): each fetch may answer in any order, and only the one started last may
   * reach the screen, so an older answer never covers a newer one.
   */
  renders: number;
  /** Closed by the user or by us: its webview must not be touched any more. */
  disposed: boolean;
}

/**
 * The detail of a ticket in a webview: description, actions and the full history, static HTML
 * (no script) under a strict CSP. One panel per ticket; it follows the ticket's changes.
 */
export class TicketDetailPanels implements vscode.Disposable {
  private readonly panels = new Map<string, OpenPanel>();

  constructor(
    private readonly controller: TicketsController,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async show(ticketId: string): Promise<void> {
    const open = this.panels.get(ticketId);
    if (open) {
      open.panel.reveal();
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
    const opened: OpenPanel = { panel, renders: 0, disposed: false };
    this.panels.set(ticketId, opened);
    panel.onDidDispose(() => {
      opened.disposed = true;
      this.panels.delete(ticketId);
    });
    await this.render(ticketId, opened);
  }

  /** A ticket changed: its open panel shows it again. */
  async changed(ticketId: string): Promise<void> {
    const open = this.panels.get(ticketId);
    if (open) await this.render(ticketId, open);
  }

  /** `retry`: after a failure the controller handled (a renewed session), fetch once more. */
  private async render(ticketId: string, open: OpenPanel, retry = true): Promise<void> {
    const render = ++open.renders;
    // Whether this render's answer may still be shown: the panel is open and no newer render
    // was started meanwhile (that one shows the newer state, or reports its own failure).
    const latest = () => !open.disposed && open.renders === render;
    try {
      const detail = await this.controller.detail(ticketId);
      if (!latest()) return;
      open.panel.title = `${ticketId}: ${detail.ticket.title}`;
      open.panel.webview.html = renderTicketDetail({ ...detail, nonce: nonce() });
    } catch (error) {
      // A failure nobody will see is no failure: the panel was closed, or a newer render owns it.
      if (!latest()) return;
      this.log.warn(
        `could not show ${ticketId}: ${error instanceof Error ? error.message : String(error)}`,
      );
      // Handling the failure may take a while (a new sign-in): the panel may have been closed, or
      // a newer render started that may well succeed, in the meantime.
      const handled = await this.controller.failed(error);
      if (!latest()) return;
      if (handled && retry) await this.render(ticketId, open, false);
      else if (!handled) open.panel.dispose();
    }
  }

  dispose(): void {
    for (const { panel } of [...this.panels.values()]) panel.dispose();
    this.panels.clear();
  }
}
