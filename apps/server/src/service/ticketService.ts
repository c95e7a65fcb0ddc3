import { createHash } from 'node:crypto';
import {
  addComment,
  applyAction,
  checkActionKnown,
  loadWorkflowXml,
  availableActions,
  ENVIRONMENTS,
  formatTicketId,
  hasForbiddenCharacters,
  parseActionInput,
  parseCommentText,
  parseTicketId,
  PRIORITY_LABELS,
  startTicket,
  tenantOf,
  TICKET_STATES,
  type AvailableAction,
  type HistoryEntry,
  type Ticket,
  type TicketState,
  type WorkflowDefinition,
} from '@tickets/domain';
import { z } from 'zod';
import type { AppError } from '../errors/appError.js';
import {
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  type StoredHistoryEntry,
  type Store,
} from '../store/store.js';
import type { Caller, Outcome } from './sessionService.js';

/** A ticket as callers see it: the stored ticket plus its author's name. */
export interface TicketView extends Ticket {
  readonly authorName: string;
}

export interface TicketPage {
  readonly total: number;
  readonly start: number;
  readonly tickets: readonly TicketView[];
}

export interface ActionOutcome {
  /** The ticket's state after the action (or, for a dry run, the state it would have). */
  readonly state: TicketState;
  readonly ticket: TicketView;
  readonly dryRun: boolean;
}

export interface CommentOutcome {
  readonly commentId: string;
  readonly content: string;
  readonly userId: string;
  readonly created: string;
  readonly ticket: TicketView;
}

/** What every state-changing call may carry. */
export interface WriteOptions {
  readonly idempotencyKey?: string | undefined;
  /** The version the caller last saw (`If-Match`). */
  readonly expectedVersion?: number | undefined;
}

/** An outcome, and whether it is the replay of an earlier call with the same idempotency key. */
export type Replayable<T> = Outcome<T> & { readonly replayed: boolean };

export const LIST_LIMITS = { defaultCount: 20, maxCount: 100, maxStart: 1_000_000 } as const;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const fail = (error: AppError): { ok: false; error: AppError } => ({ ok: false, error });
const LOST_RACE: AppError = {
  code: 'CONFLICT',
  message: 'another change to the ticket won; read it again',
};
const KEY_REUSED: Replayable<never> = {
  ok: false,
  error: {
    code: 'IDEMPOTENCY_KEY_REUSED',
    message: 'this Idempotency-Key was used with a different request',
  },
  replayed: false,
};
const notFound = (id: string) => fail({ code: 'NOT_FOUND', message: `no ticket ${id}` });

/** Text a ticket may hold: nothing XML 1.0 cannot carry. */
const noControlCharacters = (field: string) =>
  [
    (text: string) => !hasForbiddenCharacters(text),
    `${field} contains control characters`,
  ] as const;

const listOf = (max: number, field: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) =>
      value === undefined
        ? []
        : (Array.isArray(value) ? value : [value]).map((s) => s.trim()).filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .max(64, `each ${field} is at most 64 characters`)
            .refine(...noControlCharacters(field)),
        )
        .max(max, `at most ${max} ${field} values`),
    );

const optionalId = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const TicketInput = z
  .object({
    Title: z
      .string('Title is required')
      .trim()
      .min(1, 'Title is required')
      .max(200, 'Title is at most 200 characters')
      .refine(...noControlCharacters('Title')),
    Description: z
      .string('Description must be a string')
      .max(20_000, 'Description is at most 20000 characters')
      .refine(...noControlCharacters('Description'))
      .optional()
      .default(''),
    Environment: z.enum(ENVIRONMENTS, `Environment must be ${ENVIRONMENTS.join(' or ')}`),
    APIID: optionalId,
    AppID: optionalId,
    Label: listOf(1, 'Label').pipe(
      z.array(z.enum(PRIORITY_LABELS, `Label must be one of ${PRIORITY_LABELS.join(', ')}`)),
    ),
    Tag: listOf(20, 'Tag'),
  })
  .refine((ticket) => ticket.APIID !== undefined || ticket.AppID !== undefined, {
    message: 'a ticket needs an APIID or an AppID',
    path: ['APIID'],
  });

const ListQuery = z.object({
  APIID: z.string().max(300).optional(),
  AppID: z.string().max(300).optional(),
  AuthorID: z.string().max(300).optional(),
  State: z.enum(TICKET_STATES, `State must be one of ${TICKET_STATES.join(', ')}`).optional(),
  start: z.coerce
    .number('start must be a whole number')
    .int('start must be a whole number')
    .min(0, 'start may not be negative')
    .max(LIST_LIMITS.maxStart, `start is at most ${LIST_LIMITS.maxStart}`)
    .optional()
    .default(0),
  count: z.coerce
    .number('count must be a whole number')
    .int('count must be a whole number')
    .min(1, 'count must be at least 1')
    .optional()
    .default(LIST_LIMITS.defaultCount)
    .transform((count) => Math.min(count, LIST_LIMITS.maxCount)),
});

function invalid(error: z.ZodError): { ok: false; error: AppError } {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  return fail({ code: 'INVALID_INPUT', field, message: issue.message });
}

function requestHash(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

export interface TicketServiceOptions {
  readonly store: Store;
  /** The built-in workflow, for tickets of tenants that loaded none of their own. */
  readonly workflow: WorkflowDefinition;
  readonly now: () => Date;
  /** Told of every committed change (for live updates). */
  readonly onChange?: (event: TicketChangeEvent) => void;
}

export interface TicketChangeEvent {
  readonly kind: 'created' | 'action' | 'comment';
  readonly ticket: TicketView;
  readonly userId: string;
}

/**
 * The application service: every ticket operation, for REST and tRPC alike. It holds no HTTP
 * and no business rules of its own: the rules are the domain's, persistence is the store's.
 */
export class TicketService {
  /** Stored workflow definitions by id; they never change once stored. */
  private readonly definitions = new Map<number, Promise<WorkflowDefinition>>();

  constructor(private readonly options: TicketServiceOptions) {}

  /** The definition a ticket (or a tenant's new tickets) follows: a stored one, or the built-in. */
  private definitionFor(workflowId: number | undefined): Promise<WorkflowDefinition> {
    if (workflowId === undefined) return Promise.resolve(this.options.workflow);
    let definition = this.definitions.get(workflowId);
    if (!definition) {
      definition = this.loadDefinition(workflowId);
      this.definitions.set(workflowId, definition);
      definition.catch(() => this.definitions.delete(workflowId));
    }
    return definition;
  }

  private async loadDefinition(workflowId: number): Promise<WorkflowDefinition> {
    const stored = await this.options.store.getWorkflow(workflowId);
    if (!stored) throw new Error(`workflow ${workflowId} is not stored`);
    const loaded = loadWorkflowXml(stored.xml);
    if (!loaded.ok) {
      throw new Error(
        `stored workflow ${workflowId} does not load: ${loaded.error.map((e) => e.message).join('; ')}`,
      );
    }
    return loaded.value;
  }

  private async view(tickets: readonly Ticket[]): Promise<TicketView[]> {
    const users = await this.options.store.getUsers(tickets.map((ticket) => ticket.authorId));
    const names = new Map(users.map((user) => [user.id, user.name]));
    return tickets.map((ticket) => ({
      ...ticket,
      authorName: names.get(ticket.authorId) ?? ticket.authorId,
    }));
  }

  private async viewOne(ticket: Ticket): Promise<TicketView> {
    return (await this.view([ticket]))[0]!;
  }

  /** A ticket the caller may see (same tenant), or 404. */
  private async visibleTicket(caller: Caller, id: string): Promise<Outcome<Ticket>> {
    const parsed = parseTicketId(id);
    if (!parsed.ok) return fail(parsed.error);
    if (parsed.value.tenant !== caller.actor.tenant) return notFound(id);
    const ticket = await this.options.store.getTicket(id);
    return ticket ? { ok: true, value: ticket } : notFound(id);
  }

  /**
   * Runs a state-changing operation under an idempotency key: a retry with the same key and
   * input gets the stored outcome again; the same key with other input gets 422.
   */
  private async idempotent<T>(
    caller: Caller,
    key: string | undefined,
    request: unknown[],
    run: (
      record: ((outcome: Outcome<T>) => IdempotencyRecord) | undefined,
    ) => Promise<Outcome<T> | 'raced'>,
  ): Promise<Replayable<T>> {
    if (key === undefined) {
      const outcome = await run(undefined);
      if (outcome === 'raced') throw new Error('idempotent: a race without a key');
      return { ...outcome, replayed: false };
    }
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
      return {
        ...fail({
          code: 'INVALID_INPUT',
          field: 'Idempotency-Key',
          message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
        }),
        replayed: false,
      };
    }
    const { store, now } = this.options;
    const hash = requestHash(request);
    const replay = async (): Promise<Replayable<T> | undefined> => {
      const stored = await store.getIdempotency(caller.user.id, key);
      if (!stored || stored.createdAt.getTime() < now().getTime() - IDEMPOTENCY_TTL_MS)
        return undefined;
      if (stored.requestHash !== hash) {
        return KEY_REUSED;
      }
      return { ...(JSON.parse(stored.outcome) as Outcome<T>), replayed: true };
    };
    const earlier = await replay();
    if (earlier) return earlier;

    const record = (outcome: Outcome<T>): IdempotencyRecord => ({
      userId: caller.user.id,
      key,
      requestHash: hash,
      outcome: JSON.stringify(outcome),
      createdAt: now(),
    });
    const result = await run(record);
    let outcome: Outcome<T>;
    if (result === 'raced') {
      // Lost a race: to a request with the same key (its answer is replayed), or to another
      // change of the ticket, a final 409 like any other, kept under the key below.
      const earlier = await replay();
      if (earlier) return earlier;
      outcome = fail(LOST_RACE);
    } else {
      outcome = result;
    }
    if (outcome.ok) return { ...outcome, replayed: false };
    // Final answers are kept; a fault of ours and a throttle are not.
    if (
      outcome.error.code === 'INTERNAL' ||
      outcome.error.code === 'TOO_MANY_REQUESTS' ||
      outcome.error.code === 'UNAVAILABLE' ||
      outcome.error.code === 'UNAUTHENTICATED'
    ) {
      return { ...outcome, replayed: false };
    }
    const stored = await store.saveIdempotency(record(outcome));
    if (stored.requestHash !== hash) {
      return KEY_REUSED;
    }
    return {
      ...(JSON.parse(stored.outcome) as Outcome<T>),
      replayed: stored.outcome !== JSON.stringify(outcome),
    };
  }

  /**
   * Writes a change of `read` (a transition or a comment) conditional on the version that was
   * read, with the outcome kept under the idempotency key in the same transaction, and tells
   * listeners. Losing to another change is a 409, or `raced` for `idempotent` to sort out.
   */
  private async commit<T extends { readonly ticket: TicketView }>(
    caller: Caller,
    kind: TicketChangeEvent['kind'],
    read: Ticket,
    change: { readonly ticket: Ticket; readonly history: HistoryEntry },
    outcome: { ok: true; value: T },
    record: ((outcome: Outcome<T>) => IdempotencyRecord) | undefined,
  ): Promise<Outcome<T> | 'raced'> {
    const committed = await this.options.store.commitChange({
      ticket: change.ticket,
      expectedVersion: read.version,
      history: change.history,
      idempotency: record && (() => record(outcome)),
    });
    if (committed === 'conflict') return record ? 'raced' : fail(LOST_RACE);
    this.options.onChange?.({ kind, ticket: outcome.value.ticket, userId: caller.user.id });
    return outcome;
  }

  /** Opens a ticket on an API or app of the caller's tenant. */
  async createTicket(
    caller: Caller,
    body: unknown,
    options: WriteOptions = {},
  ): Promise<Replayable<TicketView>> {
    return this.idempotent<TicketView>(
      caller,
      options.idempotencyKey,
      ['createTicket', caller.actor.tenant, body],
      async (record) => {
        const parsed = TicketInput.safeParse(body);
        if (!parsed.success) return invalid(parsed.error);
        const input = parsed.data;
        const { store, now } = this.options;
        const tenant = await store.getTenant(caller.actor.tenant);
        const workflowId = tenant?.workflowId;
        const workflow = await this.definitionFor(workflowId);
        for (const [field, id, type] of [
          ['APIID', input.APIID, 'api'],
          ['AppID', input.AppID, 'app'],
        ] as const) {
          if (id === undefined) continue;
          if (tenantOf(id) !== caller.actor.tenant) {
            return fail({
              code: 'NOT_ALLOWED',
              action: 'createTicket',
              message: `${field} ${id} is not a resource of your tenant`,
            });
          }
          const resource = await store.getResource(id);
          if (!resource || resource.type !== type) {
            return fail({
              code: 'NOT_FOUND',
              message: `no ${type === 'api' ? 'API' : 'app'} ${id}`,
            });
          }
        }
        for (;;) {
          const number = await store.allocateTicketNumber(caller.actor.tenant);
          const ticket = startTicket(
            workflow,
            {
              id: formatTicketId(`ticket${number}`, caller.actor.tenant),
              tenant: caller.actor.tenant,
              title: input.Title,
              description: input.Description,
              environment: input.Environment,
              apiId: input.APIID,
              appId: input.AppID,
              labels:
                input.Label.length > 0 ? input.Label : ['com.soa.ticket.label.priority.medium'],
              tags: input.Tag,
              authorId: caller.user.id,
              workflowId,
            },
            now(),
          );
          const view: TicketView = { ...ticket, authorName: caller.user.name };
          const outcome: Outcome<TicketView> = { ok: true, value: view };
          const inserted = await store.insertTicket(ticket, [], record?.(outcome));
          if (inserted === 'conflict') return 'raced';
          if (inserted === 'inserted') {
            this.options.onChange?.({ kind: 'created', ticket: view, userId: caller.user.id });
            return outcome;
          }
        }
      },
    );
  }

  /** The caller's tenant's tickets, newest first, ties by TicketID. */
  async listTickets(caller: Caller, query: Record<string, unknown>): Promise<Outcome<TicketPage>> {
    const parsed = ListQuery.safeParse(query);
    if (!parsed.success) return invalid(parsed.error);
    const q = parsed.data;
    const page = await this.options.store.listTickets({
      tenant: caller.actor.tenant,
      apiId: q.APIID,
      appId: q.AppID,
      authorId: q.AuthorID,
      state: q.State,
      start: q.start,
      count: q.count,
    });
    return {
      ok: true,
      value: { total: page.total, start: q.start, tickets: await this.view(page.tickets) },
    };
  }

  async getTicket(caller: Caller, id: string): Promise<Outcome<TicketView>> {
    const ticket = await this.visibleTicket(caller, id);
    if (!ticket.ok) return ticket;
    return { ok: true, value: await this.viewOne(ticket.value) };
  }

  /** The actions of the ticket's current state, each allowed or not for this caller, and why. */
  async validActions(caller: Caller, id: string): Promise<Outcome<AvailableAction[]>> {
    const ticket = await this.visibleTicket(caller, id);
    if (!ticket.ok) return ticket;
    const workflow = await this.definitionFor(ticket.value.workflowId);
    return { ok: true, value: availableActions(workflow, ticket.value, caller.actor) };
  }

  async history(caller: Caller, id: string): Promise<Outcome<StoredHistoryEntry[]>> {
    const ticket = await this.visibleTicket(caller, id);
    if (!ticket.ok) return ticket;
    return { ok: true, value: await this.options.store.listHistory(id) };
  }

  /**
   * Runs a workflow action. The transition, its history row and the idempotency record are
   * written in one transaction, conditional on the version that was read: of concurrent actions
   * exactly one wins, the others get 409.
   */
  async executeAction(
    caller: Caller,
    id: string,
    body: unknown,
    options: WriteOptions & { readonly dryRun?: boolean } = {},
  ): Promise<Replayable<ActionOutcome>> {
    const key = options.dryRun ? undefined : options.idempotencyKey;
    return this.idempotent<ActionOutcome>(
      caller,
      key,
      ['executeAction', id, body, options.expectedVersion ?? null],
      async (record) => {
        const input = parseActionInput(body);
        if (!input.ok) return fail(input.error);
        const { store, now } = this.options;
        // An action unknown to the workflow is a 400 of the body, before the ticket's 404 (§7):
        // a ticket's own workflow decides; for a ticket that does not exist, the tenant's.
        const found = await this.visibleTicket(caller, id);
        if (!found.ok) {
          const tenant = await store.getTenant(caller.actor.tenant);
          const workflow = await this.definitionFor(tenant?.workflowId);
          return fail(checkActionKnown(workflow, input.value.actionName) ?? found.error);
        }
        const workflow = await this.definitionFor(found.value.workflowId);
        const transition = applyAction(workflow, found.value, input.value, caller.actor, now(), {
          expectedVersion: options.expectedVersion,
        });
        if (!transition.ok) return fail(transition.error);
        const { ticket } = transition.value;
        const outcome: Outcome<ActionOutcome> = {
          ok: true,
          value: {
            state: ticket.state,
            ticket: await this.viewOne(options.dryRun ? found.value : ticket),
            dryRun: options.dryRun === true,
          },
        };
        if (options.dryRun) return outcome;
        return this.commit(caller, 'action', found.value, transition.value, outcome, record);
      },
    );
  }

  /** A comment without a transition; it changes the ticket's version and comment count. */
  async addComment(
    caller: Caller,
    id: string,
    body: unknown,
    options: WriteOptions = {},
  ): Promise<Replayable<CommentOutcome>> {
    return this.idempotent<CommentOutcome>(
      caller,
      options.idempotencyKey,
      ['addComment', id, body, options.expectedVersion ?? null],
      async (record) => {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          return fail({
            code: 'INVALID_INPUT',
            field: 'Comment',
            message: 'the body must be a Comment object',
          });
        }
        // The content is part of the body: checked (400) before the ticket is looked up (404).
        const content = parseCommentText(
          (body as Record<string, unknown>)['Content'] ?? '',
          'Content',
        );
        if (!content.ok) return fail(content.error);
        if (content.value === '') {
          return fail({ code: 'INVALID_INPUT', field: 'Content', message: 'Content is required' });
        }
        const { now } = this.options;
        const found = await this.visibleTicket(caller, id);
        if (!found.ok) return found;
        const added = addComment(found.value, content.value, caller.actor, now());
        if (!added.ok) return fail(added.error);
        if (
          options.expectedVersion !== undefined &&
          options.expectedVersion !== found.value.version
        ) {
          return fail({
            code: 'VERSION_MISMATCH',
            expected: options.expectedVersion,
            actual: found.value.version,
            message: `the ticket is at version ${found.value.version}, not ${options.expectedVersion}`,
          });
        }
        const { ticket, history } = added.value;
        // Named after the ticket and the version the comment made: unique, and it tells
        // nothing about other tickets or tenants.
        const local = ticket.id.slice(0, ticket.id.lastIndexOf('.'));
        const outcome: Outcome<CommentOutcome> = {
          ok: true,
          value: {
            commentId: `${local}-comment${ticket.version}.${ticket.tenant}`,
            content: added.value.content,
            userId: caller.user.id,
            created: history.created,
            ticket: await this.viewOne(ticket),
          },
        };
        return this.commit(caller, 'comment', found.value, added.value, outcome, record);
      },
    );
  }
}
