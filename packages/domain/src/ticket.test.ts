import { describe, expect, it } from 'vitest';
import {
  ENVIRONMENTS,
  PRIORITY_LABELS,
  TICKET_STATES,
  isTicketState,
  resourcesOf,
} from './ticket.js';

describe('ticket vocabulary', () => {
  it('has the four states, upper case, exactly', () => {
    expect(TICKET_STATES).toEqual(['OPEN', 'RESOLVED', 'CLOSED', 'REOPEN']);
    expect(ENVIRONMENTS).toEqual(['Sandbox', 'Production']);
    expect(PRIORITY_LABELS).toEqual([
      'com.soa.ticket.label.priority.high',
      'com.soa.ticket.label.priority.medium',
      'com.soa.ticket.label.priority.low',
    ]);
  });

  it('recognises states case-sensitively', () => {
    for (const state of TICKET_STATES) expect(isTicketState(state)).toBe(true);
    for (const other of ['open', 'Resolved', 'REOPENED', '', undefined, 1, null]) {
      expect(isTicketState(other)).toBe(false);
    }
  });
});

describe('resourcesOf', () => {
  it('lists the APIID and the AppID that are set', () => {
    expect(resourcesOf({ apiId: 'payments.acme', appId: 'shop.acme' })).toEqual([
      'payments.acme',
      'shop.acme',
    ]);
    expect(resourcesOf({ appId: 'shop.acme' })).toEqual(['shop.acme']);
    expect(resourcesOf({ apiId: '', appId: undefined })).toEqual([]);
  });
});
