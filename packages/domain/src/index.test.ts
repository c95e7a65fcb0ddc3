// The public API as a consumer sees it. The `expectTypeOf` and `@ts-expect-error` lines are
// checked by `tsc` (npm run typecheck); the `it` blocks also run under vitest.
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as domain from './index.js';
import {
  addComment,
  applyAction,
  defaultTicketWorkflow,
  parseTicketId,
  type ActionInput,
  type Actor,
  type DomainError,
  type DomainErrorCode,
  type InvalidInputError,
  type InvalidTransitionError,
  type NotAllowedError,
  type Result,
  type Ticket,
  type TicketId,
  type TicketState,
  type Transition,
  type UnknownActionError,
  type VersionMismatchError,
} from './index.js';

describe('the public API', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(domain).sort()).toEqual([
      'ACTION_INPUT_LIMITS',
      'ATMOSPHERE_ROLES',
      'COMMENT_ACTION',
      'CONDITION_TYPES',
      'DEFAULT_STEPS',
      'ENVIRONMENTS',
      'FUNCTION_TYPES',
      'PRIORITY_LABELS',
      'TENANT_ID_PATTERN',
      'TICKET_ACTIONS',
      'TICKET_ID_PATTERN',
      'TICKET_STATES',
      'addComment',
      'allActions',
      'applyAction',
      'availableActions',
      'canSee',
      'checkActionKnown',
      'checkVersion',
      'defaultTicketWorkflow',
      'describeConditions',
      'err',
      'evaluate',
      'findStep',
      'formatTicketId',
      'guards',
      'hasForbiddenCharacters',
      'invalidInput',
      'isTenantId',
      'isTicketState',
      'loadWorkflowXml',
      'ok',
      'parseId',
      'parseTicketId',
      'reachableStates',
      'resourcesOf',
      'startTicket',
      'tenantOf',
      'tenantOfTicket',
    ]);
  });

  it('DomainError is a closed union keyed by code', () => {
    expectTypeOf<DomainErrorCode>().toEqualTypeOf<
      'INVALID_INPUT' | 'UNKNOWN_ACTION' | 'NOT_ALLOWED' | 'VERSION_MISMATCH' | 'INVALID_TRANSITION'
    >();
    expectTypeOf<
      Extract<DomainError, { code: 'INVALID_INPUT' }>
    >().toEqualTypeOf<InvalidInputError>();
    expectTypeOf<
      Extract<DomainError, { code: 'UNKNOWN_ACTION' }>
    >().toEqualTypeOf<UnknownActionError>();
    expectTypeOf<Extract<DomainError, { code: 'NOT_ALLOWED' }>>().toEqualTypeOf<NotAllowedError>();
    expectTypeOf<
      Extract<DomainError, { code: 'VERSION_MISMATCH' }>
    >().toEqualTypeOf<VersionMismatchError>();
    expectTypeOf<
      Extract<DomainError, { code: 'INVALID_TRANSITION' }>
    >().toEqualTypeOf<InvalidTransitionError>();
    expectTypeOf<DomainError['message']>().toEqualTypeOf<string>();

    // A mapping over the codes must name every one of them...
    const status: Record<DomainErrorCode, number> = {
      INVALID_INPUT: 400,
      UNKNOWN_ACTION: 400,
      NOT_ALLOWED: 403,
      VERSION_MISMATCH: 412,
      INVALID_TRANSITION: 409,
    };
    // @ts-expect-error ...so one that forgets a code does not compile,
    const partial: Record<DomainErrorCode, number> = { INVALID_INPUT: 400 };
    // @ts-expect-error ...and neither does one that invents a code.
    const invented: Record<DomainErrorCode, number> = { ...status, NOT_FOUND: 404 };
    expect([status, partial, invented]).toHaveLength(3);
  });

  it('a switch over the code narrows to each error and is exhaustive', () => {
    function detail(error: DomainError): string {
      switch (error.code) {
        case 'INVALID_INPUT':
          return error.field;
        case 'UNKNOWN_ACTION':
        case 'NOT_ALLOWED':
          return error.action;
        case 'VERSION_MISMATCH':
          return `${error.expected}/${error.actual}`;
        case 'INVALID_TRANSITION':
          expectTypeOf(error.state).toEqualTypeOf<TicketState>();
          return error.validActions.join(',');
        default: {
          const never: never = error;
          return never;
        }
      }
    }
    expect(detail({ code: 'VERSION_MISMATCH', expected: 1, actual: 2, message: '' })).toBe('1/2');
  });

  it('Result narrows on ok', () => {
    const actor: Actor = { userId: 'root.acme', tenant: 'acme', siteAdmin: true, adminOf: [] };
    const ticket = {} as Ticket;
    const input: ActionInput = { actionName: 'ticket.action.resolve', comments: [] };
    const run = () => applyAction(defaultTicketWorkflow, ticket, input, actor, new Date(0));
    expectTypeOf(run).returns.toEqualTypeOf<Result<Transition, DomainError>>();

    const result = {} as ReturnType<typeof run>;
    // @ts-expect-error `value` exists only once `ok` is known to be true
    expectTypeOf(result.value).toBeUnknown();
    if (result.ok) {
      expectTypeOf(result.value).toEqualTypeOf<Transition>();
      // @ts-expect-error no `error` on success
      expectTypeOf(result.error).toBeUnknown();
    } else {
      expectTypeOf(result.error).toEqualTypeOf<DomainError>();
    }

    expectTypeOf(addComment).returns.toEqualTypeOf<
      Result<domain.CommentAdded, NotAllowedError | VersionMismatchError>
    >();
  });

  it('ids are branded and tickets are read-only', () => {
    const parsed = parseTicketId('ticket1.acme');
    if (parsed.ok) expectTypeOf(parsed.value.id).toEqualTypeOf<TicketId>();
    expectTypeOf<string>().not.toMatchTypeOf<TicketId>();
    expectTypeOf<TicketId>().toMatchTypeOf<string>();

    const ticket = { state: 'OPEN' } as Ticket;
    // @ts-expect-error a Ticket is changed only by the engine, which returns a new one
    ticket.state = 'CLOSED';
    expect(ticket.state).toBe('CLOSED');
  });
});
