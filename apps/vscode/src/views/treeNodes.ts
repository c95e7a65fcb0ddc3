import { COMMANDS } from '../constants.js';
import {
  STATE_COLORS,
  STATE_ICONS,
  stateLabel,
  ticketContextValue,
  ticketDescription,
  ticketTooltip,
  type State,
} from '../services/format.js';
import { allowedActionNames, type TicketGroup, type TicketRow } from '../services/ticketTree.js';

/** A node of the tree: a state's group, a ticket, or a group's `Load more`. */
export type TreeNode =
  | { readonly kind: 'group'; readonly group: TicketGroup }
  | { readonly kind: 'ticket'; readonly row: TicketRow }
  | { readonly kind: 'loadMore'; readonly state: State };

/** A tree item as plain data; the provider turns it into a vscode.TreeItem. */
export interface TreeItemSpec {
  readonly id: string;
  readonly label: string;
  readonly description?: string;
  /** Markdown. */
  readonly tooltip?: string;
  readonly contextValue?: string;
  readonly icon: string;
  /** A theme color id for the icon. */
  readonly iconColor?: string;
  readonly collapsible: 'none' | 'expanded' | 'collapsed';
  readonly command?: {
    readonly command: string;
    readonly title: string;
    readonly arguments: unknown[];
  };
}

/** The children of the root (the groups) or of a group (its tickets, then `Load more`). */
export function childrenOf(node: TreeNode | undefined, groups: readonly TicketGroup[]): TreeNode[] {
  if (!node) return groups.map((group) => ({ kind: 'group', group }));
  if (node.kind !== 'group') return [];
  const group = groups.find((candidate) => candidate.state === node.group.state) ?? node.group;
  const rows: TreeNode[] = group.rows.map((row) => ({ kind: 'ticket', row }));
  if (group.hasMore) rows.push({ kind: 'loadMore', state: group.state });
  return rows;
}

export function treeItemSpec(node: TreeNode, now: Date): TreeItemSpec {
  switch (node.kind) {
    case 'group': {
      const { state, total, rows } = node.group;
      return {
        // VS Code keeps an item's collapsed state by id: an empty group has an id of its own, so
        // once tickets arrive it is a new item, shown expanded.
        id: rows.length > 0 ? `group:${state}` : `group:${state}:empty`,
        label: stateLabel(state),
        description: total === undefined ? '' : String(total),
        contextValue: 'group',
        icon: STATE_ICONS[state],
        iconColor: STATE_COLORS[state],
        collapsible: rows.length > 0 ? 'expanded' : 'collapsed',
      };
    }
    case 'ticket': {
      const { ticket } = node.row;
      return {
        id: ticket.id,
        label: ticket.title,
        description: ticketDescription(ticket, now),
        tooltip: ticketTooltip(ticket, now),
        contextValue: ticketContextValue(allowedActionNames(node.row)),
        icon: STATE_ICONS[ticket.state],
        iconColor: STATE_COLORS[ticket.state],
        collapsible: 'none',
        command: { command: COMMANDS.openTicket, title: 'Open Ticket', arguments: [ticket.id] },
      };
    }
    case 'loadMore':
      return {
        id: `loadMore:${node.state}`,
        label: 'Load more',
        contextValue: 'loadMore',
        icon: 'more',
        collapsible: 'none',
        command: { command: COMMANDS.loadMore, title: 'Load more', arguments: [node.state] },
      };
  }
}
