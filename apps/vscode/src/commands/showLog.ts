import type { CommandContext } from './context.js';

/** Shows the `Tickets` output channel. */
export function showLog({ log }: CommandContext): void {
  log.show();
}
