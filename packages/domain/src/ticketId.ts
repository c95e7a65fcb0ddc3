import { invalidInput, type InvalidInputError } from './errors.js';
import { err, ok, type Result } from './result.js';

/** `{local}.{tenant}`, e.g. `ticket25687.acmepaymentscorp`. */
export type TicketId = string & { readonly __brand: 'TicketId' };

export interface ParsedId {
  readonly local: string;
  readonly tenant: string;
}

/** Tenant ids (fedmemberid): a letter, then letters, digits, `_` or `-`; at most 64 characters. */
export const TENANT_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Local parts: letters, digits, `_`, `-`, `:` and inner dots; at most 128 characters. */
const LOCAL_PATTERN = /^[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+)*$/;
const MAX_LOCAL = 128;
/** The whole of a TicketID (or any platform id) as one pattern, for documents and forms. */
export const TICKET_ID_PATTERN = new RegExp(
  `^${LOCAL_PATTERN.source.slice(1, -1)}\\.${TENANT_ID_PATTERN.source.slice(1, -1)}$`,
);

export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

/**
 * Splits a platform id `{local}.{tenant}` at its last dot. The same rule holds for every id of
 * the platform (tickets, users, APIs, apps), so `field` names which one was bad.
 */
export function parseId(value: unknown, field = 'id'): Result<ParsedId, InvalidInputError> {
  if (typeof value !== 'string' || value.length === 0) {
    return err(invalidInput(field, `${field} is required`));
  }
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || dot === value.length - 1) {
    return err(invalidInput(field, `${field} must look like {local}.{tenant}, e.g. ticket1.acme`));
  }
  const local = value.slice(0, dot);
  const tenant = value.slice(dot + 1);
  if (!isTenantId(tenant)) {
    return err(invalidInput(field, `${field} has an invalid tenant suffix "${tenant}"`));
  }
  if (local.length > MAX_LOCAL || !LOCAL_PATTERN.test(local)) {
    return err(
      invalidInput(
        field,
        `${field} has an invalid local part (letters, digits, _ - : and inner dots; at most ${MAX_LOCAL})`,
      ),
    );
  }
  return ok({ local, tenant });
}

export function parseTicketId(
  value: unknown,
): Result<{ id: TicketId } & ParsedId, InvalidInputError> {
  const parsed = parseId(value, 'TicketID');
  if (!parsed.ok) return parsed;
  return ok({ id: value as TicketId, ...parsed.value });
}

export function formatTicketId(local: string, tenant: string): TicketId {
  const id = `${local}.${tenant}`;
  const parsed = parseTicketId(id);
  if (!parsed.ok) throw new TypeError(parsed.error.message);
  return parsed.value.id;
}

/** The tenant an id belongs to, or undefined when the id is malformed. */
export function tenantOf(id: string): string | undefined {
  const parsed = parseId(id);
  return parsed.ok ? parsed.value.tenant : undefined;
}

/** The tenant of a TicketID already parsed: the part after its last dot. */
export function tenantOfTicket(id: TicketId): string {
  return id.slice(id.lastIndexOf('.') + 1);
}
