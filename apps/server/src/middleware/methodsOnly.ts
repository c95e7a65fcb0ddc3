import type { Next } from 'koa';
import { ProblemError } from '../errors/appError.js';
import type { AppContext } from '../http/context.js';

export interface MethodsOnlyOptions {
  /** The paths it guards: this one and those below it, e.g. `/trpc`. */
  readonly prefix: string;
  /** The methods served there; any other is the 405 problem, with `Allow` naming these. */
  readonly methods: readonly string[];
}

/**
 * Refuses every other method under a prefix served by something that is not a Koa router (the
 * tRPC mount), as the routers do: the 405 problem of the error table, with `Allow`. Without it,
 * `TRACE /trpc/…` reached tRPC's fetch adapter, which cannot build such a request: a 500.
 */
export function methodsOnly(options: MethodsOnlyOptions) {
  const { prefix, methods } = options;
  const allowed = new Set(methods);
  return async function methodsOnlyMiddleware(ctx: AppContext, next: Next): Promise<void> {
    const guarded = ctx.path === prefix || ctx.path.startsWith(`${prefix}/`);
    if (guarded && !allowed.has(ctx.method)) {
      ctx.set('Allow', methods.join(', '));
      throw new ProblemError({
        code: 'METHOD_NOT_ALLOWED',
        message: `${ctx.method} is not allowed on ${ctx.path}`,
      });
    }
    await next();
  };
}
