import * as vscode from 'vscode';
import type { TicketsController } from '../services/controller.js';
import { childrenOf, treeItemSpec, type TreeNode } from './treeNodes.js';

const COLLAPSIBLE = {
  none: vscode.TreeItemCollapsibleState.None,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
} as const;

/** The Tickets view: the controller's tree model as vscode.TreeItems. */
export class TicketTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly controller: TicketsController) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    // Signed out or unreachable: no rows, so the welcome view (sign in, retry) shows.
    if (!this.controller.signedIn || this.controller.isUnreachable) return [];
    return childrenOf(node, this.controller.tree.groups());
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const spec = treeItemSpec(node, new Date());
    const item = new vscode.TreeItem(spec.label, COLLAPSIBLE[spec.collapsible]);
    item.id = spec.id;
    if (spec.description !== undefined) item.description = spec.description;
    if (spec.tooltip !== undefined) item.tooltip = new vscode.MarkdownString(spec.tooltip);
    if (spec.contextValue !== undefined) item.contextValue = spec.contextValue;
    item.iconPath = new vscode.ThemeIcon(
      spec.icon,
      spec.iconColor === undefined ? undefined : new vscode.ThemeColor(spec.iconColor),
    );
    if (spec.command) item.command = { ...spec.command };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
