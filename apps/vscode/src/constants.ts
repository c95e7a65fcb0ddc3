/** Every id the extension shares with its package.json, in one place. */
export const VIEW_CONTAINER_ID = 'tickets';
export const TREE_VIEW_ID = 'tickets.tickets';
export const OUTPUT_CHANNEL_NAME = 'Tickets';
export const CONFIG_SECTION = 'tickets';

export const COMMANDS = {
  signIn: 'tickets.signIn',
  signOut: 'tickets.signOut',
  refresh: 'tickets.refresh',
  showLog: 'tickets.showLog',
  filter: 'tickets.filter',
  openTicket: 'tickets.openTicket',
  runAction: 'tickets.runAction',
  resolve: 'tickets.resolve',
  close: 'tickets.close',
  reopen: 'tickets.reopen',
  loadMore: 'tickets.loadMore',
} as const;

/** The context keys the package.json's `when` clauses read. */
export const CONTEXT_KEYS = {
  signedIn: 'tickets.signedIn',
  unreachable: 'tickets.unreachable',
} as const;

/** The default workflow's actions that have their own command and inline button. */
export const DEFAULT_ACTION_COMMANDS = {
  [COMMANDS.resolve]: 'ticket.action.resolve',
  [COMMANDS.close]: 'ticket.action.close',
  [COMMANDS.reopen]: 'ticket.action.reopen',
} as const;

/** Their labels when the server lists none (the action is not in the ticket's state). */
export const DEFAULT_ACTION_LABELS: Record<keyof typeof DEFAULT_ACTION_COMMANDS, string> = {
  [COMMANDS.resolve]: 'Resolve',
  [COMMANDS.close]: 'Close',
  [COMMANDS.reopen]: 'Reopen',
};

/** workspaceState key of the filters. */
export const FILTERS_STATE_KEY = 'tickets.filters';
/** SecretStorage key of the password of one server, tenant and e-mail. */
export const passwordSecretKey = (serverUrl: string, tenant: string, email: string): string =>
  `tickets.password:${serverUrl}|${tenant}|${email.toLowerCase()}`;
