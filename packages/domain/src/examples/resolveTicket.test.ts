import { describe, expect, it } from 'vitest';
import readme from '../../README.md?raw';
import exampleSource from './resolveTicket.ts?raw';
import { explain, resolveTicket } from './resolveTicket.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('the README example', () => {
  it('runs: Bob is refused, Ada resolves', () => {
    const { refusal, offeredToBob, resolved } = resolveTicket(NOW);
    expect(refusal).toBe(
      "not allowed: ticket.action.resolve: only an admin of the ticket's API or app or a site admin may do this",
    );
    expect(offeredToBob).toEqual(['Close']);
    expect(resolved.ok).toBe(true);
    if (!resolved.ok) return;
    expect(resolved.value.ticket).toMatchObject({
      id: 'ticket1.acme',
      state: 'RESOLVED',
      step: 2,
      version: 2,
      commentCount: 1,
      created: NOW.toISOString(),
      updated: NOW.toISOString(),
    });
    expect(resolved.value.history).toEqual({
      action: 'ticket.action.resolve',
      from: 'OPEN',
      to: 'RESOLVED',
      comments: ['Fixed in 2.4.1'],
      userId: 'ada.acme',
      created: NOW.toISOString(),
    });
  });

  it('explains every error code', () => {
    expect(explain({ code: 'INVALID_INPUT', field: 'ActionName', message: 'required' })).toBe(
      'bad ActionName: required',
    );
    expect(explain({ code: 'UNKNOWN_ACTION', action: 'x', message: '' })).toBe('no such action: x');
    expect(explain({ code: 'NOT_ALLOWED', action: 'x', message: 'no' })).toBe('not allowed: no');
    expect(explain({ code: 'VERSION_MISMATCH', expected: 1, actual: 2, message: '' })).toBe(
      'changed meanwhile: now at version 2',
    );
    expect(
      explain({
        code: 'INVALID_TRANSITION',
        action: 'ticket.action.resolve',
        state: 'CLOSED',
        validActions: ['ticket.action.reopen'],
        message: '',
      }),
    ).toBe('CLOSED: try ticket.action.reopen');
  });

  it('is shown in the README exactly as it is in src/examples/resolveTicket.ts', () => {
    // The README imports the package by name; the example file, inside the package, by path.
    const asPublished = exampleSource.replace("from '../index.js';", "from '@tickets/domain';");
    expect(asPublished).toContain("from '@tickets/domain';");
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks).toContain(asPublished);
  });
});
