// A hand-written double of the parts of the `vscode` module the extension uses, for the glue's
// tests (vitest aliases `vscode` to this file). The test scripts the user's answers in `ui` and
// reads back what the extension showed.
type Listener<T> = (value: T) => void;

export class Disposable {
  constructor(private readonly onDispose: () => void = () => undefined) {}
  dispose(): void {
    this.onDispose();
  }
}

export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum QuickPickItemKind {
  Separator = -1,
  Default = 0,
}
export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ViewColumn {
  Active = -1,
  One = 1,
}
export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class MarkdownString {
  isTrusted?: boolean | { enabledCommands: string[] };
  constructor(readonly value = '') {}
}
export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: MarkdownString | string;
  contextValue?: string;
  iconPath?: ThemeIcon;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}
export class Range {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}
}
export class Hover {
  constructor(
    readonly contents: MarkdownString,
    readonly range?: Range,
  ) {}
}

export interface ShownMessage {
  readonly level: 'info' | 'warning' | 'error';
  readonly text: string;
  readonly items: string[];
}
export interface ShownQuickPick {
  readonly items: { label: string; detail?: string; description?: string }[];
  readonly options: { title?: string; canPickMany?: boolean } | undefined;
}
type Picker = (items: ShownQuickPick['items']) => unknown;

/** What the user answers next, and what the extension showed. */
export const ui = {
  inputs: [] as (string | undefined)[],
  picks: [] as Picker[],
  messageAnswers: [] as (string | undefined)[],
  inputBoxes: [] as { prompt?: string; value?: string; password?: boolean; title?: string }[],
  quickPicks: [] as ShownQuickPick[],
  messages: [] as ShownMessage[],
  /** Titles of progress notifications. */
  progress: [] as string[],
  /** Views that showed a progress bar. */
  viewProgress: [] as string[],
  context: new Map<string, unknown>(),
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  config: new Map<string, unknown>(),
  logs: [] as string[],
  statusBar: undefined as
    { text: string; visible: boolean; command?: string | undefined } | undefined,
  treeViews: new Map<string, { description?: string | undefined; provider: unknown }>(),
  panels: [] as FakePanel[],
  hoverProviders: [] as {
    provideHover(document: unknown, position: unknown): Promise<Hover | undefined>;
  }[],
  reset(): void {
    this.inputs = [];
    this.picks = [];
    this.messageAnswers = [];
    this.inputBoxes = [];
    this.quickPicks = [];
    this.messages = [];
    this.progress = [];
    this.viewProgress = [];
    this.context.clear();
    this.commands.clear();
    this.config.clear();
    this.logs = [];
    this.statusBar = undefined;
    this.treeViews.clear();
    this.panels = [];
    this.hoverProviders = [];
  },
};

export interface FakePanel {
  title: string;
  readonly options: { enableScripts?: boolean; localResourceRoots?: unknown[] };
  readonly webview: { html: string };
  disposed: boolean;
  reveal(): void;
  dispose(): void;
  onDidDispose(listener: () => void): Disposable;
}

const message =
  (level: ShownMessage['level']) =>
  (text: string, ...items: string[]): Promise<string | undefined> => {
    ui.messages.push({ level, text, items });
    return Promise.resolve(items.length > 0 ? ui.messageAnswers.shift() : undefined);
  };

function logChannel() {
  const line = (level: string) => (text: string) => void ui.logs.push(`${level} ${text}`);
  return {
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    show: () => undefined,
    dispose: () => undefined,
  };
}

export const window = {
  showInputBox: async (
    options: (typeof ui.inputBoxes)[number] & { validateInput?: (value: string) => unknown },
  ) => {
    ui.inputBoxes.push(options);
    const answer = ui.inputs.shift();
    if (answer !== undefined && options.validateInput && (await options.validateInput(answer))) {
      throw new Error(`the input box would not take ${JSON.stringify(answer)}`);
    }
    return answer;
  },
  showQuickPick: async (
    items: ShownQuickPick['items'] | Promise<ShownQuickPick['items']>,
    options?: ShownQuickPick['options'],
  ) => {
    const resolved = await items;
    ui.quickPicks.push({ items: resolved, options });
    const pick = ui.picks.shift();
    return pick ? pick(resolved) : undefined;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  withProgress: async <T>(
    options: { location: ProgressLocation | { viewId: string }; title?: string },
    task: (progress: { report(): void }) => Promise<T>,
  ) => {
    if (typeof options.location === 'object') ui.viewProgress.push(options.location.viewId);
    else ui.progress.push(options.title ?? '');
    return task({ report: () => undefined });
  },
  createOutputChannel: () => logChannel(),
  createStatusBarItem: () => {
    const item = {
      text: '',
      name: '',
      tooltip: '',
      command: undefined as string | undefined,
      visible: false,
      show() {
        item.visible = true;
      },
      hide() {
        item.visible = false;
      },
      dispose() {
        item.visible = false;
      },
    };
    ui.statusBar = item;
    return item;
  },
  createTreeView: (id: string, options: { treeDataProvider: unknown }) => {
    const view = {
      description: undefined as string | undefined,
      provider: options.treeDataProvider,
      dispose: () => undefined,
    };
    ui.treeViews.set(id, view);
    return view;
  },
  createWebviewPanel: (
    _type: string,
    title: string,
    _column: unknown,
    options: FakePanel['options'],
  ) => {
    const listeners: (() => void)[] = [];
    const panel: FakePanel = {
      title,
      options,
      webview: { html: '' },
      disposed: false,
      reveal: () => undefined,
      dispose: () => {
        panel.disposed = true;
        for (const listener of listeners) listener();
      },
      onDidDispose: (listener) => {
        listeners.push(listener);
        return new Disposable();
      },
    };
    ui.panels.push(panel);
    return panel;
  },
};

export const commands = {
  registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
    ui.commands.set(id, handler);
    return new Disposable(() => ui.commands.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]) => {
    if (id === 'setContext') {
      ui.context.set(args[0] as string, args[1]);
      return undefined;
    }
    const handler = ui.commands.get(id);
    if (!handler) throw new Error(`no command ${id}`);
    return handler(...args);
  },
};

export const workspace = {
  getConfiguration: (section: string) => ({
    get: <T>(key: string, fallback?: T): T | undefined =>
      ui.config.has(`${section}.${key}`) ? (ui.config.get(`${section}.${key}`) as T) : fallback,
    update: async (key: string, value: unknown) => void ui.config.set(`${section}.${key}`, value),
  }),
  onDidChangeConfiguration: () => new Disposable(),
};

export const languages = {
  registerHoverProvider: (_selector: unknown, provider: (typeof ui.hoverProviders)[number]) => {
    ui.hoverProviders.push(provider);
    return new Disposable();
  },
};

export const version = '1.100.0';
