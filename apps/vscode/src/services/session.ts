import {
  TicketsClientError,
  type SessionInfo,
  type TicketsClient,
  type TicketsClientOptions,
} from '@tickets/client';

/** Where the extension is with the server. */
export type SessionState =
  | { readonly kind: 'signedOut' }
  | {
      readonly kind: 'signedIn';
      readonly client: TicketsClient;
      readonly session: SessionInfo;
      readonly email: string;
      /** Where its password is kept (server, tenant and e-mail as they were at sign-in). */
      readonly secretKey: string;
    };

/** The password's keeper: VS Code's SecretStorage in the extension, a map in tests. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

export interface SessionSettings {
  readonly serverUrl: string;
  readonly tenant: string;
  /** The e-mail last signed in with, if any. */
  readonly email: string;
}

export interface SessionDeps {
  readonly createClient: (
    options: Pick<TicketsClientOptions, 'baseUrl' | 'tenant'>,
  ) => TicketsClient;
  readonly secrets: SecretStore;
  readonly settings: () => SessionSettings;
  readonly rememberEmail: (email: string) => Promise<void>;
  readonly secretKey: (serverUrl: string, tenant: string, email: string) => string;
  /** The clock the silent sign-ins are spaced with (milliseconds); the system's by default. */
  readonly now?: () => number;
}

/**
 * How long after a silent sign-in no other is tried: a 401 within this time is either a late one
 * of the replaced session, or the server refuses the new session too (signing in again would
 * only loop, making a session each time).
 */
export const SILENT_SIGN_IN_WINDOW_MS = 60_000;

/** What became of a failure reported to the session. */
export type FailureOutcome =
  /** The session had ended; signing in again with the kept password worked: try again. */
  | 'renewed'
  /** The session has ended and the user must sign in (reported once). */
  | 'signedOut'
  /** Reported already, or not about the session. */
  | 'ignored';

const asClientError = (error: unknown): TicketsClientError | undefined =>
  error instanceof TicketsClientError ? error : undefined;

/**
 * The sign-in state machine. Signing in keeps the password in the secret store, so that a
 * session the server ended (its maximum age, a restart) is taken up again silently, once; when
 * that fails too, the state goes to signed-out a single time, however many calls failed with it.
 * A silent sign-in is not repeated within `SILENT_SIGN_IN_WINDOW_MS` of the last one: a server
 * that refuses every session at once leads to one sign-out, not to a loop of logins. The client
 * itself renews the session while it lasts.
 */
export class SessionManager {
  private current: SessionState = { kind: 'signedOut' };
  private recovering: Promise<FailureOutcome> | undefined;
  /** When the last silent sign-in succeeded (`now()`), if there was one since the user's own. */
  private silentSignInAt: number | undefined;
  private readonly now: () => number;
  private readonly listeners = new Set<(state: SessionState) => void>();

  constructor(private readonly deps: SessionDeps) {
    this.now = deps.now ?? (() => Date.now());
  }

  get state(): SessionState {
    return this.current;
  }

  onDidChange(listener: (state: SessionState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private set(state: SessionState): void {
    this.current = state;
    for (const listener of [...this.listeners]) listener(state);
  }

  private async login(
    email: string,
    password: string,
  ): Promise<SessionState & { kind: 'signedIn' }> {
    const { serverUrl, tenant } = this.deps.settings();
    const client = this.deps.createClient({ baseUrl: serverUrl, tenant });
    await client.login({ email, password });
    const session = client.session;
    if (!session) {
      throw new TicketsClientError({ kind: 'internal', message: 'the server granted no session' });
    }
    const secretKey = this.deps.secretKey(serverUrl, tenant, email);
    return { kind: 'signedIn', client, session, email, secretKey };
  }

  /**
   * Signs in with what the user typed. On success the password goes to the secret store and the
   * e-mail to the settings; a failure (a TicketsClientError) leaves everything as it was.
   */
  async signIn(email: string, password: string): Promise<SessionState & { kind: 'signedIn' }> {
    const state = await this.login(email, password);
    await this.deps.secrets.store(state.secretKey, password);
    await this.deps.rememberEmail(email);
    this.silentSignInAt = undefined;
    await this.replace(state);
    return state;
  }

  /** Moves to `state`; the session it replaces (if any) ends on the server, as far as it can. */
  private async replace(state: SessionState): Promise<void> {
    const previous = this.current;
    this.set(state);
    if (
      previous.kind === 'signedIn' &&
      (state.kind !== 'signedIn' || previous.client !== state.client)
    )
      await previous.client.logout().catch(() => undefined);
  }

  /**
   * Signs in with the e-mail of the settings and the kept password, if there is one (at start-up).
   * Answers false when there is nothing to sign in with, or the server refused it (the kept
   * password is then forgotten); a server that cannot be reached rejects (a `network` error).
   * The session it replaces, if any, is logged out (best effort).
   */
  async restore(): Promise<boolean> {
    const { serverUrl, tenant, email } = this.deps.settings();
    if (!email) return false;
    const key = this.deps.secretKey(serverUrl, tenant, email);
    const password = await this.deps.secrets.get(key);
    if (password === undefined) return false;
    try {
      await this.replace(await this.login(email, password));
      return true;
    } catch (error) {
      if (asClientError(error)?.kind === 'unauthenticated') {
        await this.deps.secrets.delete(key);
        return false;
      }
      throw error;
    }
  }

  /**
   * Reports a failed call. A 401 while signed in means the session is gone: one silent sign-in
   * with the kept password (`renewed`), else signed out (`signedOut`); concurrent reports share
   * that one attempt, and reports after it are `ignored`. Within `SILENT_SIGN_IN_WINDOW_MS` of the
   * last silent sign-in there is no other: the session is asked for its status, and when that
   * fails too, it is signed out.
   */
  async failed(error: unknown, from: TicketsClient | undefined): Promise<FailureOutcome> {
    if (asClientError(error)?.kind !== 'unauthenticated') return 'ignored';
    if (this.recovering) {
      const outcome = await this.recovering;
      const now = this.current;
      // A failure of the session that attempt made is judged on its own (it may fail too).
      if (outcome === 'renewed' && now.kind === 'signedIn' && from === now.client)
        return this.failed(error, from);
      return outcome === 'renewed' ? 'renewed' : 'ignored';
    }
    const state = this.current;
    // A failure of a client signed out already, or replaced since, says nothing about this one.
    if (state.kind !== 'signedIn' || (from !== undefined && from !== state.client))
      return 'ignored';
    const last = this.silentSignInAt;
    const tooSoon = last !== undefined && this.now() - last < SILENT_SIGN_IN_WINDOW_MS;
    this.recovering = (async (): Promise<FailureOutcome> => {
      if (tooSoon) {
        // Soon after a silent sign-in: a late failure of the session it replaced, or the new
        // session fails too (then signing in again would only loop). One call tells which.
        if (
          await state.client.status().then(
            () => true,
            () => false,
          )
        )
          return 'renewed';
      } else {
        try {
          if (await this.restore()) {
            this.silentSignInAt = this.now();
            return 'renewed';
          }
        } catch {
          // Unreachable right now: signed out all the same; the user signs in when it is back.
        }
      }
      this.silentSignInAt = undefined;
      // The session refused, if it still lives on the server, ends there too (best effort).
      await this.replace({ kind: 'signedOut' });
      return 'signedOut';
    })().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  /**
   * Ends the session on the server (if it can be reached) and forgets its password: the one it
   * signed in with, even when the server or tenant settings have changed since.
   */
  async signOut(): Promise<void> {
    const state = this.current;
    const { serverUrl, tenant, email } = this.deps.settings();
    this.set({ kind: 'signedOut' });
    await this.deps.secrets.delete(
      state.kind === 'signedIn' ? state.secretKey : this.deps.secretKey(serverUrl, tenant, email),
    );
    if (state.kind === 'signedIn') await state.client.logout();
  }
}
