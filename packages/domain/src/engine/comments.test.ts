import { describe, expect, it } from 'vitest';
import { ACTOR_KINDS, NOW, actors, ticketIn } from '../test/fixtures.js';
import { COMMENT_ACTION, addComment, canSee } from './comments.js';

describe('canSee', () => {
  it("lets every user of the ticket's tenant see it, and nobody else", () => {
    for (const kind of ACTOR_KINDS) {
      expect(canSee(actors[kind], ticketIn('OPEN')), kind).toBe(kind !== 'foreignUser');
    }
  });
});

describe('addComment', () => {
  it('records a comment without a transition: From = To, version + 1, count + 1, updated = now', () => {
    const before = ticketIn('CLOSED');
    const result = addComment(before, 'Still failing on 2.4.2', actors.otherUser, NOW);
    expect(result).toEqual({
      ok: true,
      value: {
        content: 'Still failing on 2.4.2',
        ticket: {
          ...before,
          version: before.version + 1,
          commentCount: before.commentCount + 1,
          updated: NOW.toISOString(),
        },
        history: {
          action: COMMENT_ACTION,
          from: 'CLOSED',
          to: 'CLOSED',
          comments: ['Still failing on 2.4.2'],
          userId: actors.otherUser.userId,
          created: NOW.toISOString(),
        },
      },
    });
    expect(COMMENT_ACTION).toBe('comment');
  });

  it('lets every user of the tenant comment, in every state', () => {
    for (const state of ['OPEN', 'RESOLVED', 'CLOSED', 'REOPEN'] as const) {
      for (const kind of ACTOR_KINDS.filter((k) => k !== 'foreignUser')) {
        expect(addComment(ticketIn(state), 'hi', actors[kind], NOW).ok, `${state} ${kind}`).toBe(
          true,
        );
      }
    }
  });

  it('refuses a user of another tenant ', () => {
    expect(addComment(ticketIn('OPEN'), 'hi', actors.foreignUser, NOW)).toEqual({
      ok: false,
      error: {
        code: 'NOT_ALLOWED',
        action: COMMENT_ACTION,
        message: "only users of the ticket's tenant may comment",
      },
    });
  });

  it('refuses a stale version after the rights, and accepts the current one', () => {
    const ticket = ticketIn('OPEN');
    expect(
      addComment(ticket, 'hi', actors.author, NOW, { expectedVersion: ticket.version + 1 }),
    ).toEqual({
      ok: false,
      error: {
        code: 'VERSION_MISMATCH',
        expected: ticket.version + 1,
        actual: ticket.version,
        message: `the ticket is at version ${ticket.version}, not ${ticket.version + 1}`,
      },
    });
    expect(
      addComment(ticket, 'hi', actors.foreignUser, NOW, { expectedVersion: ticket.version + 1 }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    expect(
      addComment(ticket, 'hi', actors.author, NOW, { expectedVersion: ticket.version }).ok,
    ).toBe(true);
  });

  it('throws for an invalid `now`', () => {
    expect(() => addComment(ticketIn('OPEN'), 'hi', actors.author, new Date(Number.NaN))).toThrow(
      RangeError,
    );
  });
});
