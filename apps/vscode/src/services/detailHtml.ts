import type { HistoryEntry, Ticket, ValidAction } from '@tickets/client';
import { resourceOf, stateLabel } from './format.js';

/** Text as HTML text or attribute value: nothing in it can open a tag, an entity or an attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface DetailInput {
  readonly ticket: Ticket;
  readonly history: readonly HistoryEntry[];
  readonly actions: readonly ValidAction[];
  /** The nonce of the page's one inline style. */
  readonly nonce: string;
}

/** The Content-Security-Policy of the page: nothing loads or runs but its own nonce'd style. */
export const detailCsp = (nonce: string): string =>
  `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'none'; script-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`;

/** `com.soa.ticket.label.priority.high` as `high priority`; other labels as they are. */
const labelText = (label: string): string => {
  const priority = /^com\.soa\.ticket\.label\.priority\.(\w+)$/.exec(label)?.[1];
  return priority ? `${priority} priority` : label;
};

const time = (iso: string): string => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
};

function historyItem(entry: HistoryEntry): string {
  const what =
    entry.action === 'comment'
      ? 'commented'
      : `${escapeHtml(entry.action)}: ${escapeHtml(entry.from)} → ${escapeHtml(entry.to)}`;
  const comments = entry.comments
    .map((comment) => `<blockquote>${escapeHtml(comment)}</blockquote>`)
    .join('');
  return `<li><div class="meta"><strong>${escapeHtml(entry.userId)}</strong> ${what} <time datetime="${escapeHtml(entry.created)}">${escapeHtml(time(entry.created))}</time></div>${comments}</li>`;
}

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1.5em 2em; line-height: 1.5; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
.facts { color: var(--vscode-descriptionForeground); margin: 0 0 1em; }
.state { font-weight: bold; color: var(--vscode-foreground); }
.description { white-space: pre-wrap; border-left: 3px solid var(--vscode-textBlockQuote-border); padding: 0.3em 1em; background: var(--vscode-textBlockQuote-background); }
ol.history { list-style: none; padding: 0; }
ol.history li { border-top: 1px solid var(--vscode-panel-border); padding: 0.6em 0; }
.meta time { color: var(--vscode-descriptionForeground); margin-left: 0.5em; }
blockquote { white-space: pre-wrap; margin: 0.4em 0 0 1em; }
.blocked { color: var(--vscode-descriptionForeground); }
`;

/**
 * The ticket detail page: description and full history, as static HTML under a CSP that runs no
 * script and loads nothing. Every text from the server is escaped.
 */
export function renderTicketDetail({ ticket, history, actions, nonce }: DetailInput): string {
  const facts = [
    `<span class="state">${escapeHtml(stateLabel(ticket.state))}</span>`,
    escapeHtml(ticket.id),
    escapeHtml(resourceOf(ticket)),
    escapeHtml(ticket.environment),
    `opened by ${escapeHtml(ticket.userName)} on ${escapeHtml(time(ticket.created))}`,
  ].join(' · ');
  const labels = [...ticket.labels.map(labelText), ...ticket.tags].map(escapeHtml).join(', ');
  const actionList = actions
    .map((action) =>
      action.allowed
        ? `<li>${escapeHtml(action.label || action.value)}</li>`
        : `<li class="blocked">${escapeHtml(action.label || action.value)}: ${escapeHtml(action.reason ?? 'not allowed')}</li>`,
    )
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(detailCsp(nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(ticket.id)}</title>
<style nonce="${escapeHtml(nonce)}">${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(ticket.title)}</h1>
<p class="facts">${facts}</p>
${labels ? `<p class="facts">${labels}</p>` : ''}
<h2>Description</h2>
<div class="description">${ticket.description.trim() ? escapeHtml(ticket.description) : '<em>No description.</em>'}</div>
<h2>Actions</h2>
${actionList ? `<ul>${actionList}</ul>` : '<p>No actions in this state.</p>'}
<h2>History (${history.length})</h2>
${history.length > 0 ? `<ol class="history">${history.map(historyItem).join('')}</ol>` : '<p>No history yet.</p>'}
</body>
</html>
`;
}
