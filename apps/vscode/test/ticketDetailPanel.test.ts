// The detail panels, through the double of the editor's API (test/vscode.ts) and a controller
// whose answers the test releases one by one, so renders of one panel can overlap in any order.
import { TicketsClientError } from '@tickets/client';
import { beforeEach, describe, expect, it } from 'vitest';
import type * as vscodeTypes from 'vscode';
import type { TicketDetail, TicketsController } from '../src/services/controller.js';
import { TicketDetailPanels } from '../src/views/ticketDetailPanel.js';
import { defaultActions, ticket } from './fixtures.js';
import { ui, window, type FakePanel } from './vscode.js';

interface Pending {
  resolve(detail: TicketDetail): void;
  reject(error: unknown): void;
}

/** A controller whose `detail` answers only when the test says so, in the order it chooses. */
function slowController() {
  const pending: Pending[] = [];
  const failures: unknown[] = [];
  /** What `failed` answers: true when it handled the failure (a renewed session). */
  const handles = { failure: false };
  const controller = {
    detail: (_ticketId: string) =>
      new Promise<TicketDetail>((resolve, reject) => pending.push({ resolve, reject })),
    failed: async (error: unknown) => {
      failures.push(error);
      return handles.failure;
    },
  };
  return { controller: controller as unknown as TicketsController, pending, failures, handles };
}

/** The double's log channel: its lines land in `ui.logs`. */
const log = () => window.createOutputChannel() as unknown as vscodeTypes.LogOutputChannel;

const detailOf = (title: string, state: 'OPEN' | 'RESOLVED' = 'OPEN'): TicketDetail => ({
  ticket: ticket({ id: 'ticket7.acme', title, state }),
  history: [],
  actions: defaultActions(state),
});

const unreachable = () =>
  new TicketsClientError({ kind: 'network', message: 'connection refused' });

/** Lets every answer already released run through the panel's code. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** How many times the panel was closed (the double runs its listeners on every dispose). */
function disposals(panel: FakePanel): () => number {
  let count = 0;
  panel.onDidDispose(() => (count += 1));
  return () => count;
}

describe('the ticket detail panel', () => {
  let panels: TicketDetailPanels;
  let server: ReturnType<typeof slowController>;
  beforeEach(() => {
    ui.reset();
    server = slowController();
    panels = new TicketDetailPanels(server.controller, log());
  });

  /** Opens the panel and shows `title` in it. */
  async function opened(title: string): Promise<FakePanel> {
    const showing = panels.show('ticket7.acme');
    server.pending.shift()!.resolve(detailOf(title));
    await showing;
    return ui.panels[0]!;
  }

  const overlaps = {
    'a change while the panel opens': async () => {
      const first = panels.show('ticket7.acme');
      const second = panels.changed('ticket7.acme');
      return [first, second];
    },
    'two changes in a row': async () => {
      await opened('Shown at first');
      return [panels.changed('ticket7.acme'), panels.changed('ticket7.acme')];
    },
    'show on the open panel while a change renders': async () => {
      await opened('Shown at first');
      return [panels.changed('ticket7.acme'), panels.show('ticket7.acme')];
    },
  };

  for (const [name, start] of Object.entries(overlaps)) {
    it(`shows the newer state when the older fetch answers last: ${name}`, async () => {
      const renders = await start();
      const [older, newer] = server.pending.splice(0);
      newer!.resolve(detailOf('Newer title', 'RESOLVED'));
      await settle();
      older!.resolve(detailOf('Older title', 'OPEN'));
      await Promise.all(renders);

      expect(ui.panels).toHaveLength(1);
      const panel = ui.panels[0]!;
      expect(panel.title).toBe('ticket7.acme: Newer title');
      expect(panel.webview.html).toContain('<h1>Newer title</h1>');
      expect(panel.webview.html).not.toContain('Older title');
    });
  }

  it('keeps the newer state when the older fetch fails after it', async () => {
    const panel = await opened('Shown at first');
    const closed = disposals(panel);
    const older = panels.changed('ticket7.acme');
    const newer = panels.changed('ticket7.acme');
    const [slow, fast] = server.pending.splice(0);
    fast!.resolve(detailOf('Newer title'));
    await newer;
    slow!.reject(unreachable());
    await older;

    expect(panel.webview.html).toContain('<h1>Newer title</h1>');
    expect(closed()).toBe(0);
    expect(server.failures).toEqual([]);
    expect(ui.logs).toEqual([]);
  });

  it('leaves a panel closed while it was loading alone', async () => {
    const showing = panels.show('ticket7.acme');
    const panel = ui.panels[0]!;
    const closed = disposals(panel);
    panel.dispose();
    server.pending.shift()!.resolve(detailOf('Too late'));
    await showing;

    expect(panel.webview.html).toBe('');
    expect(panel.title).toBe('ticket7.acme');
    expect(closed()).toBe(1);
    expect(ui.logs).toEqual([]);
  });

  it('neither reports nor closes again when a closed panel’s fetch fails', async () => {
    const panel = await opened('Shown at first');
    const closed = disposals(panel);
    const changing = panels.changed('ticket7.acme');
    panels.dispose();
    server.pending.shift()!.reject(unreachable());
    await changing;

    expect(panel.webview.html).toContain('<h1>Shown at first</h1>');
    expect(closed()).toBe(1);
    expect(server.failures).toEqual([]);
    expect(ui.logs).toEqual([]);
  });

  it('reports a failed fetch and closes the panel it could not fill', async () => {
    const showing = panels.show('ticket7.acme');
    const panel = ui.panels[0]!;
    const closed = disposals(panel);
    const error = unreachable();
    server.pending.shift()!.reject(error);
    await showing;

    expect(server.failures).toEqual([error]);
    expect(ui.logs).toEqual(['warn could not show ticket7.acme: connection refused']);
    expect(closed()).toBe(1);
    // The closed panel is forgotten: showing the ticket again opens a new one.
    const again = panels.show('ticket7.acme');
    server.pending.shift()!.resolve(detailOf('Back again'));
    await again;
    expect(ui.panels).toHaveLength(2);
    expect(ui.panels[1]!.webview.html).toContain('<h1>Back again</h1>');
  });

  it('fetches once more after the session was renewed, and shows the ticket', async () => {
    server.handles.failure = true;
    const showing = panels.show('ticket7.acme');
    const panel = ui.panels[0]!;
    const closed = disposals(panel);
    const expired = new TicketsClientError({ kind: 'unauthenticated', message: 'expired' });
    server.pending.shift()!.reject(expired);
    await settle();
    // The second fetch, after the renewal, fills the panel; a second failure would not loop.
    server.pending.shift()!.resolve(detailOf('After renewal'));
    await showing;
    expect(panel.webview.html).toContain('<h1>After renewal</h1>');
    expect(server.failures).toEqual([expired]);
    expect(closed()).toBe(0);

    const again = panels.changed('ticket7.acme');
    server.pending.shift()!.reject(expired);
    await settle();
    server.pending.shift()!.reject(expired);
    await again;
    expect(server.pending).toHaveLength(0);
    expect(server.failures).toEqual([expired, expired, expired]);
    expect(panel.webview.html).toContain('<h1>After renewal</h1>');
  });

  it('keeps the webview locked down', async () => {
    const panel = await opened('Shown at first');
    expect(panel.options).toEqual({
      enableScripts: false,
      enableCommandUris: false,
      localResourceRoots: [],
    });
  });
});
