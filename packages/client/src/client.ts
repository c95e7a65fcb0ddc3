import type { AppRouter } from '@tickets/server';
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import { EventSource, type FetchLike } from 'eventsource';
import { act, type ActOptions, type ActResult } from './act.js';
import { followChanges, type ChangesOptions, type StreamConnection } from './changes.js';
import { CookieJar } from './cookies.js';
import { fromTrpcError, httpError, networkError, TicketsClientError } from './errors.js';
import { toLog, type TicketsClientLogger } from './logger.js';
import { SessionKeeper, type SessionInfo } from './session.js';
import { backoff, sleep } from './timing.js';
import { DEFAULT_TIMEOUT_MS, Transport, type Fetch } from './transport.js';

/** The extra wait before an EventSource reconnects, after failures in a row. */
const RECONNECT_BASE_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

type Trpc = TRPCClient<AppRouter>;
type Procedures = Trpc['tickets'];

/** What a procedure of the router answers, inferred from the server's `AppRouter`. */
type OutputOf<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;

/** The REST login response plus who the caller is (`siteAdmin`, `adminOf`). */
export type LoginResponse = OutputOf<Trpc['session']['login']['mutate']>;
export type Ticket = OutputOf<Procedures['get']['query']>;
export type TicketPage = OutputOf<Procedures['list']['query']>;
export type ValidAction = OutputOf<Procedures['validActions']['query']>[number];
/** One page of a ticket's history, with the list's `totalResults` and `startIndex`. */
export type HistoryPage = Extract<
  OutputOf<Procedures['history']['query']>,
  { totalResults: number }
>;
export type HistoryEntry = HistoryPage['entries'][number];
/**
 * Which page of a ticket's history: `start` (0 by default) and `count` (20 by default, at most
 * 100), the list's rules.
 */
export interface HistoryPaging {
  readonly start?: number | undefined;
  readonly count?: number | undefined;
}
export type Comment = OutputOf<Procedures['comment']['mutate']>;
/**
 * The filters and paging of `tickets.list`: `start` and `count`, or `after` (keyset paging) with
 * the TicketID of the last ticket of the previous page, to go on right after it however deep.
 */
export type ListFilters = Parameters<Procedures['list']['query']>[0];
/** A new ticket: title, environment, an apiId or appId, and the rest optional. */
export type TicketDraft = Parameters<Procedures['create']['mutate']>[0];
type TrackedChange =
  ReturnType<Procedures['changes']['subscribe']> extends AsyncIterableIterator<infer T> ? T : never;
/** One committed change of a ticket, as `changes()` delivers it. */
export type TicketChange = TrackedChange['data'];

export interface CommentOptions {
  readonly content: string;
  readonly ifMatch?: number | undefined;
  readonly idempotencyKey?: string | undefined;
}

export interface TicketsClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  /** The tenant to log in to; its cookies are the ones the client keeps. */
  readonly tenant: string;
  /** The fetch to use; the global one by default. */
  readonly fetch?: Fetch | undefined;
  readonly logger?: TicketsClientLogger | undefined;
  /** Sent as `User-Agent`. */
  readonly userAgent?: string | undefined;
  /** The clock the session's expiry is compared with; the system's by default. */
  readonly now?: (() => Date) | undefined;
  /**
   * How long a call waits for its whole answer before it fails as `network` (an action is then
   * sent again, with the same Idempotency-Key); 30 s by default. `changes()` is not timed.
   */
  readonly timeoutMs?: number | undefined;
}

export interface TicketsClient {
  /** The session held, or undefined before login, after logout or once the server ended it. */
  readonly session: SessionInfo | undefined;
  login(credentials: { readonly email: string; readonly password: string }): Promise<LoginResponse>;
  /** The session as the server sees it, with the rights it reads now (also refreshes `session`). */
  status(): Promise<LoginResponse>;
  /** Extends the session now (the client also does so by itself, before it would end). */
  renew(): Promise<LoginResponse>;
  /** Ends the session on the server and forgets its cookies. */
  logout(): Promise<void>;
  readonly tickets: {
    list(filters?: ListFilters): Promise<TicketPage>;
    get(id: string): Promise<Ticket>;
    create(draft: TicketDraft): Promise<Ticket>;
    validActions(id: string): Promise<ValidAction[]>;
    /** The whole history, oldest first. */
    history(id: string): Promise<HistoryEntry[]>;
    /** One page of the history, oldest first, with `totalResults` and `startIndex`. */
    history(id: string, paging: HistoryPaging): Promise<HistoryPage>;
    comment(id: string, options: CommentOptions): Promise<Comment>;
    /** Runs a workflow action through the REST action endpoint. */
    act(id: string, options: ActOptions): Promise<ActResult>;
  };
  /** The tenant's ticket changes, live, until `signal` aborts or the loop ends. */
  changes(options?: ChangesOptions): AsyncGenerator<TicketChange, void, undefined>;
}

type LinkFetch = NonNullable<Parameters<typeof httpBatchLink>[0]['fetch']>;

/** Creates a client of one tenant of a tickets server. It holds no password, only the session. */
export function createTicketsClient(options: TicketsClientOptions): TicketsClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const { tenant } = options;
  const now = options.now ?? (() => new Date());
  const log = toLog(options.logger);
  const baseFetch: Fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const jar = new CookieJar(tenant, now);
  const keeper = new SessionKeeper(() => renew(), now, log);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new TypeError(
      `timeoutMs must be a whole number of milliseconds above 0, not ${timeoutMs}`,
    );
  }
  const transport = new Transport(
    baseUrl,
    tenant,
    jar,
    keeper,
    baseFetch,
    log,
    options.userAgent,
    timeoutMs,
  );

  /** tRPC's fetch: the session's headers on the way out, its cookies kept on the way back. */
  const trpcFetch: LinkFetch = async (input, init) => {
    const headers = new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]);
    for (const [name, value] of Object.entries(transport.sessionHeaders()))
      headers.set(name, value);
    let response: Response;
    try {
      // The whole answer is read here, within the timeout; tRPC gets it from memory.
      response = await transport.timed(
        async (signal) => {
          const answer = await baseFetch(input as string, {
            ...(init as RequestInit),
            headers,
            signal,
          });
          const body = await answer.arrayBuffer();
          // A status that has no body (204, 304) is given none.
          const bodiless = [204, 205, 304].includes(answer.status);
          return new Response(bodiless ? null : body, {
            status: answer.status,
            statusText: answer.statusText,
            headers: answer.headers,
          });
        },
        init?.signal as AbortSignal | null | undefined,
      );
    } catch (cause) {
      throw networkError(cause, 'tRPC call');
    }
    jar.store(response.headers);
    // Not tRPC's JSON (a proxy's error page, say): the status says what it was; a success
    // that is not tRPC's answer cannot be understood.
    if (!(response.headers.get('content-type') ?? '').includes('json')) {
      const text = await response.text().catch(() => '');
      if (!response.ok) throw httpError(response, text);
      throw new TicketsClientError({
        kind: 'internal',
        message: `the server answered ${response.status} with ${response.headers.get('content-type') ?? 'no content type'}, not tRPC's JSON`,
        status: response.status,
        requestId: response.headers.get('x-request-id') ?? undefined,
      });
    }
    return response;
  };

  /** The EventSource's fetch: the same cookies, a renewal first when due, a backoff when failing. */
  const sseFetch =
    (connection: StreamConnection | undefined): FetchLike =>
    async (url, init) => {
      // The EventSource waits 3 s between attempts; longer and longer while they keep failing.
      if (connection && connection.failures > 1) {
        await sleep(
          backoff(connection.failures - 2, RECONNECT_BASE_MS, RECONNECT_MAX_MS),
          init.signal as AbortSignal | undefined,
        );
      }
      await keeper.ensureFresh();
      if (connection) connection.cookie = jar.auth;
      const response = await baseFetch(url, {
        ...init,
        headers: { ...init.headers, ...transport.sessionHeaders() },
      });
      if (connection) connection.requestId = response.headers.get('x-request-id') ?? undefined;
      jar.store(response.headers);
      return response;
    };

  const url = `${baseUrl}/trpc`;
  const trpc: Trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: ({ op }) => ({
            fetch: sseFetch((op.context as { stream?: StreamConnection }).stream),
          }),
        }),
        false: httpBatchLink({ url, fetch: trpcFetch }),
      }),
    ],
  });

  /** Runs a tRPC call (after a renewal when one is due); failures as TicketsClientError. */
  async function call<T>(run: () => Promise<T>, fresh = true): Promise<T> {
    if (fresh) await keeper.ensureFresh();
    try {
      return await run();
    } catch (error) {
      return transport.failed(fromTrpcError(error));
    }
  }

  async function renew(): Promise<LoginResponse> {
    const answer = await call(() => trpc.session.renew.mutate({ tenant }), false);
    keeper.update(answer, 'granted');
    return answer;
  }

  function history(id: string): Promise<HistoryEntry[]>;
  function history(id: string, paging: HistoryPaging): Promise<HistoryPage>;
  function history(id: string, paging?: HistoryPaging): Promise<HistoryEntry[] | HistoryPage> {
    // A `start` always goes with paging, so that `{}` asks for a page too, not the whole history.
    const input =
      paging === undefined
        ? { id }
        : {
            id,
            start: paging.start ?? 0,
            ...(paging.count !== undefined && { count: paging.count }),
          };
    return call(() => trpc.tickets.history.query(input));
  }

  return {
    get session() {
      return keeper.session;
    },
    async login({ email, password }) {
      let answer: LoginResponse;
      try {
        answer = await trpc.session.login.mutate({ email, password, tenant });
      } catch (error) {
        // A refused login leaves the session held (if any) as it was.
        throw fromTrpcError(error);
      }
      keeper.reset();
      keeper.update(answer, 'granted');
      return answer;
    },
    async status() {
      const answer = await call(() => trpc.session.status.query({ tenant }), false);
      keeper.update(answer, 'described');
      return answer;
    },
    renew,
    async logout() {
      try {
        await call(() => trpc.session.logout.mutate({ tenant }), false);
      } catch (error) {
        // Already ended or expired: logged out all the same.
        if (fromTrpcError(error).kind !== 'unauthenticated') throw error;
      } finally {
        jar.clear();
        keeper.reset();
      }
    },
    tickets: {
      list: (filters = {}) => call(() => trpc.tickets.list.query(filters)),
      get: (id) => call(() => trpc.tickets.get.query({ id })),
      create: (draft) => call(() => trpc.tickets.create.mutate(draft)),
      validActions: (id) => call(() => trpc.tickets.validActions.query({ id })),
      history,
      comment: (id, { content, ifMatch, idempotencyKey }) =>
        call(() =>
          trpc.tickets.comment.mutate({
            id,
            content,
            ...(ifMatch !== undefined && { ifMatch }),
            ...(idempotencyKey !== undefined && { idempotencyKey }),
          }),
        ),
      act: (id, actOptions) => act(transport, id, actOptions),
    },
    changes: (changesOptions) =>
      followChanges(
        {
          subscribe: (lastEventId, handlers, connection) =>
            trpc.tickets.changes.subscribe(
              lastEventId === undefined ? undefined : { lastEventId },
              { context: { stream: connection }, ...handlers },
            ),
          keeper,
          currentCookie: () => jar.auth,
          log,
        },
        changesOptions,
      ),
  };
}
