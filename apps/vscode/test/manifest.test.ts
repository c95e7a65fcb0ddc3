// package.json's contributions and the code agree: every command has a handler and a title in
// the Tickets category, menus name real commands, settings are described, and the bundle is
// what `main` names.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  CONTEXT_KEYS,
  DEFAULT_ACTION_COMMANDS,
  TREE_VIEW_ID,
  VIEW_CONTAINER_ID,
} from '../src/constants.js';

interface Manifest {
  main: string;
  engines: { vscode: string };
  devDependencies: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    viewsContainers: { activitybar: { id: string; title: string }[] };
    views: Record<string, { id: string; name: string }[]>;
    viewsWelcome: { view: string; contents: string; when: string }[];
    configuration: {
      properties: Record<
        string,
        { markdownDescription?: string; description?: string; default: unknown }
      >;
    };
  };
}

const manifest = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as Manifest;
const ids = Object.values(COMMANDS) as string[];

describe('package.json', () => {
  it('contributes every command, titled in the Tickets category, and no other', () => {
    const contributed = manifest.contributes.commands;
    expect(contributed.map((c) => c.command).sort()).toEqual([...ids].sort());
    for (const command of contributed) {
      expect(command.category).toBe('Tickets');
      expect(command.title.length).toBeGreaterThan(0);
    }
    const titles = Object.fromEntries(contributed.map((c) => [c.command, c.title]));
    expect(titles).toMatchObject({
      'tickets.signIn': 'Sign In',
      'tickets.filter': 'Filter Tickets…',
      'tickets.openTicket': 'Open Ticket…',
      'tickets.runAction': 'Run Action…',
      'tickets.resolve': 'Resolve',
    });
  });

  it('names only real commands in its menus, and shows Resolve/Close/Reopen only when the item allows them', () => {
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const entry of entries) expect(ids).toContain(entry.command);
    }
    const itemMenu = manifest.contributes.menus['view/item/context']!;
    for (const [command, action] of Object.entries(DEFAULT_ACTION_COMMANDS)) {
      const entries = itemMenu.filter((entry) => entry.command === command);
      expect(entries).toHaveLength(2); // inline and in the context menu
      for (const entry of entries) {
        const clause = /viewItem =~ \/(.*)\//.exec(entry.when ?? '')![1]!;
        const pattern = new RegExp(clause);
        expect(pattern.test(`ticket action:${action}`)).toBe(true);
        expect(pattern.test(`ticket action:${action}x`)).toBe(false);
        expect(pattern.test('ticket action:tenant.action.other')).toBe(false);
      }
    }
  });

  it('has the view container, the view, and welcome texts for signed-out and unreachable', () => {
    expect(manifest.contributes.viewsContainers.activitybar).toEqual([
      expect.objectContaining({ id: VIEW_CONTAINER_ID, title: 'Tickets' }),
    ]);
    expect(manifest.contributes.views[VIEW_CONTAINER_ID]).toEqual([
      expect.objectContaining({ id: TREE_VIEW_ID, name: 'Tickets' }),
    ]);
    const welcome = manifest.contributes.viewsWelcome;
    expect(welcome.find((w) => w.when.includes(`!${CONTEXT_KEYS.signedIn}`))?.contents).toContain(
      '[Sign In](command:tickets.signIn)',
    );
    expect(welcome.find((w) => w.when === CONTEXT_KEYS.unreachable)?.contents).toContain(
      '[Retry](command:tickets.refresh)',
    );
  });

  it('describes every setting, all under tickets.*', () => {
    const properties = manifest.contributes.configuration.properties;
    expect(Object.keys(properties).sort()).toEqual(
      [
        'tickets.email',
        'tickets.live',
        'tickets.pollIntervalSeconds',
        'tickets.serverUrl',
        'tickets.tenant',
      ].sort(),
    );
    for (const setting of Object.values(properties)) {
      expect((setting.markdownDescription ?? setting.description ?? '').length).toBeGreaterThan(20);
    }
    expect(properties['tickets.serverUrl']!.default).toBe('http://127.0.0.1:8080');
    expect(properties['tickets.pollIntervalSeconds']!.default).toBe(30);
  });

  it('targets VS Code 1.100 with the matching @types/vscode, and loads the bundle', () => {
    expect(manifest.engines.vscode).toBe('^1.100.0');
    expect(manifest.devDependencies['@types/vscode']).toMatch(/^~1\.100\./);
    expect(manifest.main).toBe('./dist/extension.js');
  });
});
