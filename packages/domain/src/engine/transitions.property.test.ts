import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../actor.js';
import type { DomainError } from '../errors.js';
import { TICKET_STATES, type Ticket, type TicketState } from '../ticket.js';
import { defaultTicketWorkflow } from '../workflow/defaultWorkflow.js';
import { ACTOR_KINDS, actors, ticketIn, type ActorKind } from '../test/fixtures.js';
import { applyAction, availableActions, type HistoryEntry } from './transitions.js';

// The contract (CONTRACT §2), written here independently of the workflow definition under test.
const RESOLVE = 'ticket.action.resolve';
const CLOSE = 'ticket.action.close';
const REOPEN = 'ticket.action.reopen';

const CONTRACT_TABLE: Record<TicketState, Record<string, TicketState>> = {
  OPEN: { [RESOLVE]: 'RESOLVED', [CLOSE]: 'CLOSED' },
  RESOLVED: { [CLOSE]: 'CLOSED', [REOPEN]: 'REOPEN' },
  CLOSED: { [REOPEN]: 'REOPEN' },
  REOPEN: { [RESOLVE]: 'RESOLVED', [CLOSE]: 'CLOSED' },
};

/** resolve: admins of the ticket's resources and site admins; close and reopen: also the author. */
const MAY: Record<string, readonly ActorKind[]> = {
  [RESOLVE]: ['apiAdmin', 'appAdmin', 'siteAdmin'],
  [CLOSE]: ['apiAdmin', 'appAdmin', 'siteAdmin', 'author'],
  [REOPEN]: ['apiAdmin', 'appAdmin', 'siteAdmin', 'author'],
};
const KNOWN = [RESOLVE, CLOSE, REOPEN];

/** What the contract says should happen, with its order of checks. */
function modelOutcome(state: TicketState, action: string, kind: ActorKind): TicketState | string {
  if (!KNOWN.includes(action)) return 'UNKNOWN_ACTION';
  if (!MAY[action]!.includes(kind)) return 'NOT_ALLOWED';
  return CONTRACT_TABLE[state][action] ?? 'INVALID_TRANSITION';
}

// Arbitraries ---------------------------------------------------------------------------------

const knownAction = fc.constantFrom(...KNOWN);
const unknownAction = fc.oneof(
  fc.constantFrom(
    'ticket.action.Resolve',
    'TICKET.ACTION.CLOSE',
    'ticket.action.delete',
    'resolve',
    '@Create',
    'comment',
  ),
  fc.stringMatching(/^[a-z][a-z.]{0,30}$/).filter((name) => !KNOWN.includes(name)),
);
const actionName = fc.oneof(
  { weight: 4, arbitrary: knownAction },
  { weight: 1, arbitrary: unknownAction },
);
const actorKind = fc.constantFrom(...ACTOR_KINDS);
const comments = fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constant('   ')), {
  maxLength: 3,
});
const instant = fc.date({
  min: new Date('2020-01-01T00:00:00Z'),
  max: new Date('2040-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const step = fc.record({ action: actionName, kind: actorKind, comments, now: instant });
const startState = fc.constantFrom(...TICKET_STATES);
const startVersion = fc.integer({ min: 1, max: 1_000_000 });

interface Run {
  readonly start: Ticket;
  readonly end: Ticket;
  readonly history: readonly HistoryEntry[];
  readonly states: readonly TicketState[];
}

/** Applies every step in turn; failures leave the ticket as it was. Checks each step on the way. */
function run(
  start: Ticket,
  steps: readonly { action: string; kind: ActorKind; comments: string[]; now: Date }[],
): Run {
  let ticket = start;
  const history: HistoryEntry[] = [];
  const states: TicketState[] = [start.state];
  for (const { action, kind, comments: said, now } of steps) {
    const actor: Actor = actors[kind];
    const listed = availableActions(defaultTicketWorkflow, ticket, actor);
    const result = applyAction(
      defaultTicketWorkflow,
      ticket,
      { actionName: action, comments: said },
      actor,
      now,
    );

    // The engine does what the contract table and rights say.
    const expected = modelOutcome(ticket.state, action, kind);
    expect(result.ok ? result.value.to : result.error.code).toBe(expected);

    // availableActions and applyAction agree.
    expect(listed.map((a) => a.name).sort()).toEqual(
      Object.keys(CONTRACT_TABLE[ticket.state]).sort(),
    );
    const entry = listed.find((a) => a.name === action);
    if (entry?.allowed === true) expect(result.ok).toBe(true);
    else if (entry) expect(result).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    else {
      expect(result.ok).toBe(false);
      const allowedCodes: DomainError['code'][] = [
        'INVALID_TRANSITION',
        'NOT_ALLOWED',
        'UNKNOWN_ACTION',
      ];
      if (!result.ok) expect(allowedCodes).toContain(result.error.code);
    }

    if (result.ok) {
      // Only ever along the table.
      expect(CONTRACT_TABLE[ticket.state][action]).toBe(result.value.to);
      expect(result.value.ticket.version).toBeGreaterThan(ticket.version);
      ticket = result.value.ticket;
      history.push(result.value.history);
      states.push(ticket.state);
    }
  }
  return { start, end: ticket, history, states };
}

describe('applyAction on the default workflow, by property', () => {
  it('follows the contract table, agrees with availableActions, and keeps an exact history', () => {
    fc.assert(
      fc.property(
        startState,
        startVersion,
        fc.array(step, { maxLength: 40 }),
        (state, version, steps) => {
          const start = ticketIn(state, { version });
          const { end, history, states } = run(start, steps);

          // Versions strictly increase, one per successful action.
          expect(end.version).toBe(start.version + history.length);

          // The history reproduces the path of states.
          expect([start.state, ...history.map((entry) => entry.to)]).toEqual(states);
          history.forEach((entry, index) => {
            expect(entry.from).toBe(states[index]);
            expect(CONTRACT_TABLE[entry.from][entry.action]).toBe(entry.to);
          });
          expect(history.at(-1)?.to ?? start.state).toBe(end.state);

          // The comment count is the comments the history holds.
          const said = history.reduce((sum, entry) => sum + entry.comments.length, 0);
          expect(end.commentCount).toBe(start.commentCount + said);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never lets a user of another tenant, or a plain user of the tenant, change a ticket', () => {
    fc.assert(
      fc.property(
        startState,
        actionName,
        fc.constantFrom<ActorKind>('foreignUser', 'otherUser'),
        (state, action, kind) => {
          const result = applyAction(
            defaultTicketWorkflow,
            ticketIn(state),
            { actionName: action, comments: [] },
            actors[kind],
            new Date(0),
          );
          expect(result.ok).toBe(false);
          for (const listed of availableActions(
            defaultTicketWorkflow,
            ticketIn(state),
            actors[kind],
          )) {
            expect(listed.allowed).toBe(false);
            expect(listed.reason).toMatch(/^only /);
          }
        },
      ),
    );
  });

  it('reaches every state of the table from OPEN', () => {
    // A sanity check on the generators: the paths above are not stuck in OPEN.
    const seen = new Set<TicketState>();
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 20 }), (steps) => {
        for (const state of run(ticketIn('OPEN'), steps).states) seen.add(state);
      }),
      { numRuns: 100, seed: 42 },
    );
    expect([...seen].sort()).toEqual([...TICKET_STATES].sort());
  });
});
