import { describe, expect, it } from 'vitest';
import {
  TENANT_ID_PATTERN,
  formatTicketId,
  isTenantId,
  parseId,
  parseTicketId,
  tenantOf,
  tenantOfTicket,
} from './ticketId.js';

describe('parseTicketId', () => {
  it('splits {local}.{tenant} at the last dot', () => {
    expect(parseTicketId('ticket25687.acmepaymentscorp')).toEqual({
      ok: true,
      value: {
        id: 'ticket25687.acmepaymentscorp',
        local: 'ticket25687',
        tenant: 'acmepaymentscorp',
      },
    });
    expect(parseTicketId('team.ticket-1.acme')).toMatchObject({
      ok: true,
      value: { local: 'team.ticket-1', tenant: 'acme' },
    });
  });

  it.each([
    ['a.b', 'a', 'b'],
    ['x:y_z-1.T3nant_-x', 'x:y_z-1', 'T3nant_-x'],
    [`${'l'.repeat(128)}.${'t'.repeat(64)}`, 'l'.repeat(128), 't'.repeat(64)],
  ])('accepts %s', (id, local, tenant) => {
    expect(parseTicketId(id)).toMatchObject({ ok: true, value: { id, local, tenant } });
  });

  it.each([
    [undefined, 'TicketID is required'],
    [null, 'TicketID is required'],
    ['', 'TicketID is required'],
    [42, 'TicketID is required'],
    [{ id: 'a.b' }, 'TicketID is required'],
    ['ticket1', 'TicketID must look like {local}.{tenant}, e.g. ticket1.acme'],
    ['.acme', 'TicketID must look like {local}.{tenant}, e.g. ticket1.acme'],
    ['ticket1.', 'TicketID must look like {local}.{tenant}, e.g. ticket1.acme'],
    ['ticket1.1acme', 'TicketID has an invalid tenant suffix "1acme"'],
    ['ticket1.ac me', 'TicketID has an invalid tenant suffix "ac me"'],
    [`ticket1.${'t'.repeat(65)}`, `TicketID has an invalid tenant suffix "${'t'.repeat(65)}"`],
    [
      'ticket 1.acme',
      'TicketID has an invalid local part (letters, digits, _ - : and inner dots; at most 128)',
    ],
    [
      'a..b.acme',
      'TicketID has an invalid local part (letters, digits, _ - : and inner dots; at most 128)',
    ],
    [
      `${'l'.repeat(129)}.acme`,
      'TicketID has an invalid local part (letters, digits, _ - : and inner dots; at most 128)',
    ],
    [
      'tick/et.acme',
      'TicketID has an invalid local part (letters, digits, _ - : and inner dots; at most 128)',
    ],
  ])('refuses %j, naming the field', (value, message) => {
    expect(parseTicketId(value)).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', field: 'TicketID', message },
    });
  });
});

describe('parseId', () => {
  it('names the field it was given in every error', () => {
    for (const bad of [undefined, 'nodot', 'a.9', 'a b.acme']) {
      const result = parseId(bad, 'APIID');
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.field).toBe('APIID');
        expect(result.error.message).toMatch(/^APIID /);
      }
    }
  });

  it('calls it "id" by default', () => {
    expect(parseId('x')).toMatchObject({ ok: false, error: { field: 'id' } });
  });
});

describe('formatTicketId', () => {
  it('joins the local part and the tenant', () => {
    expect(formatTicketId('ticket1', 'acme')).toBe('ticket1.acme');
  });

  it('throws a TypeError for parts that make no valid id (a programmer error)', () => {
    expect(() => formatTicketId('ticket 1', 'acme')).toThrow(TypeError);
    expect(() => formatTicketId('ticket1', '')).toThrow(/TicketID/);
  });
});

describe('tenantOf and isTenantId', () => {
  it('gives the tenant of a well-formed id, else undefined', () => {
    expect(tenantOf('ada.acme')).toBe('acme');
    expect(tenantOf('payments.v2.acme')).toBe('acme');
    expect(tenantOf('ada')).toBeUndefined();
    expect(tenantOf('')).toBeUndefined();
  });

  it('accepts tenant ids of a letter then up to 63 letters, digits, _ or -', () => {
    expect(isTenantId('acme')).toBe(true);
    expect(isTenantId('a')).toBe(true);
    expect(isTenantId('Acme_Payments-2')).toBe(true);
    expect(isTenantId('a'.repeat(64))).toBe(true);
    expect(isTenantId('a'.repeat(65))).toBe(false);
    expect(isTenantId('2acme')).toBe(false);
    expect(isTenantId('ac.me')).toBe(false);
    expect(isTenantId('')).toBe(false);
    expect(TENANT_ID_PATTERN.test('acme')).toBe(true);
  });
});

describe('tenantOfTicket', () => {
  it('is the part after the last dot of a parsed TicketID', () => {
    expect(tenantOfTicket(formatTicketId('ticket1.v2', 'acme'))).toBe('acme');
  });
});
