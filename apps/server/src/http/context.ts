import type Koa from 'koa';
import type { Logger } from '../logger.js';

/** Koa's state, typed once for the whole app. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** How this route answers errors: `text/plain` (the action endpoint) or problem+json. */
  errorFormat: 'text' | 'problem';
}

export type AppContext = Koa.ParameterizedContext<AppState>;
