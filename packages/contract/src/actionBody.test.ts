import { ACTION_INPUT_LIMITS } from '@tickets/domain';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { fieldPath } from './errors.js';
import { RunActionInput } from './schemas.js';
import { ActionBody, CommentBody } from './wire.js';

const RESOLVE = 'ticket.action.resolve';

/** What an adapter makes of a parse: the value, or the first problem's field and message. */
function parse<S extends z.ZodType>(schema: S, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true as const, value: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false as const, field: fieldPath(issue.path) || 'body', message: issue.message };
}
const action = (body: unknown) => parse(ActionBody, body);

describe('the Action body: ActionName', () => {
  it('keeps the name exactly as sent, case included', () => {
    expect(action({ ActionName: 'Ticket.Action.RESOLVE' })).toEqual({
      ok: true,
      value: { ActionName: 'Ticket.Action.RESOLVE', Comments: [] },
    });
  });

  it.each([
    ['missing', {}],
    ['null', { ActionName: null }],
    ['empty', { ActionName: '' }],
  ])('requires it (%s)', (_, body) => {
    expect(action(body)).toEqual({
      ok: false,
      field: 'ActionName',
      message: 'ActionName is required',
    });
  });

  it.each([[42], [true], [[RESOLVE]], [{ name: RESOLVE }]])('refuses a non-string: %j', (name) => {
    expect(action({ ActionName: name })).toEqual({
      ok: false,
      field: 'ActionName',
      message: 'ActionName must be a string',
    });
  });

  it.each([[' ticket.action.resolve'], ['ticket.action.resolve\n'], ['   ']])(
    'refuses surrounding spaces: %j',
    (name) => {
      expect(action({ ActionName: name })).toEqual({
        ok: false,
        field: 'ActionName',
        message: 'ActionName may not have surrounding spaces',
      });
    },
  );

  it('accepts a name of exactly the limit, and refuses a longer one', () => {
    const name = 'a'.repeat(ACTION_INPUT_LIMITS.actionName);
    expect(action({ ActionName: name })).toMatchObject({ ok: true, value: { ActionName: name } });
    expect(action({ ActionName: `${name}a` })).toEqual({
      ok: false,
      field: 'ActionName',
      message: `ActionName must be at most ${ACTION_INPUT_LIMITS.actionName} characters`,
    });
  });

  it.each([[null], [undefined], ['ticket.action.resolve'], [[{ ActionName: RESOLVE }]], [7]])(
    'refuses a body that is no Action object: %j',
    (body) => {
      expect(action(body)).toEqual({
        ok: false,
        field: 'body',
        message: 'the body must be an Action object',
      });
    },
  );

  it('ignores other fields, such as UserID', () => {
    expect(action({ ActionName: RESOLVE, UserID: 'root.acme', Extra: 1 })).toEqual({
      ok: true,
      value: { ActionName: RESOLVE, Comments: [] },
    });
  });
});

describe('the Action body: Comments', () => {
  const comments = (Comments: unknown) => action({ ActionName: RESOLVE, Comments });

  it('accepts a single string', () => {
    expect(comments('Fixed in 2.4.1')).toMatchObject({
      ok: true,
      value: { Comments: ['Fixed in 2.4.1'] },
    });
  });

  it('accepts an array of strings, in order', () => {
    expect(comments(['one', 'two'])).toMatchObject({
      ok: true,
      value: { Comments: ['one', 'two'] },
    });
  });

  it('trims each comment and drops empty ones', () => {
    expect(comments(['  one ', '', ' \n\t ', 'two\n'])).toMatchObject({
      ok: true,
      value: { Comments: ['one', 'two'] },
    });
    expect(comments('   ')).toMatchObject({ ok: true, value: { Comments: [] } });
  });

  it('treats missing, null and [] as no comments', () => {
    for (const none of [undefined, null, []]) {
      expect(comments(none)).toMatchObject({ ok: true, value: { Comments: [] } });
    }
  });

  it('refuses a comment that is no string, naming the field', () => {
    expect(comments(42)).toMatchObject({ ok: false, field: 'Comments' });
    expect(comments({ text: 'x' })).toMatchObject({ ok: false, field: 'Comments' });
    expect(comments(['fine', null])).toMatchObject({ ok: false, field: 'Comments' });
  });

  it('allows comments up to the length limit, measured after trimming', () => {
    const longest = 'x'.repeat(ACTION_INPUT_LIMITS.comment);
    expect(comments(`  ${longest}  `)).toMatchObject({ ok: true, value: { Comments: [longest] } });
    expect(comments(['ok', `${longest}x`])).toEqual({
      ok: false,
      field: 'Comments[1]',
      message: `Comments is longer than ${ACTION_INPUT_LIMITS.comment} characters`,
    });
  });

  it('allows at most 20 comments', () => {
    const twenty = Array.from({ length: ACTION_INPUT_LIMITS.comments }, (_, i) => `c${i}`);
    expect(comments(twenty)).toMatchObject({ ok: true });
    expect(comments([...twenty, 'one more'])).toEqual({
      ok: false,
      field: 'Comments',
      message: `at most ${ACTION_INPUT_LIMITS.comments} comments`,
    });
  });
});

describe('text that XML could not carry', () => {
  it.each([
    ['a NUL', 'fixed\u0000'],
    ['a bell', 'ding\u0007'],
    ['a form feed', 'page\u000c'],
    ['U+FFFF', 'odd\uffff'],
    ['a lone high surrogate', 'half\ud83d'],
    ['a lone low surrogate', '\ude00half'],
  ])('refuses a comment with %s, naming the field', (_what, text) => {
    expect(comments2(['ok', text])).toEqual({
      ok: false,
      field: 'Comments[1]',
      message: 'Comments contains control characters',
    });
  });

  it('accepts tabs, line breaks and characters outside the BMP', () => {
    const text = 'line one\n\tline two\r\nwith an emoji \ud83d\ude00';
    expect(comments2(text)).toEqual({
      ok: true,
      value: { ActionName: RESOLVE, Comments: [text.trim()] },
    });
  });
});

function comments2(Comments: unknown) {
  return action({ ActionName: RESOLVE, Comments });
}

describe('the typed surface shares the rules, naming its own fields', () => {
  it('decodes an action with one comment or many', () => {
    expect(
      parse(RunActionInput, { id: 'ticket1.acme', action: RESOLVE, comments: ' Fixed ' }),
    ).toEqual({
      ok: true,
      value: { id: 'ticket1.acme', action: RESOLVE, comments: ['Fixed'], dryRun: false },
    });
  });

  it('refuses a malformed TicketID with the domain’s message', () => {
    expect(parse(RunActionInput, { id: 'ticket1', action: RESOLVE })).toMatchObject({
      ok: false,
      field: 'id',
      message: expect.stringContaining('{local}.{tenant}'),
    });
  });

  it('names its own field in limits', () => {
    expect(
      parse(RunActionInput, { id: 'ticket1.acme', action: RESOLVE, comments: ['x'.repeat(4001)] }),
    ).toEqual({
      ok: false,
      field: 'comments[0]',
      message: 'comments is longer than 4000 characters',
    });
  });
});

describe('the Comment body', () => {
  it('requires content that is not blank, and trims it', () => {
    expect(parse(CommentBody, { Content: '  hi ' })).toEqual({
      ok: true,
      value: { Content: 'hi' },
    });
    for (const content of [undefined, '', '  \n ']) {
      expect(parse(CommentBody, { Content: content })).toEqual({
        ok: false,
        field: 'Content',
        message: 'Content is required',
      });
    }
  });
});
