import type { State } from '../services/format.js';
import type { CommandContext } from './context.js';

/** The next page of a state's group (the `Load more` row). */
export async function loadMore({ controller }: CommandContext, state?: unknown): Promise<void> {
  if (typeof state === 'string') await controller.loadMore(state as State);
}
