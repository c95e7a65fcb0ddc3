import * as vscode from 'vscode';
import { createTicketsClient, type TicketsClientLogger } from '@tickets/client';
import { registerCommands } from './commands/index.js';
import { readSettings, rememberEmail } from './config.js';
import {
  COMMANDS,
  CONFIG_SECTION,
  CONTEXT_KEYS,
  FILTERS_STATE_KEY,
  OUTPUT_CHANNEL_NAME,
  passwordSecretKey,
  TREE_VIEW_ID,
} from './constants.js';
import { TicketsController } from './services/controller.js';
import { describeFilters, parseFilters, type TicketFilters } from './services/filters.js';
import { observingFeed } from './services/liveUpdates.js';
import { SessionManager } from './services/session.js';
import { OpenCountStatusBar } from './views/statusBar.js';
import { TicketDetailPanels } from './views/ticketDetailPanel.js';
import { TicketHoverProvider } from './views/ticketHoverProvider.js';
import { TicketTreeProvider } from './views/ticketTreeProvider.js';

/** The client's own reports (renewals, reconnects) into the output channel. */
function clientLogger(log: vscode.LogOutputChannel): TicketsClientLogger {
  const line = (message: string, details?: Record<string, unknown>): string =>
    details ? `${message} ${JSON.stringify(details)}` : message;
  return {
    debug: (message, details) => log.debug(line(message, details)),
    info: (message, details) => log.info(line(message, details)),
    warn: (message, details) => log.warn(line(message, details)),
    error: (message, details) => log.error(line(message, details)),
  };
}

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  const version = (context.extension.packageJSON as { version?: string }).version ?? '';
  const setContext = (key: string, value: boolean) =>
    void vscode.commands.executeCommand('setContext', key, value);

  // The client's fetch reports the live feed's state to the controller built below.
  const fetch = observingFeed(
    (input, init) => globalThis.fetch(input, init),
    (up) => controller.live.feedStatus(up),
  );
  const session = new SessionManager({
    createClient: (options) =>
      createTicketsClient({
        ...options,
        fetch,
        logger: clientLogger(log),
        userAgent: `tickets-vscode/${version} vscode/${vscode.version}`,
      }),
    secrets: context.secrets,
    settings: readSettings,
    rememberEmail,
    secretKey: passwordSecretKey,
  });

  const filters = {
    get: (): TicketFilters => parseFilters(context.workspaceState.get(FILTERS_STATE_KEY)),
    set: async (next: TicketFilters) => {
      await context.workspaceState.update(FILTERS_STATE_KEY, next);
      treeView.description = describeFilters(next);
    },
  };
  const statusBar = new OpenCountStatusBar();
  let sessionEndedShown = false;
  const controller = new TicketsController({
    session,
    log,
    filters: filters.get,
    liveSettings: readSettings,
    timers: { setInterval, clearInterval, setTimeout, clearTimeout },
    view: {
      treeChanged: () => tree.refresh(),
      contextChanged: ({ signedIn, unreachable }) => {
        setContext(CONTEXT_KEYS.signedIn, signedIn);
        setContext(CONTEXT_KEYS.unreachable, unreachable);
        statusBar.setStale(unreachable);
        if (signedIn) sessionEndedShown = false;
      },
      openCountChanged: (count) => statusBar.update(count),
      sessionEnded: () => {
        if (sessionEndedShown) return;
        sessionEndedShown = true;
        void vscode.window
          .showWarningMessage('Your tickets session has ended. Sign in again to go on.', 'Sign In')
          .then((answer) => answer && vscode.commands.executeCommand(COMMANDS.signIn));
      },
      showError: (message) => void vscode.window.showErrorMessage(`Tickets: ${message}`),
      ticketChanged: (ticketId) => void details.changed(ticketId),
      busy: (work) =>
        void vscode.window.withProgress({ location: { viewId: TREE_VIEW_ID } }, () => work),
    },
  });
  const tree = new TicketTreeProvider(controller);
  const treeView = vscode.window.createTreeView(TREE_VIEW_ID, {
    treeDataProvider: tree,
    showCollapseAll: true,
  });
  treeView.description = describeFilters(filters.get());
  const details = new TicketDetailPanels(controller, log);

  context.subscriptions.push(
    log,
    statusBar,
    tree,
    treeView,
    details,
    controller,
    ...registerCommands({ controller, session, log, details, filters }),
    vscode.languages.registerHoverProvider({ scheme: '*' }, new TicketHoverProvider(controller)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const changed = (key: string) => event.affectsConfiguration(`${CONFIG_SECTION}.${key}`);
      if ((changed('serverUrl') || changed('tenant')) && controller.signedIn) {
        log.info('tickets.serverUrl or tickets.tenant changed: signing out of the previous server');
        void session.signOut().catch(() => undefined);
      } else if (changed('live') || changed('pollIntervalSeconds')) {
        controller.settingsChanged();
      }
    }),
  );

  setContext(CONTEXT_KEYS.signedIn, false);
  setContext(CONTEXT_KEYS.unreachable, false);
  void controller.start();
  log.info(
    `activated in ${(performance.now() - started).toFixed(1)} ms (tickets-vscode ${version})`,
  );
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
