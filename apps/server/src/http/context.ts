import type Koa from 'koa';
import type { Logger } from '../logger.js';
import type { Caller } from '../service/sessionService.js';

/** Koa's state, typed once for the whole app. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** How this route answers errors: `text/plain` (the action endpoint) or problem+json. */
  errorFormat: 'text' | 'problem';
  /** Set by the session middleware on authenticated routes. */
  caller?: Caller;
}

export type AppContext = Koa.ParameterizedContext<AppState>;
