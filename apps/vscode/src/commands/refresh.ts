import type { CommandContext } from './context.js';

/** Reloads everything, the user's resources included; signs in first if the server was down. */
export async function refresh({ controller }: CommandContext): Promise<void> {
  await controller.refresh({ rediscover: true });
}
