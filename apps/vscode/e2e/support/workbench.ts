import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type FrameLocator,
  type Locator,
  type Page,
} from 'playwright-core';
import { CHROMIUM } from './paths.js';

/**
 * How long a wait on the UI may take before the test gives up. Generous: the machine is shared
 * and slow; a wait ends as soon as its condition holds, so this costs nothing when all is well.
 */
export const UI_LIMIT_MS = 60_000;
/** How long one palette attempt waits for its command to be listed before trying again. */
const PALETTE_ATTEMPT_MS = 3_000;
const PALETTE_ATTEMPTS = 10;
/** Wide enough for a ticket row's title and description. */
const SIDE_BAR_WIDTH = 560;

/** A row of the Tickets tree as the user sees it. */
export interface TreeRow {
  /** 1 for a state group, 2 for a ticket under it. */
  readonly level: number;
  readonly label: string;
  readonly description: string;
  readonly expanded: boolean | undefined;
}

/** A row of the open quick pick: its label, description and detail as shown. */
export interface PickRow {
  readonly label: string;
  readonly description: string;
  readonly detail: string;
}

/** The VS Code workbench in a headless Chromium, and the moves a user makes in it. */
export class Workbench {
  private shots = 0;

  private constructor(
    private readonly browser: Browser,
    readonly page: Page,
    private readonly screenshotsDir: string,
  ) {}

  /**
   * Opens `url` in a fresh headless Chromium and waits for the workbench to be drawn. Chromium's
   * own files (crash reports and the like) go below `scratchDir`, not to the home folder.
   */
  static async open(url: string, screenshotsDir: string, scratchDir: string): Promise<Workbench> {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      env: {
        ...process.env,
        XDG_CONFIG_HOME: join(scratchDir, 'config'),
        XDG_CACHE_HOME: join(scratchDir, 'cache'),
        XDG_DATA_HOME: join(scratchDir, 'data'),
      },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(UI_LIMIT_MS);
      await page.goto(url);
      await page.locator('.monaco-workbench').waitFor();
      mkdirSync(screenshotsDir, { recursive: true });
      const workbench = new Workbench(browser, page, screenshotsDir);
      await workbench.widenSideBar(SIDE_BAR_WIDTH);
      return workbench;
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  /** Drags the side bar's edge to `width` pixels, so tree rows show whole in screenshots. */
  private async widenSideBar(width: number): Promise<void> {
    const sideBar = this.page.locator('.part.sidebar');
    await sideBar.waitFor();
    const box = await sideBar.boundingBox();
    if (box === null || box.width >= width) return;
    const edge = { x: box.x + box.width, y: box.y + box.height / 2 };
    await this.page.mouse.move(edge.x, edge.y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, edge.y, { steps: 5 });
    await this.page.mouse.up();
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** Saves a screenshot as `NN-<step>.png` in the scenario's folder and answers its path. */
  async screenshot(step: string): Promise<string> {
    this.shots += 1;
    const path = join(this.screenshotsDir, `${String(this.shots).padStart(2, '0')}-${step}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  // --- the activity bar and the Tickets view --------------------------------------------------

  /** The activity bar's item titled `title` (an extension's appears once its contributions load). */
  activityItem(title: string): Locator {
    return this.page.locator(`.activitybar .action-item a[aria-label^="${title}"]`).first();
  }

  /** Opens the view container `containerId` by its activity-bar item, unless it is open already. */
  async openView(title: string, containerId: string): Promise<Locator> {
    const view = this.page.locator(`[id="workbench.view.extension.${containerId}"]`);
    if (!(await view.isVisible())) await this.activityItem(title).click();
    await view.waitFor();
    return view;
  }

  /** The rows of the tree in `view` as shown, top to bottom. */
  async treeRows(view: Locator): Promise<TreeRow[]> {
    return view.locator('.monaco-list-row').evaluateAll((rows) =>
      rows.map((row) => {
        const text = (selector: string): string =>
          row.querySelector(selector)?.textContent?.trim() ?? '';
        const expanded = row.getAttribute('aria-expanded');
        return {
          level: Number(row.getAttribute('aria-level') ?? '0'),
          label: text('.label-name'),
          description: text('.label-description'),
          expanded: expanded === null ? undefined : expanded === 'true',
        };
      }),
    );
  }

  /** The tree row whose label is `label`. */
  treeRow(view: Locator, label: string): Locator {
    return view
      .locator('.monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) });
  }

  /** Right-clicks a row and answers the labels of its context menu, as shown. */
  async openContextMenu(row: Locator): Promise<string[]> {
    await row.click({ button: 'right' });
    const items = this.page.locator('.monaco-menu .action-item:not(.disabled) .action-label');
    await items.first().waitFor();
    return (await items.allTextContents()).map((label) => label.trim()).filter(Boolean);
  }

  /** Clicks the entry `label` of the open context menu. */
  async chooseMenuItem(label: string): Promise<void> {
    await this.page
      .locator('.monaco-menu .action-item .action-label', { hasText: exactly(label) })
      .click();
  }

  /** The content of the active webview (VS Code nests it in two frames). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  /** Opens the workspace file `name` with Quick Open (Ctrl+P) and answers its editor. */
  async openFile(name: string): Promise<Locator> {
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput().locator('input.input');
    await input.waitFor();
    await input.fill(name);
    await this.quickInput()
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(name) }) })
      .first()
      .click();
    const editor = this.page.locator('.editor-instance .monaco-editor').first();
    await editor.waitFor();
    return editor;
  }

  // --- the command palette, quick picks and input boxes --------------------------------------

  private readonly quickInput = (): Locator => this.page.locator('.quick-input-widget');

  /**
   * Runs a palette command by its full title (`Tickets: Sign In`). The palette may not know a
   * command yet while the extension host starts, and it does not refresh an open list; so each
   * attempt closes the palette and opens it again.
   */
  async runCommand(title: string): Promise<void> {
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(title) }) });
    for (let attempt = 1; ; attempt += 1) {
      await this.page.keyboard.press('F1');
      const input = this.quickInput().locator('input.input');
      await input.waitFor();
      await input.fill(`>${title}`);
      try {
        await row.first().waitFor({ timeout: PALETTE_ATTEMPT_MS });
        await row.first().click();
        return;
      } catch (error) {
        await this.page.keyboard.press('Escape');
        if (attempt >= PALETTE_ATTEMPTS) throw error;
      }
    }
  }

  /** The rows of the open quick pick, once it lists at least one. */
  async pickRows(): Promise<PickRow[]> {
    const rows = this.quickInput().locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor();
    return rows.evaluateAll((elements) =>
      elements.map((row) => {
        const text = (selector: string): string =>
          row.querySelector(selector)?.textContent?.trim() ?? '';
        return {
          label: text('.quick-input-list-label .label-name'),
          description: text('.quick-input-list-label .label-description'),
          detail: text('.quick-input-list-label-meta'),
        };
      }),
    );
  }

  /** Chooses the quick pick row whose label starts with `label`. */
  async pick(label: string): Promise<void> {
    await this.quickInput()
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: startsWith(label) }) })
      .first()
      .click();
  }

  /**
   * Waits for an input box whose prompt matches `prompt`, types `value` into it (replacing what
   * was prefilled) and presses Enter. Answers what the box held before, and whether it hid what
   * was typed (a password box).
   */
  async answerInput(
    prompt: RegExp,
    value: string,
  ): Promise<{ prefilled: string; masked: boolean }> {
    const widget = this.quickInput();
    await widget.locator('.quick-input-message', { hasText: prompt }).waitFor();
    const input = widget.locator('input.input');
    const prefilled = await input.inputValue();
    const masked = (await input.getAttribute('type')) === 'password';
    await input.fill(value);
    await input.press('Enter');
    return { prefilled, masked };
  }

  // --- notifications ---------------------------------------------------------------------------

  /** The notification toast whose message matches `message`. */
  toast(message: string | RegExp): Locator {
    return this.page
      .locator('.notifications-toasts .notification-list-item')
      .filter({ has: this.page.locator('.notification-list-item-message', { hasText: message }) })
      .first();
  }

  /** Waits for a notification toast whose message matches `message`; answers its severity. */
  async notification(message: string | RegExp): Promise<'error' | 'warning' | 'info'> {
    const toast = this.toast(message);
    await toast.waitFor();
    // Toasts slide in: wait until this one stands still, so a screenshot shows it whole.
    await toast.hover({ trial: true });
    const icon = (await toast.locator('.notification-list-item-icon').getAttribute('class')) ?? '';
    return icon.includes('codicon-error')
      ? 'error'
      : icon.includes('codicon-warning')
        ? 'warning'
        : 'info';
  }

  /** Clears every notification, as the bell's Clear All does, and waits until none shows. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-list-item').first().waitFor({
      state: 'detached',
    });
  }

  /** The status bar items' texts, left to right. */
  async statusBarTexts(): Promise<string[]> {
    return (await this.page.locator('.statusbar-item').allTextContents()).map((text) =>
      text.trim(),
    );
  }
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A pattern for exactly `text`. */
export const exactly = (text: string): RegExp => new RegExp(`^${escape(text)}$`);
/** A pattern for text starting with `text`. */
export const startsWith = (text: string): RegExp => new RegExp(`^${escape(text)}`);
