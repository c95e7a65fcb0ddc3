import {
  TicketsClientError,
  type ActResult,
  type HistoryEntry,
  type Ticket,
  type TicketChange,
  type TicketsClient,
  type ValidAction,
} from '@tickets/client';
import { ActionRunner } from './actionRunner.js';
import { queriesFor, visibleStates, type TicketFilters } from './filters.js';
import type { State } from './format.js';
import {
  LiveUpdates,
  pollIntervalMs,
  type LiveSettings,
  type Logger,
  type Timers,
} from './liveUpdates.js';
import { countOpen, knownResources, type KnownResources } from './resources.js';
import type { SessionManager, SessionState } from './session.js';
import { TicketTreeModel } from './ticketTree.js';

/** What the controller tells the editor. */
export interface ControllerView {
  /** The tree's data changed. */
  treeChanged(): void;
  /** For the welcome views and menus. */
  contextChanged(context: { readonly signedIn: boolean; readonly unreachable: boolean }): void;
  /** The number of open tickets on the user's resources; undefined hides it. */
  openCountChanged(count: number | undefined): void;
  /** The session ended and could not be taken up again: say so, once, and offer to sign in. */
  sessionEnded(): void;
  /** A failure worth a message (not the session's, not an unreachable server's). */
  showError(message: string): void;
  /** A ticket changed (the detail view refreshes). */
  ticketChanged(ticketId: string): void;
  /** The view is loading until `work` settles (a progress bar on the view). */
  busy?(work: Promise<void>): void;
}

export interface ControllerDeps {
  readonly session: SessionManager;
  readonly view: ControllerView;
  readonly log: Logger;
  readonly filters: () => TicketFilters;
  readonly liveSettings: () => LiveSettings;
  readonly timers: Timers & {
    setTimeout(run: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
  readonly pageSize?: number;
  readonly now?: () => Date;
}

/** How long a burst of live changes is gathered into one reload. */
const CHANGE_DEBOUNCE_MS = 300;
/** How long a hover's answer is reused. */
const HOVER_TTL_MS = 30_000;

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * The extension's behaviour, free of VS Code: signed in or not, reachable or not, the tree's
 * data, the open count, live updates with polling as the fallback, and actions. A 401 goes to the
 * session once; no answer marks the server unreachable (the view offers a retry).
 */
export class TicketsController {
  readonly tree: TicketTreeModel;
  readonly live: LiveUpdates;
  private readonly runner: ActionRunner;
  private unreachable = false;
  private resources: KnownResources | undefined;
  private reloadTimer: unknown;
  private reloading = false;
  private reloadAgain = false;
  /** The next start-up sign-in attempt while the server cannot be reached. */
  private startRetry: unknown;
  /** The last failure shown, so background work does not show it again and again. */
  private shownError: string | undefined;
  private readonly hovers = new Map<string, { at: number; value: Promise<HoverData> }>();
  private readonly now: () => Date;

  constructor(private readonly deps: ControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.tree = new TicketTreeModel(
      {
        list: (filters) => this.client().tickets.list(filters),
        validActions: (id) => this.client().tickets.validActions(id),
      },
      deps.pageSize ?? 50,
      (error, ticketId) =>
        deps.log.warn(`could not read the actions of ${ticketId}: ${errorText(error)}`),
    );
    this.runner = new ActionRunner((id, options) => this.client().tickets.act(id, options));
    this.live = new LiveUpdates({
      changes: (options) => this.client().changes(options),
      onChange: (change) => this.changed(change),
      poll: () => this.refresh({ rediscover: false, background: true }),
      onFailed: (error) => void this.failed(error),
      log: deps.log,
      timers: deps.timers,
    });
    deps.session.onDidChange((state) => this.sessionChanged(state));
  }

  get signedIn(): boolean {
    return this.deps.session.state.kind === 'signedIn';
  }

  /** The client of the session; throws `unauthenticated` when signed out. */
  client(): TicketsClient {
    const state = this.deps.session.state;
    if (state.kind !== 'signedIn') {
      throw new TicketsClientError({ kind: 'unauthenticated', message: 'not signed in' });
    }
    return state.client;
  }

  /** The APIs and apps the filter offers, and the user's (for the filters). */
  knownResources(): KnownResources {
    return this.resources ?? { all: [], mine: [], siteAdmin: false };
  }

  private publishContext(): void {
    this.deps.view.contextChanged({ signedIn: this.signedIn, unreachable: this.unreachable });
  }

  private setUnreachable(unreachable: boolean): void {
    if (unreachable === this.unreachable) return;
    this.unreachable = unreachable;
    if (unreachable) this.deps.log.warn('the server cannot be reached');
    else this.deps.log.info('the server answers again');
    this.publishContext();
    this.deps.view.treeChanged();
  }

  /** Whether the view should show the server as unreachable (no tickets, a retry). */
  get isUnreachable(): boolean {
    return this.unreachable;
  }

  private sessionChanged(state: SessionState): void {
    this.cancelStartRetry();
    this.runner.clear();
    this.resources = undefined;
    this.hovers.clear();
    this.tree.clear();
    this.live.stop();
    if (state.kind === 'signedIn') {
      this.deps.log.info(
        `signed in to ${state.session.tenant} as ${state.email} (${state.session.userId})`,
      );
      this.live.start(this.deps.liveSettings());
      // The resources were forgotten above: the new session's answer says which are the user's.
      void this.refresh({ rediscover: false, background: true });
    } else {
      this.deps.log.info('signed out');
      this.deps.view.openCountChanged(undefined);
    }
    this.publishContext();
    this.deps.view.treeChanged();
  }

  /** At start-up: signs in with the kept password, if any. */
  async start(): Promise<void> {
    this.cancelStartRetry();
    try {
      await this.deps.session.restore();
      this.setUnreachable(false);
    } catch (error) {
      await this.failed(error);
      // The server is not up yet (VS Code started first): try again now and then, by itself.
      if (this.unreachable && !this.signedIn) {
        const ms = pollIntervalMs(this.deps.liveSettings().pollIntervalSeconds);
        this.deps.log.info(`signing in again in ${ms / 1000} s (or on Retry)`);
        this.startRetry = this.deps.timers.setTimeout(() => {
          this.startRetry = undefined;
          void this.start();
        }, ms);
      }
    }
    this.publishContext();
  }

  private cancelStartRetry(): void {
    if (this.startRetry === undefined) return;
    this.deps.timers.clearTimeout(this.startRetry);
    this.startRetry = undefined;
  }

  /**
   * Handles a failed call: a 401 goes to the session (one silent sign-in, else signed out, said
   * once); no answer marks the server unreachable; anything else is shown, but a failure of
   * work in the `background` (polls, live reloads) only when it differs from the last one shown,
   * so a failing server is not a wall of errors. Answers whether the call is worth repeating now
   * (the session was taken up again).
   */
  async failed(error: unknown, { background = false } = {}): Promise<boolean> {
    const kind = error instanceof TicketsClientError ? error.kind : 'internal';
    if (kind === 'unauthenticated') {
      const state = this.deps.session.state;
      const outcome = await this.deps.session.failed(
        error,
        state.kind === 'signedIn' ? state.client : undefined,
      );
      if (outcome === 'signedOut') {
        this.deps.log.warn(`the session ended: ${errorText(error)}`);
        this.deps.view.sessionEnded();
      }
      return outcome === 'renewed';
    }
    if (kind === 'network' || kind === 'unavailable') {
      this.deps.log.warn(`no answer from the server: ${errorText(error)}`);
      this.setUnreachable(true);
      return false;
    }
    const text = errorText(error);
    this.deps.log.error(text);
    if (!background || text !== this.shownError) this.deps.view.showError(text);
    this.shownError = text;
    return false;
  }

  /**
   * Reloads the tree and the open count (`rediscover` also asks the server again which resources
   * the user administers; otherwise the session's answer at sign-in holds). Signed out with a
   * kept password (the server was down at start-up), it signs in first.
   */
  async refresh({
    rediscover,
    background = false,
  }: {
    readonly rediscover: boolean;
    /** Not asked for by the user: a poll, a live change, the reload after an action. */
    readonly background?: boolean;
  }): Promise<void> {
    if (!this.signedIn) {
      if (this.unreachable) await this.start();
      return;
    }
    const client = this.client();
    const work = (async () => {
      try {
        let resources = this.resources;
        if (rediscover || !resources) {
          // The session says which resources the user administers; a refresh asks again.
          const session = rediscover ? await client.status() : client.session;
          resources = await knownResources(client.tickets, {
            siteAdmin: session?.siteAdmin ?? false,
            adminOf: session?.adminOf ?? [],
          });
          this.resources = resources;
          const { all, mine, siteAdmin } = resources;
          this.deps.log.trace(
            `resources: ${all.length} offered, administered: ${siteAdmin ? 'all (site admin)' : mine.map((ref) => ref.id).join(', ') || 'none'}`,
          );
        }
        await this.reloadTree();
        this.setUnreachable(false);
        this.shownError = undefined;
        this.deps.view.treeChanged();
        // `resources`, not `this.resources`: a sign-out meanwhile forgets those.
        this.deps.view.openCountChanged(await countOpen(client.tickets, resources));
      } catch (error) {
        // A session taken up again reloads by itself (sessionChanged).
        await this.failed(error, { background });
        this.deps.view.treeChanged();
      }
    })();
    this.deps.view.busy?.(work);
    await work;
  }

  private async reloadTree(): Promise<void> {
    const filters = this.deps.filters();
    const who = {
      userId: this.client().session?.userId ?? '',
      myResources: this.knownResources().mine,
      siteAdmin: this.knownResources().siteAdmin,
    };
    const queries = new Map(
      visibleStates(filters).map((state) => [state, queriesFor(filters, state, who)] as const),
    );
    await this.tree.load(queries);
  }

  /** The next page of one state's group. */
  async loadMore(state: State): Promise<void> {
    try {
      await this.tree.loadMore(state);
    } catch (error) {
      await this.failed(error);
    } finally {
      this.deps.view.treeChanged();
    }
  }

  private changed(change: TicketChange): void {
    this.deps.log.trace(
      `change ${change.eventId}: ${change.ticketId} ${change.kind} → ${change.to} by ${change.userId}`,
    );
    this.hovers.delete(change.ticketId);
    this.deps.view.ticketChanged(change.ticketId);
    this.scheduleReload();
  }

  /**
   * One reload for a burst of changes: after a short wait, and never two at once; a change that
   * comes during a reload gets one more after it (the running one may have read too early).
   */
  private scheduleReload(): void {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    if (this.reloadTimer !== undefined) return;
    this.reloadTimer = this.deps.timers.setTimeout(() => {
      this.reloadTimer = undefined;
      void this.reloadForChanges();
    }, CHANGE_DEBOUNCE_MS);
  }

  private async reloadForChanges(): Promise<void> {
    this.reloading = true;
    try {
      await this.refresh({ rediscover: false, background: true });
    } finally {
      this.reloading = false;
    }
    if (this.reloadAgain) {
      this.reloadAgain = false;
      this.scheduleReload();
    }
  }

  /**
   * Runs a workflow action (never applied twice, see ActionRunner), shows the ticket's new state
   * in the tree at once, and reloads. Failures reject as they came (the caller shows them).
   */
  async runAction(ticketId: string, action: string, comment: string): Promise<ActResult> {
    const from = this.tree.findRow(ticketId)?.ticket.state;
    const result = await this.runner.run(ticketId, action, comment);
    this.deps.log.info(
      `${action} on ${ticketId}: now ${result.state} (version ${result.version}${result.replayed ? ', replayed: it had been applied already' : ''})`,
    );
    this.hovers.delete(ticketId);
    try {
      await this.tree.moveTicket(await this.client().tickets.get(ticketId), from);
      this.deps.view.treeChanged();
    } catch (error) {
      this.deps.log.warn(`could not read ${ticketId} after the action: ${errorText(error)}`);
    }
    this.deps.view.ticketChanged(ticketId);
    void this.refresh({ rediscover: false, background: true });
    return result;
  }

  /** A ticket's actions, as the server lists them for its state and this user. */
  validActions(ticketId: string): Promise<ValidAction[]> {
    return this.client().tickets.validActions(ticketId);
  }

  /** Everything the detail view shows. */
  async detail(ticketId: string): Promise<TicketDetail> {
    const { tickets } = this.client();
    const [ticket, history, actions] = await Promise.all([
      tickets.get(ticketId),
      tickets.history(ticketId),
      tickets.validActions(ticketId),
    ]);
    return { ticket, history, actions };
  }

  /** A ticket and its actions for a hover, reused for a while and until the ticket changes. */
  hover(ticketId: string): Promise<HoverData> {
    const at = this.now().getTime();
    const cached = this.hovers.get(ticketId);
    if (cached && at - cached.at < HOVER_TTL_MS) return cached.value;
    const { tickets } = this.client();
    const value = Promise.all([tickets.get(ticketId), tickets.validActions(ticketId)]).then(
      ([ticket, actions]) => ({ ticket, actions }),
    );
    // Answers that have run out go, so a long session does not keep every id ever hovered.
    for (const [id, entry] of this.hovers)
      if (at - entry.at >= HOVER_TTL_MS) this.hovers.delete(id);
    this.hovers.set(ticketId, { at, value });
    value.catch(() => this.hovers.delete(ticketId));
    return value;
  }

  /** Settings changed: live updates follow the new ones. */
  settingsChanged(): void {
    if (this.signedIn) this.live.start(this.deps.liveSettings());
  }

  dispose(): void {
    this.cancelStartRetry();
    this.live.stop();
    if (this.reloadTimer !== undefined) this.deps.timers.clearTimeout(this.reloadTimer);
  }
}

export interface TicketDetail {
  readonly ticket: Ticket;
  readonly history: readonly HistoryEntry[];
  readonly actions: readonly ValidAction[];
}

export interface HoverData {
  readonly ticket: Ticket;
  readonly actions: readonly ValidAction[];
}
