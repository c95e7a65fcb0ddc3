// The glue, through a hand-written double of the editor's API (test/vscode.ts) and the real
// server in-process: what the user types and picks is scripted; what the extension shows is read
// back. The end-to-end tests drive the same in a real code-server.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as vscodeTypes from 'vscode';
import { PASSWORD } from '../../server/test/support/fixtures.js';
import { startTestServer, type TestServer } from '../../server/test/support/testServer.js';
import { activate } from '../src/extension.js';
import { eventually } from './fixtures.js';
import { ui, type ShownQuickPick } from './vscode.js';

function fakeContext() {
  const secrets = new Map<string, string>();
  const state = new Map<string, unknown>();
  const subscriptions: { dispose(): unknown }[] = [];
  const context = {
    subscriptions,
    secrets: {
      get: async (key: string) => secrets.get(key),
      store: async (key: string, value: string) => void secrets.set(key, value),
      delete: async (key: string) => void secrets.delete(key),
    },
    workspaceState: {
      get: (key: string) => state.get(key),
      update: async (key: string, value: unknown) => void state.set(key, value),
    },
    extension: { packageJSON: { version: '0.1.0' } },
  };
  return {
    context: context as unknown as vscodeTypes.ExtensionContext,
    secrets,
    state,
    subscriptions,
  };
}

const byLabel =
  (label: string) =>
  (items: ShownQuickPick['items']): unknown =>
    items.find((item) => item.label === label);
const run = (id: string, ...args: unknown[]) => ui.commands.get(id)!(...args);
const texts = (level: string) => ui.messages.filter((m) => m.level === level).map((m) => m.text);

describe('the extension in a (double of the) editor', () => {
  let server: TestServer;
  let ext: ReturnType<typeof fakeContext>;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    ui.reset();
    ui.config.set('tickets.serverUrl', server.url);
    ui.config.set('tickets.tenant', 'acme');
    ext = fakeContext();
    activate(ext.context);
  });
  afterEach(() => {
    for (const subscription of ext.subscriptions) subscription.dispose();
  });

  async function signIn(email = 'ada@acme.test'): Promise<void> {
    ui.inputs.push(email, PASSWORD);
    await run('tickets.signIn');
    await eventually(() => ui.statusBar?.visible === true, 'the status bar');
  }

  it('activates: logs the time, registers every command, starts signed out', async () => {
    expect(ui.logs.find((line) => /^info activated in \d+(\.\d+)? ms/.test(line))).toBeDefined();
    expect([...ui.commands.keys()].sort()).toEqual(
      [
        'close',
        'filter',
        'loadMore',
        'openTicket',
        'refresh',
        'reopen',
        'resolve',
        'runAction',
        'showLog',
        'signIn',
        'signOut',
      ]
        .map((c) => `tickets.${c}`)
        .sort(),
    );
    await eventually(() => ui.context.get('tickets.signedIn') === false, 'the context keys');
    expect(ui.context.get('tickets.unreachable')).toBe(false);
    expect(ui.statusBar?.visible).toBe(false);
  });

  it('signs in after a refusal: the server’s reason shown, asked again, the password only in secret storage', async () => {
    ui.inputs.push('ada@acme.test', 'wrong-password', 'ada@acme.test', PASSWORD);
    await run('tickets.signIn');
    expect(texts('error')).toHaveLength(1);
    expect(texts('error')[0]).toMatch(/^Sign-in failed: .+/);
    expect(ui.inputBoxes.map((box) => [box.password === true, box.value])).toEqual([
      [false, ''],
      [true, undefined],
      [false, 'ada@acme.test'],
      [true, undefined],
    ]);
    expect(texts('info')).toEqual(['Signed in to acme as ada@acme.test']);
    expect([...ext.secrets.values()]).toEqual([PASSWORD]);
    expect(ui.config.get('tickets.email')).toBe('ada@acme.test');
    expect([...ui.config.values()]).not.toContain(PASSWORD);
    expect(ui.context.get('tickets.signedIn')).toBe(true);
    await eventually(() => ui.statusBar?.visible === true, 'the status bar');
    expect(ui.statusBar).toMatchObject({
      text: '$(issues) 3 open',
      command: 'workbench.view.extension.tickets',
    });
    // The view showed its progress bar while it loaded.
    expect(ui.viewProgress).toContain('tickets.tickets');
  });

  it('runs an action from the palette: ticket, action, comment, progress, the new state', async () => {
    await signIn();
    ui.picks.push(byLabel('ticket1.acme Open one'), byLabel('Resolve'));
    ui.inputs.push('Fixed in 2.4.1');
    await run('tickets.runAction');
    const [tickets, actions] = ui.quickPicks.slice(-2);
    expect(tickets!.items.every((item) => /^ticket\d\.acme /.test(item.label))).toBe(true);
    expect(actions!.items.map((item) => item.label)).toEqual(['Resolve', 'Close']);
    expect(ui.inputBoxes.at(-1)!.prompt).toMatch(/^Resolve ticket1\.acme/);
    expect(ui.progress).toEqual(['Resolve ticket1.acme…']);
    expect(texts('info')).toContain('ticket1.acme is now RESOLVED');
  });

  it('lists blocked actions with the server’s reason, and choosing one explains it without running it', async () => {
    await signIn();
    ui.picks.push(byLabel('Close'));
    await run('tickets.runAction', 'ticket6.acme');
    const close = ui.quickPicks.at(-1)!.items.find((item) => item.label === 'Close')!;
    expect(close.detail!.length).toBeGreaterThan(0);
    expect(texts('error')).toEqual([`Close is not allowed on ticket6.acme: ${close.detail}`]);
    expect(ui.progress).toEqual([]);
  });

  it('shows a refusal from the server word for word', async () => {
    await signIn('carol@acme.test');
    // ticket6 is OPEN: there is no Reopen in that state (a stale button would offer it).
    ui.inputs.push('');
    await run('tickets.reopen', 'ticket6.acme');
    const error = texts('error').at(-1)!;
    expect(error).toMatch(/^Reopen ticket6\.acme was refused: .*OPEN/);
    expect(ui.progress).toEqual(['Reopen ticket6.acme…']);
  });

  it('saves the filters per workspace and shows them on the view', async () => {
    await signIn();
    ui.picks.push((items) =>
      items.filter((item) => item.label.includes('Authored by me') || item.label === 'Open'),
    );
    await run('tickets.filter');
    expect(ext.state.get('tickets.filters')).toEqual({
      scope: 'all',
      resource: undefined,
      authoredByMe: true,
      states: ['OPEN'],
    });
    expect(ui.treeViews.get('tickets.tickets')!.description).toBe('by me · Open');
  });

  it('opens the detail in a webview that runs no script', async () => {
    await signIn();
    await run('tickets.openTicket', 'ticket2.acme');
    const panel = ui.panels.at(-1)!;
    expect(panel.options.enableScripts).toBe(false);
    expect(panel.options.localResourceRoots).toEqual([]);
    expect(panel.title).toBe('ticket2.acme: Resolved one');
    expect(panel.webview.html).toContain('content="default-src &#39;none&#39;;');
    expect(panel.webview.html).toContain('<h1>Resolved one</h1>');
  });

  it('hovers on ticket ids of the tenant', async () => {
    await signIn();
    const document = { lineAt: () => ({ text: '// see ticket3.acme and ticket3.globex' }) };
    const hover = await ui.hoverProviders[0]!.provideHover(document, { line: 0, character: 10 });
    expect(hover?.contents.value).toContain('**Closed one**');
    // Only the hover's own link may run, and only that command.
    expect(hover?.contents.isTrusted).toEqual({ enabledCommands: ['tickets.openTicket'] });
    expect(
      await ui.hoverProviders[0]!.provideHover(document, { line: 0, character: 30 }),
    ).toBeUndefined();
  });

  it('signs out: the password forgotten, the view back to its welcome, the status bar hidden', async () => {
    await signIn();
    await run('tickets.signOut');
    expect(ext.secrets.size).toBe(0);
    expect(ui.context.get('tickets.signedIn')).toBe(false);
    expect(ui.statusBar?.visible).toBe(false);
  });
});
