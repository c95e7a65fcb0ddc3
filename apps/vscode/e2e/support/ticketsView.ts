import type { Locator } from 'playwright-core';
import { expect } from 'vitest';
import { exactly, UI_LIMIT_MS, type TreeRow, type Workbench } from './workbench.js';

/** The ids and texts of the extension's UI (package.json `contributes`, UI.md). */
const CONTAINER_ID = 'tickets';
const CONTAINER_TITLE = 'Tickets';

/** A state group as the tree shows it: its label and its count. */
export interface Group {
  readonly label: string;
  readonly count: string;
}

/** The extension's Tickets view and commands, driven as a user drives them. */
export class TicketsView {
  constructor(readonly workbench: Workbench) {}

  /** Waits until the extension's view container is in the activity bar, then opens it. */
  async open(): Promise<Locator> {
    await this.workbench.activityItem(CONTAINER_TITLE).waitFor();
    return this.workbench.openView(CONTAINER_TITLE, CONTAINER_ID);
  }

  /** The welcome view's button `label` (shown while the tree is empty). */
  async welcomeButton(label: string): Promise<Locator> {
    const view = await this.open();
    return view.locator('.welcome-view-content .monaco-button', { hasText: exactly(label) });
  }

  /**
   * Answers the sign-in prompts: the e-mail, then the password. Answers what the e-mail box
   * offered and whether the password box hid what was typed.
   */
  async answerSignIn(
    email: string,
    password: string,
  ): Promise<{ emailPrefilled: string; passwordMasked: boolean }> {
    const { prefilled } = await this.workbench.answerInput(/e-?mail/i, email);
    const { masked } = await this.workbench.answerInput(/password/i, password);
    return { emailPrefilled: prefilled, passwordMasked: masked };
  }

  async rows(): Promise<TreeRow[]> {
    return this.workbench.treeRows(await this.open());
  }

  /** The state groups, top to bottom, with their counts. */
  async groups(): Promise<Group[]> {
    return (await this.rows())
      .filter((row) => row.level === 1)
      .map((row) => ({ label: row.label, count: row.description }));
  }

  /** The ticket titles shown under each state group. */
  async ticketsByGroup(): Promise<Record<string, string[]>> {
    const byGroup: Record<string, string[]> = {};
    let group: string[] | undefined;
    for (const row of await this.rows()) {
      if (row.level === 1) byGroup[row.label] = group = [];
      else if (group !== undefined) group.push(row.label);
    }
    return byGroup;
  }

  /**
   * Waits until the state groups, top to bottom, are `counts` (`{ Open: 2, Closed: 1 }`): the
   * tree refreshes by itself; nobody clicks Refresh.
   */
  async expectCounts(counts: Readonly<Record<string, number>>): Promise<void> {
    const expected: Group[] = Object.entries(counts).map(([label, count]) => ({
      label,
      count: String(count),
    }));
    await expect
      .poll(() => this.groups(), { timeout: UI_LIMIT_MS, interval: 250 })
      .toEqual(expected);
  }

  /**
   * Waits until `title` shows under the group `group`, which must open by itself: a group that
   * was empty when first shown, and then gets a ticket, is expanded without a click.
   */
  async expectTicketIn(title: string, group: string): Promise<void> {
    await expect
      .poll(async () => (await this.ticketsByGroup())[group] ?? [], {
        timeout: UI_LIMIT_MS,
        interval: 250,
      })
      .toContain(title);
  }

  /** The ticket row titled `title`. */
  async ticketRow(title: string): Promise<Locator> {
    return this.workbench.treeRow(await this.open(), title);
  }
}
