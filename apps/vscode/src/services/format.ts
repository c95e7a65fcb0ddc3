import type { Ticket } from '@tickets/client';

/** The states a ticket can be in, in the order the tree shows them. */
export const STATES = ['OPEN', 'REOPEN', 'RESOLVED', 'CLOSED'] as const;
export type State = (typeof STATES)[number];

/** The states that still need work: what "open" counts. */
export const OPEN_STATES: readonly State[] = ['OPEN', 'REOPEN'];

const STATE_LABELS: Record<State, string> = {
  OPEN: 'Open',
  REOPEN: 'Reopened',
  RESOLVED: 'Resolved',
  CLOSED: 'Closed',
};

export const stateLabel = (state: State): string => STATE_LABELS[state];

/** The codicon of a state, for tree items and the detail view. */
export const STATE_ICONS: Record<State, string> = {
  OPEN: 'issues',
  REOPEN: 'issue-reopened',
  RESOLVED: 'check',
  CLOSED: 'issue-closed',
};

/** The theme color of a state's icon. */
export const STATE_COLORS: Record<State, string> = {
  OPEN: 'charts.green',
  REOPEN: 'charts.orange',
  RESOLVED: 'charts.blue',
  CLOSED: 'charts.purple',
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long ago `iso` was, short: `just now`, `5m`, `3h`, `12d`, `4mo`, `2y`. */
export function formatAge(iso: string, now: Date): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const ms = now.getTime() - then;
  if (ms < MINUTE) return 'just now';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h`;
  if (ms < 60 * DAY) return `${Math.floor(ms / DAY)}d`;
  if (ms < 365 * DAY) return `${Math.floor(ms / (30 * DAY))}mo`;
  return `${Math.floor(ms / (365 * DAY))}y`;
}

/** `5m ago`, or `just now`. */
export function formatAgo(iso: string, now: Date): string {
  const age = formatAge(iso, now);
  return age === 'just now' || age === '' ? age : `${age} ago`;
}

/** The API or app a ticket is about (both when it names both). */
export function resourceOf(ticket: Pick<Ticket, 'apiId' | 'appId'>): string {
  return [ticket.apiId, ticket.appId].filter(Boolean).join(' + ');
}

/** A tree row's description: `<ticketId> · <resource> · <age>`. */
export function ticketDescription(ticket: Ticket, now: Date): string {
  return [ticket.id, resourceOf(ticket), formatAge(ticket.created, now)]
    .filter(Boolean)
    .join(' · ');
}

/** Text shown literally in Markdown: every character Markdown could read as syntax escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`);
}

/** A tree row's tooltip, as Markdown: title, state, who and when, and the description. */
export function ticketTooltip(ticket: Ticket, now: Date): string {
  const lines = [
    `**${escapeMarkdown(ticket.title)}**`,
    '',
    `${escapeMarkdown(ticket.id)} · ${stateLabel(ticket.state)} · ${escapeMarkdown(resourceOf(ticket))} · ${ticket.environment}`,
    '',
    `Opened by ${escapeMarkdown(ticket.userName)} ${formatAgo(ticket.created, now)}` +
      (ticket.comments > 0
        ? ` · ${ticket.comments} comment${ticket.comments === 1 ? '' : 's'}`
        : ''),
  ];
  if (ticket.description.trim()) lines.push('', '---', '', escapeMarkdown(ticket.description));
  return lines.join('\n');
}

/** A ticket row's contextValue: `ticket`, then ` action:<name>` for each action the user may take. */
export function ticketContextValue(allowedActions: readonly string[]): string {
  return ['ticket', ...allowedActions.map((name) => `action:${name}`)].join(' ');
}
