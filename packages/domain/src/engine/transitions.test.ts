import { describe, expect, it } from 'vitest';
import type { ActionInput } from '../actionInput.js';
import type { DomainError, InvalidTransitionError } from '../errors.js';
import type { Ticket, TicketState } from '../ticket.js';
import { formatTicketId } from '../ticketId.js';
import { TICKET_ACTIONS, defaultTicketWorkflow } from '../workflow/defaultWorkflow.js';
import type { ConditionGroup, WorkflowAction, WorkflowDefinition } from '../workflow/definition.js';
import {
  ACTOR_KINDS,
  AUTHOR_ID,
  NOW,
  STEP_OF,
  actors,
  ticketIn,
  type ActorKind,
} from '../test/fixtures.js';
import {
  applyAction,
  availableActions,
  reachableStates,
  startTicket,
  type Transition,
} from './transitions.js';

const { resolve, close, reopen } = TICKET_ACTIONS;
const UNKNOWN = 'ticket.action.delete';

const input = (actionName: string, comments: readonly string[] = []): ActionInput => ({
  actionName,
  comments,
});

// ---------------------------------------------------------------------------------------------
// The expected outcome of every state x action x kind of actor (CONTRACT §2 and the check order
// input -> unknown action -> rights -> expected version -> state). A cell is either the new
// state or the code of the error.
// ---------------------------------------------------------------------------------------------

type Outcome = TicketState | 'INVALID_TRANSITION' | 'NOT_ALLOWED' | 'UNKNOWN_ACTION';
const BAD_STATE = 'INVALID_TRANSITION';
const DENIED = 'NOT_ALLOWED';
const NO_SUCH = 'UNKNOWN_ACTION';

/** Columns, in this order: */
type Row = readonly [
  apiAdmin: Outcome,
  appAdmin: Outcome,
  siteAdmin: Outcome,
  author: Outcome,
  otherUser: Outcome,
  foreignUser: Outcome,
];
type ActionColumn = 'resolve' | 'close' | 'reopen' | 'unknown';

// prettier-ignore
const EXPECTED: Record<TicketState, Record<ActionColumn, Row>> = {
  //                apiAdmin     appAdmin     siteAdmin    author       otherUser  foreignUser
  OPEN: {
    resolve:      ['RESOLVED',   'RESOLVED',  'RESOLVED',  DENIED,      DENIED,    DENIED],
    close:        ['CLOSED',     'CLOSED',    'CLOSED',    'CLOSED',    DENIED,    DENIED],
    reopen:       [BAD_STATE,    BAD_STATE,   BAD_STATE,   BAD_STATE,   DENIED,    DENIED],
    unknown:      [NO_SUCH,      NO_SUCH,     NO_SUCH,     NO_SUCH,     NO_SUCH,   NO_SUCH],
  },
  RESOLVED: {
    resolve:      [BAD_STATE,    BAD_STATE,   BAD_STATE,   DENIED,      DENIED,    DENIED],
    close:        ['CLOSED',     'CLOSED',    'CLOSED',    'CLOSED',    DENIED,    DENIED],
    reopen:       ['REOPEN',     'REOPEN',    'REOPEN',    'REOPEN',    DENIED,    DENIED],
    unknown:      [NO_SUCH,      NO_SUCH,     NO_SUCH,     NO_SUCH,     NO_SUCH,   NO_SUCH],
  },
  CLOSED: {
    resolve:      [BAD_STATE,    BAD_STATE,   BAD_STATE,   DENIED,      DENIED,    DENIED],
    close:        [BAD_STATE,    BAD_STATE,   BAD_STATE,   BAD_STATE,   DENIED,    DENIED],
    reopen:       ['REOPEN',     'REOPEN',    'REOPEN',    'REOPEN',    DENIED,    DENIED],
    unknown:      [NO_SUCH,      NO_SUCH,     NO_SUCH,     NO_SUCH,     NO_SUCH,   NO_SUCH],
  },
  REOPEN: {
    resolve:      ['RESOLVED',   'RESOLVED',  'RESOLVED',  DENIED,      DENIED,    DENIED],
    close:        ['CLOSED',     'CLOSED',    'CLOSED',    'CLOSED',    DENIED,    DENIED],
    reopen:       [BAD_STATE,    BAD_STATE,   BAD_STATE,   BAD_STATE,   DENIED,    DENIED],
    unknown:      [NO_SUCH,      NO_SUCH,     NO_SUCH,     NO_SUCH,     NO_SUCH,   NO_SUCH],
  },
};

const ACTION_NAMES: Record<ActionColumn, string> = { resolve, close, reopen, unknown: UNKNOWN };

/** The actions the contract lists for each state, in the workflow's order. */
const VALID_ACTIONS: Record<TicketState, readonly string[]> = {
  OPEN: [resolve, close],
  RESOLVED: [close, reopen],
  CLOSED: [reopen],
  REOPEN: [resolve, close],
};

const cells = Object.entries(EXPECTED).flatMap(([state, byAction]) =>
  Object.entries(byAction).flatMap(([column, row]) =>
    ACTOR_KINDS.map((kind, index) => ({
      state: state as TicketState,
      action: ACTION_NAMES[column as ActionColumn],
      kind,
      expected: row[index]!,
    })),
  ),
);

describe('applyAction on the default workflow: every state x action x actor', () => {
  it('has one cell per state x action x actor kind', () => {
    expect(cells).toHaveLength(4 * 4 * 6);
  });

  it.each(cells)('$state + $action by $kind -> $expected', ({ state, action, kind, expected }) => {
    const ticket = ticketIn(state);
    const result = applyAction(defaultTicketWorkflow, ticket, input(action), actors[kind], NOW);

    if (expected === DENIED || expected === BAD_STATE || expected === NO_SUCH) {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(expected);
      expect(result.error).toMatchObject({ action });
      expect(result.error.message).toContain(action);
      if (result.error.code === 'INVALID_TRANSITION') {
        expect(result.error.state).toBe(state);
        expect(result.error.validActions).toEqual(VALID_ACTIONS[state]);
        expect(result.error.message).toContain(state);
        for (const valid of VALID_ACTIONS[state]) expect(result.error.message).toContain(valid);
      }
      return;
    }

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.from).toBe(state);
    expect(result.value.to).toBe(expected);
    expect(result.value.ticket.state).toBe(expected);
    expect(result.value.fromStep).toBe(STEP_OF[state]);
    expect(result.value.toStep).toBe(STEP_OF[expected]);
    expect(result.value.ticket.step).toBe(STEP_OF[expected]);
  });
});

describe('applyAction: what a transition changes', () => {
  const apiAdmin = actors.apiAdmin;

  function resolved(comments: readonly string[] = []): Transition {
    const result = applyAction(
      defaultTicketWorkflow,
      ticketIn('OPEN'),
      input(resolve, comments),
      apiAdmin,
      NOW,
    );
    if (!result.ok) throw new Error(result.error.message);
    return result.value;
  }

  it('bumps the version by one and sets updated to now, keeping everything else', () => {
    const before = ticketIn('OPEN');
    const { ticket } = resolved();
    expect(ticket).toEqual({
      ...before,
      state: 'RESOLVED',
      step: STEP_OF.RESOLVED,
      version: before.version + 1,
      updated: NOW.toISOString(),
    });
    expect(ticket.created).toBe(before.created);
  });

  it('does not change the ticket it was given', () => {
    const before = ticketIn('OPEN');
    const copy: unknown = JSON.parse(JSON.stringify(before));
    applyAction(defaultTicketWorkflow, before, input(resolve, ['done']), apiAdmin, NOW);
    expect(before).toEqual(copy);
  });

  it('adds the comments made with the transition to the comment count', () => {
    const { ticket, history } = resolved(['Fixed in 2.4.1', 'Deployed']);
    expect(ticket.commentCount).toBe(ticketIn('OPEN').commentCount + 2);
    expect(history.comments).toEqual(['Fixed in 2.4.1', 'Deployed']);
  });

  it('records a history entry: action, from, to, comments, actor and time', () => {
    expect(resolved(['Fixed']).history).toEqual({
      action: resolve,
      from: 'OPEN',
      to: 'RESOLVED',
      comments: ['Fixed'],
      userId: apiAdmin.userId,
      created: NOW.toISOString(),
    });
  });

  it('reports the steps it moved between', () => {
    expect(resolved()).toMatchObject({
      action: resolve,
      from: 'OPEN',
      to: 'RESOLVED',
      fromStep: 1,
      toStep: 2,
    });
  });

  it('records the author as the actor when the author closes', () => {
    const result = applyAction(
      defaultTicketWorkflow,
      ticketIn('RESOLVED'),
      input(close),
      actors.author,
      NOW,
    );
    expect(result.ok && result.value.history.userId).toBe(AUTHOR_ID);
  });

  it('works on a ticket that relates to an app only, for the app team', () => {
    const ticket = ticketIn('OPEN', { apiId: undefined });
    expect(
      applyAction(defaultTicketWorkflow, ticket, input(resolve), actors.appAdmin, NOW).ok,
    ).toBe(true);
    expect(
      applyAction(defaultTicketWorkflow, ticket, input(resolve), actors.apiAdmin, NOW),
    ).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });

  it('throws for an invalid `now` (a programmer error), on success only', () => {
    const invalid = new Date(Number.NaN);
    expect(() =>
      applyAction(defaultTicketWorkflow, ticketIn('OPEN'), input(resolve), apiAdmin, invalid),
    ).toThrow(RangeError);
    // A refusal needs no time, so it is still a value.
    expect(
      applyAction(defaultTicketWorkflow, ticketIn('CLOSED'), input(resolve), apiAdmin, invalid).ok,
    ).toBe(false);
  });
});

describe('applyAction: the order of the checks', () => {
  const codeOf = (
    ticket: Ticket,
    actionName: string,
    kind: ActorKind,
    expectedVersion?: number,
  ): DomainError['code'] | 'ok' => {
    const result = applyAction(
      defaultTicketWorkflow,
      ticket,
      input(actionName),
      actors[kind],
      NOW,
      expectedVersion === undefined ? {} : { expectedVersion },
    );
    return result.ok ? 'ok' : result.error.code;
  };

  it('checks first whether the workflow knows the action (names are case-sensitive)', () => {
    expect(codeOf(ticketIn('CLOSED'), UNKNOWN, 'foreignUser', 1)).toBe('UNKNOWN_ACTION');
    expect(codeOf(ticketIn('OPEN'), 'ticket.action.Resolve', 'siteAdmin')).toBe('UNKNOWN_ACTION');
    expect(codeOf(ticketIn('OPEN'), 'Resolve', 'siteAdmin')).toBe('UNKNOWN_ACTION');
  });

  it('then the rights, then the expected version, then the state', () => {
    const closed = ticketIn('CLOSED'); // version 7
    expect(codeOf(closed, resolve, 'author', 6)).toBe('NOT_ALLOWED');
    expect(codeOf(closed, resolve, 'apiAdmin', 6)).toBe('VERSION_MISMATCH');
    expect(codeOf(closed, resolve, 'apiAdmin', 7)).toBe('INVALID_TRANSITION');
    expect(codeOf(closed, reopen, 'author', 6)).toBe('VERSION_MISMATCH');
    expect(codeOf(closed, reopen, 'author', 7)).toBe('ok');
    expect(codeOf(closed, reopen, 'author')).toBe('ok');
  });

  it('names the expected and the actual version on a mismatch', () => {
    const result = applyAction(
      defaultTicketWorkflow,
      ticketIn('OPEN'),
      input(resolve),
      actors.siteAdmin,
      NOW,
      { expectedVersion: 3 },
    );
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'VERSION_MISMATCH',
        expected: 3,
        actual: 7,
        message: 'the ticket is at version 7, not 3',
      },
    });
  });

  it('explains an unknown action with the actions the workflow has', () => {
    const result = applyAction(
      defaultTicketWorkflow,
      ticketIn('OPEN'),
      input(UNKNOWN),
      actors.apiAdmin,
      NOW,
    );
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'UNKNOWN_ACTION',
        action: UNKNOWN,
        message: `unknown action "${UNKNOWN}"; the workflow "ticket" has ${resolve}, ${close}, ${reopen}`,
      },
    });
  });

  it('says who may, when not allowed', () => {
    const refusal = (ticket: Ticket, action: string, kind: ActorKind) => {
      const result = applyAction(defaultTicketWorkflow, ticket, input(action), actors[kind], NOW);
      return result.ok ? undefined : result.error.message;
    };
    expect(refusal(ticketIn('OPEN'), resolve, 'author')).toBe(
      `${resolve}: only an admin of the ticket's API or app or a site admin may do this`,
    );
    expect(refusal(ticketIn('OPEN'), close, 'otherUser')).toBe(
      `${close}: only an admin of the ticket's API or app or a site admin or the ticket's author may do this`,
    );
    expect(refusal(ticketIn('OPEN'), close, 'foreignUser')).toBe(
      `${close}: only users of the ticket's tenant may do this`,
    );
  });

  it('names the state and the valid actions on an invalid transition', () => {
    const result = applyAction(
      defaultTicketWorkflow,
      ticketIn('CLOSED'),
      input(resolve),
      actors.siteAdmin,
      NOW,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const expected: InvalidTransitionError = {
      code: 'INVALID_TRANSITION',
      action: resolve,
      state: 'CLOSED',
      validActions: [reopen],
      message: `${resolve} is not available while the ticket is CLOSED; valid actions: ${reopen}`,
    };
    expect(result.error).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// availableActions: per state, the actions of the step and who is allowed to take them.
// ---------------------------------------------------------------------------------------------

const ADMINS_ONLY = "only an admin of the ticket's API or app or a site admin may do this";
const ADMINS_OR_AUTHOR =
  "only an admin of the ticket's API or app or a site admin or the ticket's author may do this";
const TENANT_ONLY = "only users of the ticket's tenant may do this";

/** Who may take each action of the default workflow, and what the others are told. */
const WHO_MAY: Record<string, { kinds: readonly ActorKind[]; reason: string }> = {
  [resolve]: { kinds: ['apiAdmin', 'appAdmin', 'siteAdmin'], reason: ADMINS_ONLY },
  [close]: { kinds: ['apiAdmin', 'appAdmin', 'siteAdmin', 'author'], reason: ADMINS_OR_AUTHOR },
  [reopen]: { kinds: ['apiAdmin', 'appAdmin', 'siteAdmin', 'author'], reason: ADMINS_OR_AUTHOR },
};
const LABELS: Record<string, string> = {
  [resolve]: 'Resolve',
  [close]: 'Close',
  [reopen]: 'Reopen',
};

describe('availableActions on the default workflow', () => {
  const rows = Object.entries(VALID_ACTIONS).flatMap(([state, names]) =>
    ACTOR_KINDS.map((kind) => ({ state: state as TicketState, names, kind })),
  );

  it.each(rows)('$state for $kind', ({ state, names, kind }) => {
    const listed = availableActions(defaultTicketWorkflow, ticketIn(state), actors[kind]);
    expect(listed.map((action) => action.name)).toEqual(names);
    for (const action of listed) {
      const rule = WHO_MAY[action.name]!;
      expect(action.label).toBe(LABELS[action.name]);
      if (rule.kinds.includes(kind)) {
        expect(action).toEqual({ name: action.name, label: action.label, allowed: true });
        expect(action).not.toHaveProperty('reason');
      } else {
        expect(action).toEqual({
          name: action.name,
          label: action.label,
          allowed: false,
          reason: kind === 'foreignUser' ? TENANT_ONLY : rule.reason,
        });
      }
    }
  });

  it('lists nothing for a ticket on a step the workflow does not have', () => {
    const lost = ticketIn('OPEN', { step: 99 });
    expect(availableActions(defaultTicketWorkflow, lost, actors.siteAdmin)).toEqual([]);
    expect(
      applyAction(defaultTicketWorkflow, lost, input(resolve), actors.siteAdmin, NOW),
    ).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_TRANSITION',
        state: 'OPEN',
        validActions: [],
        message: `${resolve} is not available while the ticket is OPEN; valid actions: none`,
      },
    });
  });
});

describe('startTicket', () => {
  const draft = {
    id: formatTicketId('ticket9', 'acme'),
    tenant: 'acme',
    title: 'Sandbox keys expire early',
    description: 'Keys expire after 1 h instead of 24 h.',
    environment: 'Sandbox' as const,
    appId: 'shop.acme',
    labels: [],
    tags: ['keys'],
    authorId: AUTHOR_ID,
  };

  it('starts in OPEN on step 1 at version 1, with no comments, created = updated = now', () => {
    expect(startTicket(defaultTicketWorkflow, draft, NOW)).toEqual({
      ...draft,
      state: 'OPEN',
      step: 1,
      version: 1,
      commentCount: 0,
      created: NOW.toISOString(),
      updated: NOW.toISOString(),
    });
  });

  it('gives a ticket the author may close and only admins may resolve', () => {
    const ticket = startTicket(defaultTicketWorkflow, draft, NOW);
    expect(availableActions(defaultTicketWorkflow, ticket, actors.author)).toEqual([
      { name: resolve, label: 'Resolve', allowed: false, reason: ADMINS_ONLY },
      { name: close, label: 'Close', allowed: true },
    ]);
  });

  it('throws for an invalid `now`', () => {
    expect(() => startTicket(defaultTicketWorkflow, draft, new Date('not a date'))).toThrow(
      RangeError,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Definitions other than the default: conditional results, staying on a step, post-functions,
// unrestricted actions.
// ---------------------------------------------------------------------------------------------

function customAction(
  overrides: Partial<WorkflowAction> & Pick<WorkflowAction, 'name'>,
): WorkflowAction {
  return {
    id: 1,
    label: overrides.name,
    conditionalResults: [],
    unconditionalResult: { step: -1, postFunctions: [] },
    postFunctions: [],
    ...overrides,
  };
}

function customWorkflow(actions: readonly WorkflowAction[]): WorkflowDefinition {
  return {
    name: 'custom',
    initialAction: customAction({
      name: '@Create',
      unconditionalResult: { step: 1, postFunctions: [] },
    }),
    steps: [
      { id: 1, name: 'Open', actions },
      { id: 2, name: 'Triaged', actions: [] },
      { id: 3, name: 'Escalated', actions: [] },
    ],
  };
}

describe('applyAction on other definitions', () => {
  const ticket = ticketIn('OPEN', { step: 1 });

  it('takes the first conditional result whose conditions hold, else the unconditional one', () => {
    const triage = customAction({
      name: 'triage',
      conditionalResults: [
        {
          step: 3,
          conditions: {
            kind: 'group',
            type: 'AND',
            conditions: [{ kind: 'condition', type: 'isAuthor', negate: false }],
          },
          postFunctions: [{ type: 'updateTicketStatus', status: 'REOPEN' }],
        },
        {
          step: 2,
          conditions: {
            kind: 'group',
            type: 'OR',
            conditions: [{ kind: 'condition', type: 'isSiteAdmin', negate: false }],
          },
          postFunctions: [{ type: 'updateTicketStatus', status: 'RESOLVED' }],
        },
      ],
      unconditionalResult: { step: 2, postFunctions: [] },
    });
    const workflow = customWorkflow([triage]);
    const by = (kind: ActorKind) => {
      const result = applyAction(workflow, ticket, input('triage'), actors[kind], NOW);
      return result.ok ? [result.value.toStep, result.value.to] : result.error.code;
    };
    expect(by('author')).toEqual([3, 'REOPEN']);
    expect(by('siteAdmin')).toEqual([2, 'RESOLVED']);
    expect(by('apiAdmin')).toEqual([2, 'OPEN']);
  });

  it('stays on the current step for step -1, and the action post-function has the last word', () => {
    const relabel = customAction({
      name: 'relabel',
      unconditionalResult: {
        step: -1,
        postFunctions: [{ type: 'updateTicketStatus', status: 'RESOLVED' }],
      },
      postFunctions: [{ type: 'updateTicketStatus', status: 'CLOSED' }],
    });
    const result = applyAction(
      customWorkflow([relabel]),
      ticket,
      input('relabel'),
      actors.otherUser,
      NOW,
    );
    expect(result).toMatchObject({
      ok: true,
      value: { fromStep: 1, toStep: 1, from: 'OPEN', to: 'CLOSED', ticket: { step: 1 } },
    });
  });

  it('lets every user of the tenant take an unrestricted action, and nobody else', () => {
    const workflow = customWorkflow([customAction({ name: 'ping' })]);
    for (const kind of ACTOR_KINDS) {
      const result = applyAction(workflow, ticket, input('ping'), actors[kind], NOW);
      expect(result.ok, kind).toBe(kind !== 'foreignUser');
    }
    expect(availableActions(workflow, ticket, actors.foreignUser)).toEqual([
      { name: 'ping', label: 'ping', allowed: false, reason: TENANT_ONLY },
    ]);
  });

  it('starts a ticket in the state and step its initial action gives', () => {
    const workflow: WorkflowDefinition = {
      ...customWorkflow([]),
      initialAction: customAction({
        name: '@Create',
        unconditionalResult: {
          step: 2,
          postFunctions: [{ type: 'updateTicketStatus', status: 'RESOLVED' }],
        },
      }),
    };
    const started = startTicket(workflow, { ...ticketIn('OPEN') }, NOW);
    expect([started.state, started.step]).toEqual(['RESOLVED', 2]);
  });
});

describe('reachableStates', () => {
  const at = (reached: ReadonlyMap<TicketState, number>) => Object.fromEntries(reached);
  const siteAdmin = (negate: boolean): ConditionGroup => ({
    kind: 'group',
    type: 'AND',
    conditions: [{ kind: 'condition', type: 'isSiteAdmin', negate }],
  });
  const siteAdmins = siteAdmin(false);
  const notSiteAdmins = siteAdmin(true);

  it('gives every state of the default workflow, on the step the actions lead to', () => {
    expect(at(reachableStates(defaultTicketWorkflow, ticketIn('OPEN')))).toEqual(STEP_OF);
    // Once closed, a ticket is never OPEN again: reopening makes it REOPEN.
    expect(at(reachableStates(defaultTicketWorkflow, ticketIn('CLOSED')))).toEqual({
      CLOSED: STEP_OF.CLOSED,
      REOPEN: STEP_OF.REOPEN,
      RESOLVED: STEP_OF.RESOLVED,
    });
  });

  it('follows conditional results and their post-functions, and the results of step -1', () => {
    const escalate = customAction({
      name: 'escalate',
      conditionalResults: [
        {
          step: 3,
          conditions: siteAdmins,
          postFunctions: [{ type: 'updateTicketStatus', status: 'CLOSED' }],
        },
      ],
      unconditionalResult: {
        step: -1,
        postFunctions: [{ type: 'updateTicketStatus', status: 'RESOLVED' }],
      },
    });
    expect(at(reachableStates(customWorkflow([escalate]), ticketIn('OPEN', { step: 1 })))).toEqual({
      OPEN: 1,
      RESOLVED: 1,
      CLOSED: 3,
    });
  });

  it('leaves out what no user can get: a result whose conditions the action excludes, an action for nobody', () => {
    const unreachableResult = customAction({
      name: 'triage',
      restrictTo: notSiteAdmins,
      conditionalResults: [
        {
          step: 3,
          conditions: siteAdmins,
          postFunctions: [{ type: 'updateTicketStatus', status: 'CLOSED' }],
        },
      ],
      unconditionalResult: { step: 2, postFunctions: [] },
    });
    const forNobody = customAction({
      name: 'shelve',
      restrictTo: { kind: 'group', type: 'OR', conditions: [] },
      unconditionalResult: {
        step: 2,
        postFunctions: [{ type: 'updateTicketStatus', status: 'REOPEN' }],
      },
    });
    const workflow = customWorkflow([unreachableResult, forNobody]);
    expect(at(reachableStates(workflow, ticketIn('OPEN', { step: 1 })))).toEqual({ OPEN: 1 });
  });
});
