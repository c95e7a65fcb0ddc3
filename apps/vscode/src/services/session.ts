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
}

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
 * The client itself renews the session while it lasts.
 */
export class SessionManager {
  private current: SessionState = { kind: 'signedOut' };
  private recovering: Promise<FailureOutcome> | undefined;
  private readonly listeners = new Set<(state: SessionState) => void>();

  constructor(private readonly deps: SessionDeps) {}

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
    const previous = this.current;
    this.set(state);
    // Signed in again (as someone else, say): the previous session ends on the server.
    if (previous.kind === 'signedIn') await previous.client.logout().catch(() => undefined);
    return state;
  }

  /**
   * Signs in with the e-mail of the settings and the kept password, if there is one (at start-up).
   * Answers false when there is nothing to sign in with, or the server refused it (the kept
   * password is then forgotten); a server that cannot be reached rejects (a `network` error).
   */
  async restore(): Promise<boolean> {
    const { serverUrl, tenant, email } = this.deps.settings();
    if (!email) return false;
    const key = this.deps.secretKey(serverUrl, tenant, email);
    const password = await this.deps.secrets.get(key);
    if (password === undefined) return false;
    try {
      this.set(await this.login(email, password));
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
   * that one attempt, and reports after it are `ignored`.
   */
  async failed(error: unknown, from: TicketsClient | undefined): Promise<FailureOutcome> {
    if (asClientError(error)?.kind !== 'unauthenticated') return 'ignored';
    if (this.recovering)
      return this.recovering.then((outcome) => (outcome === 'renewed' ? 'renewed' : 'ignored'));
    const state = this.current;
    // A failure of a client signed out already, or replaced since, says nothing about this one.
    if (state.kind !== 'signedIn' || (from !== undefined && from !== state.client))
      return 'ignored';
    this.recovering = (async (): Promise<FailureOutcome> => {
      try {
        if (await this.restore()) return 'renewed';
      } catch {
        // Unreachable right now: signed out all the same; the user signs in when it is back.
      }
      this.set({ kind: 'signedOut' });
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
