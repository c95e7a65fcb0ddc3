import { describe, expect, it } from 'vitest';
import {
  ACTION_INPUT_LIMITS,
  hasForbiddenCharacters,
  parseActionInput,
  parseCommentText,
} from './actionInput.js';

const RESOLVE = 'ticket.action.resolve';

describe('parseActionInput: ActionName', () => {
  it('keeps the name exactly as sent, case included', () => {
    expect(parseActionInput({ ActionName: 'Ticket.Action.RESOLVE' })).toEqual({
      ok: true,
      value: { actionName: 'Ticket.Action.RESOLVE', comments: [] },
    });
  });

  it.each([
    ['missing', {}],
    ['undefined', { ActionName: undefined }],
    ['null', { ActionName: null }],
    ['empty', { ActionName: '' }],
  ])('requires it (%s)', (_, body) => {
    expect(parseActionInput(body)).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'ActionName', message: 'ActionName is required' },
    });
  });

  it.each([[42], [true], [[RESOLVE]], [{ name: RESOLVE }]])('refuses a non-string: %j', (name) => {
    expect(parseActionInput({ ActionName: name })).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'ActionName', message: 'ActionName must be a string' },
    });
  });

  it.each([
    [' ticket.action.resolve'],
    ['ticket.action.resolve\n'],
    ['   '],
    ['a'.repeat(ACTION_INPUT_LIMITS.actionName + 1)],
  ])('refuses surrounding spaces and over-long names: %j', (name) => {
    expect(parseActionInput({ ActionName: name })).toMatchObject({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        field: 'ActionName',
        message: 'ActionName must be at most 128 characters, without surrounding spaces',
      },
    });
  });

  it('accepts a name of exactly the limit', () => {
    const name = 'a'.repeat(ACTION_INPUT_LIMITS.actionName);
    expect(parseActionInput({ ActionName: name })).toMatchObject({
      ok: true,
      value: { actionName: name },
    });
  });

  it.each([[null], [undefined], ['ticket.action.resolve'], [[{ ActionName: RESOLVE }]], [7]])(
    'refuses a body that is no Action object: %j',
    (body) => {
      expect(parseActionInput(body)).toEqual({
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          field: 'Action',
          message: 'the body must be an Action object',
        },
      });
    },
  );

  it('ignores other fields, such as UserID', () => {
    expect(parseActionInput({ ActionName: RESOLVE, UserID: 'root.acme', Extra: 1 })).toEqual({
      ok: true,
      value: { actionName: RESOLVE, comments: [] },
    });
  });
});

describe('parseActionInput: Comments', () => {
  const comments = (Comments: unknown) => parseActionInput({ ActionName: RESOLVE, Comments });

  it('accepts a single string', () => {
    expect(comments('Fixed in 2.4.1')).toMatchObject({
      ok: true,
      value: { comments: ['Fixed in 2.4.1'] },
    });
  });

  it('accepts an array of strings, in order', () => {
    expect(comments(['one', 'two'])).toMatchObject({
      ok: true,
      value: { comments: ['one', 'two'] },
    });
  });

  it('trims each comment and drops empty ones', () => {
    expect(comments(['  one ', '', ' \n\t ', 'two\n'])).toMatchObject({
      ok: true,
      value: { comments: ['one', 'two'] },
    });
    expect(comments('   ')).toMatchObject({ ok: true, value: { comments: [] } });
  });

  it('treats missing, null and [] as no comments', () => {
    for (const none of [undefined, null, []]) {
      expect(comments(none)).toMatchObject({ ok: true, value: { comments: [] } });
    }
  });

  it('refuses a non-string comment, naming it', () => {
    expect(comments(42)).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'Comments', message: 'Comments must be a string' },
    });
    expect(comments({ text: 'x' })).toMatchObject({ ok: false, error: { field: 'Comments' } });
    expect(comments(['fine', null])).toEqual({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        field: 'Comments[1]',
        message: 'Comments[1] must be a string',
      },
    });
  });

  it('allows comments up to the length limit, measured after trimming', () => {
    const longest = 'x'.repeat(ACTION_INPUT_LIMITS.comment);
    expect(comments(`  ${longest}  `)).toMatchObject({ ok: true, value: { comments: [longest] } });
    expect(comments(['ok', `${longest}x`])).toEqual({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        field: 'Comments[1]',
        message: 'Comments[1] is longer than 4000 characters',
      },
    });
  });

  it('allows at most 20 comments, empty ones counted', () => {
    const twenty = Array.from({ length: ACTION_INPUT_LIMITS.comments }, (_, i) => `c${i}`);
    expect(comments(twenty)).toMatchObject({ ok: true });
    expect(comments([...twenty, ''])).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'Comments', message: 'at most 20 comments' },
    });
  });
});

describe('parseCommentText', () => {
  it('trims and names the field it was given', () => {
    expect(parseCommentText('  hi  ', 'Content')).toEqual({ ok: true, value: 'hi' });
    expect(parseCommentText(1, 'Content')).toMatchObject({
      ok: false,
      error: { field: 'Content', message: 'Content must be a string' },
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
    expect(
      parseActionInput({ ActionName: 'ticket.action.resolve', Comments: ['ok', text] }),
    ).toEqual({
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        field: 'Comments[1]',
        message: 'Comments[1] contains control characters',
      },
    });
  });

  it('accepts tabs, line breaks and characters outside the BMP', () => {
    const text = 'line one\n\tline two\r\nwith an emoji \ud83d\ude00';
    expect(hasForbiddenCharacters(text)).toBe(false);
    expect(parseActionInput({ ActionName: 'ticket.action.resolve', Comments: text })).toEqual({
      ok: true,
      value: { actionName: 'ticket.action.resolve', comments: [text.trim()] },
    });
  });
});
