import * as vscode from 'vscode';
import type { ResourceRef, TicketFilters } from '../services/filters.js';
import { STATES, stateLabel, type State } from '../services/format.js';
import type { CommandContext } from './context.js';

type Choice = vscode.QuickPickItem & { readonly apply: (filters: Mutable) => void };
type Mutable = { -readonly [K in keyof TicketFilters]: TicketFilters[K] };

const ANY_RESOURCE = 'Any API or app';

/** Picks one API or app from those offered (the user's and those of recent tickets), or none. */
async function pickResource(known: readonly ResourceRef[], current: ResourceRef | undefined) {
  const items = [
    { label: ANY_RESOURCE, ref: undefined as ResourceRef | undefined },
    ...known.map((ref) => ({
      label: ref.id,
      description: ref.type === 'api' ? 'API' : 'app',
      ref: ref as ResourceRef | undefined,
      picked: current?.id === ref.id && current.type === ref.type,
    })),
  ];
  return vscode.window.showQuickPick(items, {
    title: 'Tickets of one API or app',
    ignoreFocusOut: true,
  });
}

/** Filters: my resources, authored by me, one API or app, states. Saved per workspace. */
export async function filter({ controller, filters }: CommandContext): Promise<void> {
  const current = filters.get();
  const resourceItem: Choice = {
    label: '$(symbol-interface) One API or app…',
    ...(current.resource && { description: current.resource.id }),
    picked: current.resource !== undefined,
    apply: () => undefined,
  };
  const items: (Choice | vscode.QuickPickItem)[] = [
    { label: 'Whose', kind: vscode.QuickPickItemKind.Separator },
    {
      label: '$(shield) On my resources',
      detail: controller.knownResources().siteAdmin
        ? 'Every ticket: as a site admin, you administer every API and app'
        : 'Tickets of the APIs and apps you administer',
      picked: current.scope === 'mine',
      apply: (f) => (f.scope = 'mine'),
    } satisfies Choice,
    {
      label: '$(person) Authored by me',
      picked: current.authoredByMe,
      apply: (f) => (f.authoredByMe = true),
    } satisfies Choice,
    resourceItem,
    { label: 'States', kind: vscode.QuickPickItemKind.Separator },
    ...STATES.map((state: State): Choice => ({
      label: stateLabel(state),
      picked: current.states.includes(state),
      apply: (f) => (f.states = [...f.states, state]),
    })),
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Filter tickets (pick none to see all)',
    canPickMany: true,
    ignoreFocusOut: true,
  });
  if (!picked) return;
  const next: Mutable = { scope: 'all', resource: undefined, authoredByMe: false, states: [] };
  for (const item of picked) if ('apply' in item) item.apply(next);
  if (picked.includes(resourceItem)) {
    const choice = await pickResource(controller.knownResources().all, current.resource);
    if (!choice) return;
    next.resource = choice.ref;
  }
  await filters.set(next);
  await controller.refresh({ rediscover: false });
}
